"""What the physician summary says, as plain data: the PDF and the staff page render it.

Every sentence the summary prints is built here, once, from the questionnaire's
definition and the score, so the two renderings cannot drift apart. Nothing here
escapes or lays out text; patient text is carried exactly as typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from intake import scoring
from intake.policy import DEFAULT_POLICY, Policy, rules_version
from intake.questionnaire import Item, Journey, kind_of
from intake.reports.examination import BUDAPEST_SIGNS, CLINICIAN_CHECKS, CSS_SIGNS
from intake.workflow import ROUTING

#: What an unanswered shown item reads as in the list of answers.
UNANSWERED = "—"
#: What a missing value reads as anywhere else in the summary.
NOT_ANSWERED = "not answered"

#: What every summary says first: it reports what the patient said, it does not diagnose.
NOT_A_DIAGNOSIS = "Patient-reported screening summary. Not a diagnosis."
#: ... and what a summary with the Budapest symptoms adds.
DISCLAIMER = (
    f"{NOT_A_DIAGNOSIS} The Budapest criteria also require examination signs in ≥2 "
    "categories, a clinician's judgement that the pain is disproportionate, and exclusion "
    "of other diagnoses."
)
TRIAL_MATCH = scoring.SUPPORTIVE_WORDS
#: Indicators that count the others: printed as one sentence below the table.
COUNTERS = ("supportive", "not_assessed")
#: Indicators the header already shows.
IN_HEADER = ("age",)
#: The indicator whose score brings the examination checklist and the Budapest disclaimer.
BUDAPEST = "budapest_symptom_categories"
#: The sections only some questionnaires have, each by the question it is about: a summary
#: has the section when its questionnaire asks that question, and is empty otherwise.
SECTIONS = {
    "pain": "pain_regions",
    "treatments": "treatments_tried",
    "prior_ketamine": "prior_ketamine",
    "medicines": "medications_list",
    "allergies": "allergies",
}


@dataclass(frozen=True)
class Fact:
    """One labelled value, such as "Date of birth: 1980-03-15"."""

    label: str
    value: str


@dataclass(frozen=True)
class Trigger:
    """Why a flag was raised, in words: the question and the patient's answer."""

    label: str
    answer: str

    @property
    def joiner(self) -> str:
        """What separates the question from the answer: nothing after a question mark."""
        return " " if self.label.endswith(("?", ":")) else ": "

    def __str__(self) -> str:
        return f"{self.label}{self.joiner}{self.answer}"


@dataclass(frozen=True)
class FlagLine:
    """A raised flag as printed: tier, title, triggers in words and source."""

    code: str
    tier: str
    title: str
    triggers: tuple[Trigger, ...]
    #: The rule in words, generated from the condition that raised it.
    rule: str
    source: str


@dataclass(frozen=True)
class IndicatorLine:
    """An indicator as printed: its value and its rule in words."""

    name: str
    value: str
    rule: str
    #: Whether it matches the 2009 trial's entry criterion; None without a criterion or value.
    supportive: bool | None
    note: str


@dataclass(frozen=True)
class AnswerLine:
    """One shown question and its answer in words ("—" when unanswered)."""

    question: str
    answer: str
    answered: bool


@dataclass(frozen=True)
class StepAnswers:
    """A shown step and every question shown in it."""

    title: str
    answers: tuple[AnswerLine, ...]


@dataclass(frozen=True)
class StaffAction:
    """A status change, override or rescore, as the caller hands it in."""

    who: str
    when: dt.datetime
    what: str
    reason: str = ""


@dataclass(frozen=True)
class ActionLine:
    """A staff action as printed, its time in the clinic's zone."""

    who: str
    when: str
    what: str
    reason: str


@dataclass(frozen=True)
class Summary:
    """Everything the physician summary prints, in plain strings; a section a questionnaire
    does not have is empty."""

    #: What staff call the questionnaire ("Intake").
    questionnaire_title: str
    clinic_name: str
    reference: str
    patient_name: str
    patient: tuple[Fact, ...]
    submitted_at: str
    #: "Answered in Spanish" for a Spanish submission: the summary stays in English, and
    #: what the patient typed is shown as typed.
    language_note: str
    routing: str
    routing_meaning: str
    disclaimer: str
    flags: tuple[FlagLine, ...]
    info: tuple[str, ...]
    indicators: tuple[IndicatorLine, ...]
    trial_matches: str
    instruments: tuple[Fact, ...]
    pain_regions: tuple[str, ...]
    pain: tuple[Fact, ...]
    treatments: tuple[Fact, ...]
    prior_ketamine: tuple[Fact, ...]
    medicines: tuple[Fact, ...]
    allergies: tuple[Fact, ...]
    budapest_signs: tuple[tuple[str, tuple[str, ...]], ...]
    css_signs: tuple[str, ...]
    clinician_checks: tuple[str, ...]
    steps: tuple[StepAnswers, ...]
    actions: tuple[ActionLine, ...]
    questionnaire_version: str
    rules_version: str
    generated_at: str

    @property
    def title(self) -> str:
        """The document title: the reference, never the patient's name."""
        return f"{self.questionnaire_title} summary {self.reference}"


def local_time(moment: dt.datetime, timezone: str) -> str:
    """Clinic-local time with its offset, "2025-06-01 14:32 (UTC−04:00)"; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(ZoneInfo(timezone))
    offset = local.utcoffset() or dt.timedelta(0)
    sign = "+" if offset >= dt.timedelta(0) else "−"
    hours, rest = divmod(abs(int(offset.total_seconds())), 3600)
    return f"{local:%Y-%m-%d %H:%M} (UTC{sign}{hours:02d}:{rest // 60:02d})"


def answer_words(item: Item, value: Any) -> str:
    """A stored answer in words, for the physician: labels, scale points and units."""
    if value is None or value == []:
        return NOT_ANSWERED
    return kind_of(item).physician_words(item, value)


def question_words(item: Item, names: Mapping[str, str]) -> str:
    """The question as the physician reads it, an instrument's item with its name."""
    if item.instrument in names:
        return f"{names[item.instrument]}: {item.label}"
    return item.label


def build_summary(
    *,
    answers: Mapping[str, Any],
    score: Mapping[str, Any],
    reference: str,
    submitted_at: dt.datetime | dt.date,
    reference_date: dt.date,
    clinic_name: str,
    timezone: str,
    language: str = "en",
    questionnaire_version: str,
    rules: scoring.Rules = scoring.INTAKE_RULES,
    policy: Policy = DEFAULT_POLICY,
    actions: Iterable[StaffAction] = (),
    generated_at: dt.datetime | None = None,
) -> Summary:
    """Everything the physician summary prints, for stored (already cleaned) answers."""
    questionnaire = rules.questionnaire
    items = questionnaire.items
    asked = {section for section, item_id in SECTIONS.items() if item_id in items}
    names = {instrument.key: instrument.name for instrument in rules.instruments}
    # The instruments the score says were not administered were switched off then.
    administered = {key: result.get("administered") is not False
                    for key, result in score["instruments"].items()}
    asked_then = replace(policy, stop_bang_enabled=administered.get("stop_bang", True),
                         dast10_enabled=administered.get("dast10", True))
    indicators = score["indicators"]
    # The indicators it declares, then any other its score holds.
    indicator_keys = (*rules.indicators,
                      *(key for key in indicators if key not in rules.indicators))
    examination = BUDAPEST in indicator_keys
    journey = Journey(questionnaire, answers, reference_date, asked_then)
    rule_words = rules.rule_words(policy)
    if isinstance(submitted_at, dt.datetime):
        submitted = local_time(submitted_at, timezone)
    else:
        submitted = submitted_at.isoformat()
    return Summary(
        questionnaire_title=questionnaire.title,
        clinic_name=clinic_name,
        reference=reference,
        patient_name=f"{answers.get('first_name', '')} {answers.get('last_name', '')}".strip(),
        patient=_patient_facts(items, answers, indicators),
        submitted_at=submitted,
        language_note="Answered in Spanish" if language == "es" else "",
        routing=score["routing"],
        routing_meaning=ROUTING[score["routing"]].meaning if score["routing"] in ROUTING else "",
        disclaimer=DISCLAIMER if examination else NOT_A_DIAGNOSIS,
        flags=tuple(_flag_line(flag, score, items, names, rule_words)
                    for flag in score["flags"]),
        info=tuple(_info(code) for code in score["info"]),
        indicators=_indicator_lines(indicator_keys, indicators),
        trial_matches=_trial_matches(indicators) if set(COUNTERS) <= set(indicator_keys) else "",
        instruments=_instrument_lines(score, answers, rules.instruments),
        pain_regions=tuple(answers.get("pain_regions", ())),
        pain=_pain_facts(items, answers, indicators) if "pain" in asked else (),
        treatments=_treatment_facts(items, answers) if "treatments" in asked else (),
        prior_ketamine=(_prior_ketamine_facts(items, answers)
                        if "prior_ketamine" in asked else ()),
        medicines=(
            Fact("Medicines taken now", answers.get("medications_list", NOT_ANSWERED)),
            Fact("Takes any of these now", _words(items, answers, "med_classes")),
            *((Fact("Opioid, dose and how often", _words(items, answers, "opioid_details")),)
              if "opioid" in answers.get("med_classes", ()) else ()),
        ) if "medicines" in asked else (),
        allergies=(
            Fact("Allergic reaction to ketamine", _words(items, answers, "ketamine_allergy")),
            Fact("Other allergies", answers.get("allergies", NOT_ANSWERED)),
        ) if "allergies" in asked else (),
        budapest_signs=BUDAPEST_SIGNS if examination else (),
        css_signs=CSS_SIGNS if examination else (),
        clinician_checks=CLINICIAN_CHECKS if examination else (),
        steps=tuple(
            StepAnswers(step.title, tuple(
                _answer_line(item, answers.get(item.id), names)
                for item in journey.shown_items(step)
            ))
            for step in journey.steps
        ),
        actions=tuple(
            ActionLine(a.who, local_time(a.when, timezone), a.what, a.reason) for a in actions
        ),
        questionnaire_version=questionnaire_version,
        rules_version=_versions(score["rules_version"], rules_version(policy)),
        generated_at=local_time(generated_at or dt.datetime.now(dt.UTC), timezone),
    )


def _versions(scored: str, current: str) -> str:
    """The rules a score was made with; the rule words printed are the clinic's current."""
    if scored == current:
        return scored
    return f"{scored} (the rules printed are this clinic's current, {current}: rescore to apply)"


_INFO = {info.code: info for info in scoring.INFO}
_INDICATORS = {indicator.key: indicator for indicator in scoring.INDICATORS}


def _number(value: Any) -> str:
    if value is None:
        return NOT_ANSWERED
    return f"{value:g}" if isinstance(value, float) else str(value)


def _words(items: Mapping[str, Item], answers: Mapping[str, Any], item_id: str) -> str:
    return answer_words(items[item_id], answers.get(item_id))


def _patient_facts(items: Mapping[str, Item], answers: Mapping[str, Any],
                   indicators: Mapping[str, Any]) -> tuple[Fact, ...]:
    facts = []
    if "dob" in items:
        facts += [Fact("Date of birth", answers.get("dob", NOT_ANSWERED)),
                  Fact("Age", _number(indicators.get("age")))]
    if "sex_at_birth" in items:
        facts.append(Fact("Sex at birth", _words(items, answers, "sex_at_birth")))
    if "phone" in items:
        facts.append(Fact("Phone", answers.get("phone", NOT_ANSWERED)))
    return tuple(facts)


def _answer_line(item: Item, value: Any, names: Mapping[str, str]) -> AnswerLine:
    if value is None or value == []:
        return AnswerLine(question_words(item, names), UNANSWERED, answered=False)
    return AnswerLine(question_words(item, names), answer_words(item, value), answered=True)


def _trigger(trigger: Mapping[str, Any], score: Mapping[str, Any],
             items: Mapping[str, Item], names: Mapping[str, str]) -> Trigger:
    item_id, value = trigger["item"], trigger.get("answer")
    if item_id in score["instruments"]:
        name = names.get(item_id, item_id)
        if value is None:
            return Trigger(name, "not complete")
        if trigger.get("note") == "incomplete":
            return Trigger(f"{name} answered sum", f"{value} (instrument incomplete)")
        return Trigger(f"{name} total", str(value))
    if item_id == "phq9_9_endorsed":
        return Trigger("PHQ-9 item 9, highest answer at an earlier save",
                       answer_words(items["phq9_9"], value))
    if item_id in items:
        item = items[item_id]
        if item.id == "dob" and value is not None:
            return Trigger(item.label, f"{value} (age {score['indicators'].get('age')})")
        return Trigger(question_words(item, names), answer_words(item, value))
    return Trigger(item_id.replace("_", " ").capitalize(), _number(value))


def _flag_line(flag: Mapping[str, Any], score: Mapping[str, Any], items: Mapping[str, Item],
               names: Mapping[str, str], rules: Mapping[str, str]) -> FlagLine:
    return FlagLine(
        code=flag["code"], tier=flag["tier"], title=flag["title"],
        triggers=tuple(_trigger(t, score, items, names) for t in flag["triggers"]),
        rule=rules.get(flag["code"], ""), source=flag["source"],
    )


def _info(code: str) -> str:
    info = _INFO.get(code)
    return f"{info.title} ({info.source})" if info else code


def _indicator_lines(keys: Iterable[str],
                     indicators: Mapping[str, Any]) -> tuple[IndicatorLine, ...]:
    lines = []
    for key in keys:
        indicator = _INDICATORS.get(key)
        value = indicators.get(key)
        if key in COUNTERS + IN_HEADER:
            continue
        if indicator is None:
            # An indicator the intake's scoring does not define: its key and value only.
            lines.append(IndicatorLine(
                name=key.replace("_", " ").capitalize(),
                value="not assessed" if value is None else _number(value),
                rule="", supportive=None, note=""))
            continue
        if indicator.key == BUDAPEST:
            shown = scoring.budapest_label(value)
        elif indicator.key == "css_symptom_subscore":
            shown = scoring.css_label(value)
        elif value is None:
            shown = "not assessed"
        elif indicator.decimals is not None:
            shown = f"{value:.{indicator.decimals}f}"
        else:
            shown = _number(value)
        supportive = None if value is None else indicator.supportive(value)
        if indicator.threshold is None:
            note = ""
        elif supportive:
            note = TRIAL_MATCH
        else:
            note = (f"2009 trial entry criterion [K4]: {indicator.supportive_when}"
                    + ("" if value is None else "; not reached"))
        lines.append(IndicatorLine(
            name=indicator.name, value=shown, rule=indicator.rule,
            supportive=supportive if indicator.threshold is not None else None,
            note=note,
        ))
    return tuple(lines)


def _trial_matches(indicators: Mapping[str, Any]) -> str:
    supportive, missing = indicators.get("supportive"), indicators.get("not_assessed")
    return (f"{supportive} of 4 indicators {'match' if supportive != 1 else 'matches'} an "
            f"entry criterion of the 2009 outpatient ketamine trial [K4]; "
            f"{missing} not assessed.")


def _instrument_lines(score: Mapping[str, Any], answers: Mapping[str, Any],
                      instruments: Iterable[scoring.Instrument]) -> tuple[Fact, ...]:
    facts = []
    under_18 = any(flag["code"] == "AGE_UNDER_18" for flag in score["flags"])
    known = {instrument.key: instrument for instrument in instruments}
    for key, result in score["instruments"].items():
        name = known[key].name if key in known else key
        total = result.get("total")
        if result.get("administered") is False:
            facts.append(Fact(name, "not administered"))
            continue
        if under_18:
            facts.append(Fact(name, "not asked (under 18)"))
            continue
        if total is None:
            facts.append(Fact(name, "incomplete — not scored"))
            continue
        shown = f"{total}/{known[key].maximum}" if key in known else str(total)
        if result.get("band"):
            shown += f" · {result['band'].replace('_', ' ')}"
        if key == "audit_c":
            threshold = scoring.audit_c_cutoff(answers)
            shown += (f" · {'positive' if result.get('positive') else 'not positive'}"
                      f" (positive at ≥{threshold})")
        if result.get("partial"):
            shown += " · partial: BMI or neck size not known, scored 0"
        facts.append(Fact(name, shown))
    return tuple(facts)


def _pain_facts(items: Mapping[str, Item], answers: Mapping[str, Any],
                indicators: Mapping[str, Any]) -> tuple[Fact, ...]:
    onset = answers.get("onset")
    months = indicators.get("duration_months")
    if onset and months is not None:
        onset = f"{onset} ({months} months)"
    event = _words(items, answers, "inciting_event")
    if answers.get("inciting_event_other"):
        event = f"{event}: {answers['inciting_event_other']}"
    diagnosis = _words(items, answers, "clinician_dx_crps")
    if answers.get("crps_type"):
        diagnosis = f"{diagnosis}, {_words(items, answers, 'crps_type')}"
    return (
        Fact("What started it", event),
        Fact("Began", onset or NOT_ANSWERED),
        Fact("Pain now / average / worst in past week",
             " / ".join(_number(answers.get(i)) for i in
                        ("nrs_now", "nrs_avg_week", "nrs_worst_week"))),
        Fact("Spread beyond where it started", _words(items, answers, "pain_spread")),
        Fact("A doctor has told them it is CRPS (as reported)", diagnosis),
        Fact("Other causes doctors suggested", answers.get("other_dx_suggested", NOT_ANSWERED)),
    )


def _treatment_facts(items: Mapping[str, Item],
                     answers: Mapping[str, Any]) -> tuple[Fact, ...]:
    tried = items["treatments_tried"]
    codes = answers.get("treatments_tried", ())
    if not codes:
        return (Fact("Treatments tried", NOT_ANSWERED),)
    facts = []
    for code in codes:
        benefit = _words(items, answers, f"benefit_{code}") if code != "none" else ""
        for device in ("scs", "drg"):
            if code == device and answers.get(f"{device}_status"):
                benefit = f"{benefit}; {_words(items, answers, f'{device}_status')}"
        facts.append(Fact(tried.choice_label(code), benefit))
    return tuple(facts)


def _prior_ketamine_facts(items: Mapping[str, Item],
                          answers: Mapping[str, Any]) -> tuple[Fact, ...]:
    route = answers.get("prior_ketamine")
    if route in (None, "none"):
        return (Fact("Ketamine treatment before", _words(items, answers, "prior_ketamine")),)
    return (
        Fact("Route", _words(items, answers, "prior_ketamine")),
        Fact("Year of the last treatment", _words(items, answers, "prior_ketamine_year")),
        Fact("Benefit", _words(items, answers, "prior_ketamine_benefit")),
        Fact("Weeks it helped", _words(items, answers, "prior_ketamine_weeks")),
    )
