"""The summary's labelled facts, read from the answers as the patient's journey showed
them: a question left unanswered reads "not answered" ("—" at a glance), and one the
patient was never shown reads "not asked" — "not asked (under 18)" when their age skipped
it — never "not answered".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.questionnaire import ADULT_AGE, Item, Journey, kind_of, phone_as_written
from intake.questionnaire.kinds import PhoneKind

#: What a missing value reads as in the summary's sections.
NOT_ANSWERED = "not answered"
#: What an unanswered shown item reads as in the list of answers and at a glance.
UNANSWERED = "—"
NOT_ASKED = "not asked"
NOT_ASKED_UNDER_18 = "not asked (under 18)"


@dataclass(frozen=True)
class Fact:
    """One labelled value, such as "Date of birth: 1980-03-15"."""

    label: str
    value: str


def answer_words(item: Item, value: Any, phone_region: str | None = None) -> str:
    """A stored answer in words, for the physician: labels, scale points and units; a
    phone number as the clinic in ``phone_region`` writes it (stored E.164 without one)."""
    if value is None or value == []:
        return NOT_ANSWERED
    if phone_region and isinstance(kind_of(item), PhoneKind):
        return phone_as_written(value, phone_region)
    return kind_of(item).physician_words(item, value)


class Reader:
    """The answers of one journey, each in words or as typed, or why there is none."""

    def __init__(self, journey: Journey, phone_region: str | None = None):
        self.journey, self.phone_region = journey, phone_region
        self.items = journey.questionnaire.items
        self.answers = journey.answers

    def has(self, *item_ids: str) -> bool:
        """Whether the questionnaire asks every one of these questions."""
        return all(item_id in self.items for item_id in item_ids)

    def shown(self, item_id: str) -> bool:
        return self.journey.item_shown(self.items[item_id])

    def missing(self, item_id: str, unanswered: str = NOT_ANSWERED) -> str:
        """Why an item has no answer: left unanswered, or never shown."""
        item = self.items[item_id]
        if self.shown(item_id):
            return unanswered
        age = self.journey.age
        if (age is not None and age < ADULT_AGE
                and item.step in self.journey.questionnaire.adult_only_steps):
            return NOT_ASKED_UNDER_18
        return NOT_ASKED

    def words(self, item_id: str, unanswered: str = NOT_ANSWERED) -> str:
        value = self.answers.get(item_id)
        if value is None or value == []:
            return self.missing(item_id, unanswered)
        return answer_words(self.items[item_id], value, self.phone_region)

    def typed(self, item_id: str, unanswered: str = NOT_ANSWERED) -> str:
        """A free-text answer exactly as typed."""
        return self.answers.get(item_id) or self.missing(item_id, unanswered)

    def value(self, item_id: str) -> Any:
        return self.answers.get(item_id)


def number(value: Any, unanswered: str = NOT_ANSWERED) -> str:
    if value is None:
        return unanswered
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- the sections ---------------------------------------------------------------------


def pain(read: Reader, indicators: Mapping[str, Any]) -> tuple[Fact, ...]:
    onset, months = read.value("onset"), indicators.get("duration_months")
    began = read.words("onset")
    if onset and months is not None:
        began = f"{onset} ({months} months)"
    event = read.words("inciting_event")
    if read.value("inciting_event_other"):
        event = f"{event}: {read.value('inciting_event_other')}"
    diagnosis = read.words("clinician_dx_crps")
    if read.value("crps_type"):
        diagnosis = f"{diagnosis}, {read.words('crps_type')}"
    ratings = ("nrs_now", "nrs_avg_week", "nrs_worst_week")
    return (
        Fact("What started it", event),
        Fact("Began", began),
        Fact("Pain now / average / worst in past week",
             " / ".join(number(read.value(i), read.missing(i)) for i in ratings)),
        Fact("Spread beyond where it started", read.words("pain_spread")),
        Fact("A doctor has told them it is CRPS (as reported)", diagnosis),
        Fact("Other causes doctors suggested", read.typed("other_dx_suggested")),
    )


def treatments(read: Reader) -> tuple[Fact, ...]:
    codes = read.value("treatments_tried") or ()
    if not codes:
        return (Fact("Treatments tried", read.missing("treatments_tried")),)
    facts = []
    for code in codes:
        benefit = read.words(f"benefit_{code}") if code != "none" else ""
        for device in ("scs", "drg"):
            if code == device and read.value(f"{device}_status"):
                benefit = f"{benefit}; {read.words(f'{device}_status')}"
        facts.append(Fact(read.items["treatments_tried"].choice_label(code), benefit))
    return tuple(facts)


def prior_ketamine(read: Reader) -> tuple[Fact, ...]:
    if read.value("prior_ketamine") in (None, "none"):
        return (Fact("Ketamine treatment before", read.words("prior_ketamine")),)
    return (
        Fact("Route", read.words("prior_ketamine")),
        Fact("Year of the last treatment", read.words("prior_ketamine_year")),
        Fact("Benefit", read.words("prior_ketamine_benefit")),
        Fact("Weeks it helped", read.words("prior_ketamine_weeks")),
    )


def medicines(read: Reader) -> tuple[Fact, ...]:
    return (
        Fact("Medicines taken now", read.typed("medications_list")),
        Fact("Takes any of these now", read.words("med_classes")),
        *((Fact("Opioid, dose and how often", read.words("opioid_details")),)
          if "opioid" in (read.value("med_classes") or ()) else ()),
    )


def allergies(read: Reader) -> tuple[Fact, ...]:
    return (
        Fact("Allergic reaction to ketamine", read.words("ketamine_allergy")),
        Fact("Other allergies", read.typed("allergies")),
    )


# --- at a glance ----------------------------------------------------------------------

#: The heart, stroke and seizure questions at a glance, each by what a yes reports; a
#: "when" question is shown beside its yes.
HEART_BRAIN = (
    ("angina_rest", "chest pain at rest in the past month", None),
    ("mi", "heart attack", "mi_when"),
    ("heart_failure", "heart failure", None),
    ("arrhythmia", "irregular heartbeat", None),
    ("cad_other", "other heart disease, stents or bypass", None),
    ("stroke_tia", "stroke or TIA", "stroke_when"),
    ("seizures", "seizure or epilepsy", None),
)
#: The most of a typed answer a line at a glance shows; the rest is in its section.
GLANCE_TYPED = 120


def brief(text: str) -> str:
    """A typed answer cut to one short line, saying where the whole of it is."""
    first = text.splitlines()[0] if text.strip() else text
    if len(first) <= GLANCE_TYPED and first == text:
        return text
    return f"{first[:GLANCE_TYPED].rstrip()}… (in full below)"


#: A heart_failure answer that reports nothing.
NO_HEART_FAILURE = "none"


def glance(read: Reader, indicators: Mapping[str, Any]) -> tuple[Fact, ...]:
    """What a physician needs before booking a consult, a line each (at most ten), for a
    questionnaire that asks the questions each line is about."""
    lines = []
    if read.has("pain_regions", "onset"):
        began = read.words("onset", UNANSWERED)
        if read.value("onset") and indicators.get("duration_months") is not None:
            began = f"{began} ({indicators['duration_months']} months)"
        lines.append(Fact("Pain, where and since", read.missing("pain_regions") if not
                          read.shown("pain_regions") else
                          f"{read.words('pain_regions', UNANSWERED)}; since {began}"))
    if read.has("nrs_avg_week"):
        lines.append(Fact("Average pain, last week", read.words("nrs_avg_week", UNANSWERED)))
    if read.has("bp_systolic", "bp_diastolic", "htn", "htn_controlled"):
        if not read.shown("bp_systolic"):
            shown = read.missing("bp_systolic")
        else:
            reading = [read.value(i) for i in ("bp_systolic", "bp_diastolic")]
            shown = (f"{'/'.join(number(v, UNANSWERED) for v in reading)} as reported"
                     if any(v is not None for v in reading) else UNANSWERED)
            shown += f"; high blood pressure: {read.words('htn', UNANSWERED)}"
            if read.value("htn") == "yes":
                shown += f", well controlled: {read.words('htn_controlled', UNANSWERED)}"
        lines.append(Fact("Blood pressure", shown))
    if read.has(*(item_id for item_id, _, _ in HEART_BRAIN)):
        lines.append(Fact("Heart, stroke, seizures", _heart_brain(read)))
    if read.has("med_classes"):
        lines.append(Fact("Medicines", read.words("med_classes", UNANSWERED)))
    if read.has("ketamine_allergy", "allergies"):
        lines.append(Fact("Allergies", read.missing("allergies") if not
                          read.shown("allergies") else
                          f"to ketamine: {read.words('ketamine_allergy', UNANSWERED)}; "
                          f"other: {brief(read.typed('allergies', UNANSWERED))}"))
    if read.has("pregnant", "breastfeeding"):
        if read.shown("pregnant"):
            shown = (f"pregnant: {read.words('pregnant', UNANSWERED)}; "
                     f"breastfeeding: {read.words('breastfeeding', UNANSWERED)}")
        else:
            shown = read.missing("pregnant")
        lines.append(Fact("Pregnancy, breastfeeding", shown))
    if read.has("escort"):
        lines.append(Fact("Escort home", read.words("escort", UNANSWERED)))
    if read.has("weight_kg", "height_cm"):
        bmi = indicators.get("bmi")
        lines.append(Fact("Weight, BMI", f"{read.words('weight_kg', UNANSWERED)}; BMI "
                          + (UNANSWERED if bmi is None else f"{bmi:.1f}")))
    if read.has("prior_ketamine"):
        lines.append(Fact("Ketamine before", _prior_ketamine_line(read)))
    return tuple(lines)


def _heart_brain(read: Reader) -> str:
    reported, answered = [], 0
    for item_id, what, when in HEART_BRAIN:
        value = read.value(item_id)
        answered += value is not None
        if value in (None, "no", NO_HEART_FAILURE):
            continue
        if item_id == "heart_failure":
            what = f"{what} ({read.words(item_id)})"
        elif when and read.value(when):
            what = f"{what} ({read.words(when)})"
        reported.append(what)
    if reported:
        return "; ".join(reported)
    if not answered:
        return read.missing("mi", UNANSWERED)
    unanswered = len(HEART_BRAIN) - answered
    return "none reported" + (f" ({unanswered} of {len(HEART_BRAIN)} unanswered)"
                              if unanswered else "")


def _prior_ketamine_line(read: Reader) -> str:
    if read.value("prior_ketamine") in (None, "none"):
        return read.words("prior_ketamine", UNANSWERED)
    return (f"{read.words('prior_ketamine')}, {read.words('prior_ketamine_year', UNANSWERED)}, "
            f"benefit: {read.words('prior_ketamine_benefit', UNANSWERED)}")
