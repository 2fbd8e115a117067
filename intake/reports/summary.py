"""What the physician summary says, as plain data: the PDF and the staff page render it.

Every sentence the summary prints is built here, once, from the questionnaire's
definition and the score, so the two renderings cannot drift apart. Nothing here
escapes or lays out text; patient text is carried exactly as typed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from intake import scoring
from intake.policy import DEFAULT_POLICY, Policy, rules_version
from intake.questionnaire import ADULT_AGE, Item, Journey, Questionnaire
from intake.reports import facts
from intake.reports.chart import Chart
from intake.reports.examination import BUDAPEST_SIGNS, CLINICIAN_CHECKS, CSS_SIGNS
from intake.reports.facts import NOT_ASKED_UNDER_18, UNANSWERED, Fact, Reader, answer_words, number
from intake.scoring import followup
from intake.workflow import ROUTING

#: What every summary says first: it reports what the patient said, it does not diagnose.
NOT_A_DIAGNOSIS = "Patient-reported screening summary. Not a diagnosis."
#: ... and what a summary with the Budapest symptoms adds.
DISCLAIMER = (
    f"{NOT_A_DIAGNOSIS} The Budapest criteria also require examination signs in ≥2 "
    "categories, a clinician's judgement that the pain is disproportionate, and exclusion "
    "of other diagnoses."
)
TRIAL_MATCH = scoring.SUPPORTIVE_WORDS
TRIAL_CONTEXT = ("That trial also required CRPS found on examination and at least three "
                 "treatments that had failed. Context for the physician, not a decision about "
                 "treatment.")
#: A reference tag in a source: "[K4]".
TAG = re.compile(r"\[[A-Z]+[0-9]+\]")
#: PHQ-9 item 9 and the highest answer to it saved before: a flag on either shows both.
SUICIDE_ITEMS = ("phq9_9", "phq9_9_endorsed")
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
    #: For a hold flag, the triggers of the review flag it outranks (which is not raised).
    also_reported: tuple[Trigger, ...] = ()

    @property
    def tags(self) -> str:
        return source_tags(self.source)


@dataclass(frozen=True)
class IndicatorLine:
    """An indicator as printed: its value and its rule in words."""

    name: str
    value: str
    rule: str
    #: Whether it is in the range the 2009 trial enrolled; None without a range or value.
    supportive: bool | None
    note: str
    source: str = ""

    @property
    def tags(self) -> str:
        return source_tags(self.source)


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
    #: What a physician needs before booking, a line each: page 1 after the flags.
    glance: tuple[Fact, ...]
    #: A follow-up's outcomes against the baseline, in the spec's words.
    outcomes: tuple[Fact, ...]
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
    #: Every reference a source tag such as [K4] names, as (tag, reference).
    references: tuple[Fact, ...]
    questionnaire_version: str
    rules_version: str
    generated_at: str
    #: A follow-up's course: the chart, and the table it draws (date, submission, average
    #: pain, PEG, PHQ-9), its text alternative.
    course_chart: Chart | None = None
    course_table: tuple[tuple[str, ...], ...] = ()

    @property
    def title(self) -> str:
        """The document title: the reference, never the patient's name."""
        return f"{self.questionnaire_title} summary {self.reference}"


def source_tags(source: str) -> str:
    """A source as page 1 prints it: its reference tags ("[K4] [K6]"), or the whole of a
    source that names none ("clinic policy")."""
    return " ".join(TAG.findall(source)) or source


def local_time(moment: dt.datetime, timezone: str) -> str:
    """Clinic-local time with its offset, "2025-06-01 14:32 (UTC−04:00)"; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(ZoneInfo(timezone))
    offset = local.utcoffset() or dt.timedelta(0)
    sign = "+" if offset >= dt.timedelta(0) else "−"
    hours, rest = divmod(abs(int(offset.total_seconds())), 3600)
    return f"{local:%Y-%m-%d %H:%M} (UTC{sign}{hours:02d}:{rest // 60:02d})"


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
    phone_region: str = "US",
    language: str = "en",
    questionnaire_version: str,
    rules: scoring.Rules = scoring.INTAKE_RULES,
    policy: Policy = DEFAULT_POLICY,
    actions: Iterable[StaffAction] = (),
    generated_at: dt.datetime,
    inputs: Mapping[str, Any] | None = None,
) -> Summary:
    """Everything the physician summary prints, for stored (already cleaned) answers."""
    questionnaire = rules.questionnaire
    items = questionnaire.items
    inputs = inputs or {}
    asked = {section for section, item_id in SECTIONS.items() if item_id in items}
    names = {instrument.key: instrument.name for instrument in rules.instruments}
    # The instruments the score says were not administered were switched off then.
    administered = {key: not isinstance(result, Mapping)
                    or result.get("administered") is not False
                    for key, result in score["instruments"].items()}
    asked_then = replace(policy, stop_bang_enabled=administered.get("stop_bang", True),
                         dast10_enabled=administered.get("dast10", True))
    indicators = score.get("indicators", {})
    outcomes = score.get("outcomes")
    # The indicators it declares, then any other its score holds.
    indicator_keys = (*rules.indicators,
                      *(key for key in indicators if key not in rules.indicators))
    examination = BUDAPEST in indicator_keys
    journey = Journey(questionnaire, answers, reference_date, asked_then)
    read = Reader(journey, phone_region)
    under_18 = journey.age is not None and journey.age < ADULT_AGE
    rule_words = rules.rule_words(policy)
    # Only a raised hold flag outranks anything (and a draft that cannot be scored has none).
    outranked = (rules.outranked(journey)
                 if any(flag["tier"] == "hold" for flag in score["flags"]) else {})
    outcome_facts = () if outcomes is None else tuple(
        Fact(label, value) for label, value in followup.outcome_words(
            outcomes, answers, score["instruments"].get("peg"),
            (inputs.get("baseline") or {}).get("submitted_on")))
    if isinstance(submitted_at, dt.datetime):
        submitted = local_time(submitted_at, timezone)
    else:
        submitted = submitted_at.isoformat()
    return Summary(
        questionnaire_title=questionnaire.title,
        clinic_name=clinic_name,
        reference=reference,
        patient_name=" ".join(filter(None, (answers.get(k) or inputs.get(k)
                                            for k in ("first_name", "last_name")))),
        patient=_patient_facts(read, indicators),
        submitted_at=submitted,
        language_note="Answered in Spanish" if language == "es" else "",
        routing=score["routing"],
        routing_meaning=ROUTING[score["routing"]].meaning if score["routing"] in ROUTING else "",
        disclaimer=(followup.DISCLAIMER if outcomes is not None
                    else DISCLAIMER if examination else NOT_A_DIAGNOSIS),
        flags=tuple(_flag_line(flag, score, answers, questionnaire, names, rule_words, outranked)
                    for flag in score["flags"]),
        info=tuple(_info(code) for code in score.get("info", ())),
        glance=facts.glance(read, indicators) if outcomes is None else (),
        outcomes=outcome_facts,
        indicators=_indicator_lines(indicator_keys, indicators, under_18),
        trial_matches=_trial_matches(indicators) if set(COUNTERS) <= set(indicator_keys) else "",
        instruments=_instrument_lines(score, answers, rules.instruments, under_18),
        pain_regions=tuple(answers.get("pain_regions", ())),
        pain=facts.pain(read, indicators) if "pain" in asked else (),
        treatments=facts.treatments(read) if "treatments" in asked else (),
        prior_ketamine=facts.prior_ketamine(read) if "prior_ketamine" in asked else (),
        medicines=facts.medicines(read) if "medicines" in asked else (),
        allergies=facts.allergies(read) if "allergies" in asked else (),
        budapest_signs=BUDAPEST_SIGNS if examination else (),
        css_signs=CSS_SIGNS if examination else (),
        clinician_checks=CLINICIAN_CHECKS if examination else (),
        steps=tuple(
            StepAnswers(step.title, tuple(
                _answer_line(item, answers.get(item.id), names, phone_region)
                for item in journey.shown_items(step)
            ))
            for step in journey.steps
        ),
        actions=tuple(
            ActionLine(a.who, local_time(a.when, timezone), a.what, a.reason) for a in actions
        ),
        references=_references(score, indicator_keys, [f.value for f in outcome_facts]),
        questionnaire_version=questionnaire_version,
        rules_version=_versions(score["rules_version"], rules_version(policy)),
        generated_at=local_time(generated_at, timezone),
    )


def _versions(scored: str, current: str) -> str:
    """The rules a score was made with; the rule words printed are the clinic's current."""
    if scored == current:
        return scored
    return f"{scored} (the rules printed are this clinic's current, {current}: rescore to apply)"


_INFO = {info.code: info for info in scoring.INFO}
_INDICATORS = {indicator.key: indicator for indicator in scoring.INDICATORS}


def _patient_facts(read: Reader, indicators: Mapping[str, Any]) -> tuple[Fact, ...]:
    lines = []
    if read.has("dob"):
        lines += [Fact("Date of birth", read.typed("dob")),
                  Fact("Age", number(indicators.get("age")))]
    if read.has("sex_at_birth"):
        lines.append(Fact("Sex at birth", read.words("sex_at_birth")))
    if read.has("phone"):
        lines.append(Fact("Phone", read.words("phone")))
    return tuple(lines)


def _answer_line(item: Item, value: Any, names: Mapping[str, str],
                 phone_region: str) -> AnswerLine:
    if value is None or value == []:
        return AnswerLine(question_words(item, names), UNANSWERED, answered=False)
    return AnswerLine(question_words(item, names), answer_words(item, value, phone_region),
                      answered=True)


def _trigger(trigger: Mapping[str, Any], score: Mapping[str, Any], answers: Mapping[str, Any],
             items: Mapping[str, Item], names: Mapping[str, str],
             terms: Mapping[str, str]) -> Trigger:
    item_id, value = trigger["item"], trigger.get("answer")
    if item_id in score["instruments"]:
        name = names.get(item_id, item_id)
        if value is None:
            return Trigger(name, "not complete")
        if trigger.get("note") == "incomplete":
            return Trigger(f"{name} answered sum", f"{value} (instrument incomplete)")
        return Trigger(f"{name} total", str(value))
    if item_id in SUICIDE_ITEMS:
        now, earlier = (answers.get(i) for i in SUICIDE_ITEMS)
        item = items["phq9_9"]
        return Trigger(question_words(item, names), f"now: {answer_words(item, now)}; earlier in "
                       "this questionnaire: " + ("none" if earlier is None else
                                                answer_words(item, earlier)))
    if item_id in items:
        item = items[item_id]
        if item.id == "dob" and value is not None:
            return Trigger(item.label, f"{value} (age {score['indicators'].get('age')})")
        return Trigger(question_words(item, names), answer_words(item, value))
    words = terms.get(item_id, item_id.replace("_", " "))  # a measure, such as an outcome
    return Trigger(words[:1].upper() + words[1:], number(value))


def _flag_line(flag: Mapping[str, Any], score: Mapping[str, Any], answers: Mapping[str, Any],
               questionnaire: Questionnaire, names: Mapping[str, str], rules: Mapping[str, str],
               outranked: Mapping[str, list[Mapping[str, Any]]]) -> FlagLine:
    def triggers(raw: Iterable[Mapping[str, Any]]) -> tuple[Trigger, ...]:
        # Both item-9 triggers read as one line that shows both answers.
        return tuple(dict.fromkeys(_trigger(t, score, answers, questionnaire.items, names,
                                            questionnaire.terms) for t in raw))

    own = triggers(flag["triggers"])
    return FlagLine(
        code=flag["code"], tier=flag["tier"], title=flag["title"], triggers=own,
        rule=rules.get(flag["code"], ""), source=flag["source"],
        also_reported=tuple(t for t in triggers(outranked.get(flag["code"], ()))
                            if t not in own),
    )


def _references(score: Mapping[str, Any], indicator_keys: Iterable[str],
                worded: Iterable[str] = ()) -> tuple[Fact, ...]:
    """Every reference the summary's tags name (its flags', indicators', information
    items' and ``worded`` lines'), so that each tag printed can be looked up."""
    sources = [*(flag["source"] for flag in score["flags"]), *worded]
    sources += [_INDICATORS[key].source for key in indicator_keys if key in _INDICATORS]
    sources += [_INFO[code].source for code in score.get("info", ()) if code in _INFO]
    cited = {tag.strip("[]") for source in sources for tag in TAG.findall(source)}
    return tuple(Fact(f"[{tag}]", reference) for tag, reference in scoring.CITATIONS.items()
                 if tag in cited)


def _info(code: str) -> str:
    info = _INFO.get(code)
    return f"{info.title} ({info.source})" if info else code


def _indicator_lines(keys: Iterable[str], indicators: Mapping[str, Any],
                     under_18: bool) -> tuple[IndicatorLine, ...]:
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
                value="not assessed" if value is None else number(value),
                rule="", supportive=None, note=""))
            continue
        if value is None and under_18:
            shown = NOT_ASKED_UNDER_18
        elif indicator.key == BUDAPEST:
            shown = scoring.budapest_label(value)
        elif indicator.key == "css_symptom_subscore":
            shown = scoring.css_label(value)
        elif value is None:
            shown = "not assessed"
        elif indicator.decimals is not None:
            shown = f"{value:.{indicator.decimals}f}"
        else:
            shown = number(value)
        supportive = None if value is None else indicator.supportive(value)
        if indicator.threshold is None or shown == NOT_ASKED_UNDER_18:
            note = ""
        elif supportive:
            note = TRIAL_MATCH
        else:
            note = (f"the 2009 outpatient trial enrolled {indicator.supportive_when} [K4]"
                    + ("" if value is None else "; outside that range"))
        lines.append(IndicatorLine(
            name=indicator.name, value=shown, rule=indicator.rule,
            supportive=supportive if indicator.threshold is not None else None,
            note=note, source=indicator.source,
        ))
    return tuple(lines)


def _trial_matches(indicators: Mapping[str, Any]) -> str:
    supportive, missing = indicators.get("supportive"), indicators.get("not_assessed")
    return (f"{supportive} of 4 are {TRIAL_MATCH}. "
            f"{TRIAL_CONTEXT} {missing} of 4 not assessed for lack of answers.")


def _instrument_lines(score: Mapping[str, Any], answers: Mapping[str, Any],
                      instruments: Iterable[scoring.Instrument],
                      under_18: bool) -> tuple[Fact, ...]:
    facts = []
    known = {instrument.key: instrument for instrument in instruments}
    for key, result in score["instruments"].items():
        name = known[key].name if key in known else key
        if not isinstance(result, Mapping):  # a follow-up's PEG: a number, one decimal
            name = scoring.PEG.name if key == scoring.PEG.key else name
            facts.append(Fact(name, "incomplete — not scored" if result is None
                              else f"{result:.1f}"))
            continue
        total = result.get("total")
        if result.get("administered") is False:
            facts.append(Fact(name, "not administered"))
            continue
        if under_18:
            facts.append(Fact(name, NOT_ASKED_UNDER_18))
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
