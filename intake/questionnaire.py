"""The clinical content as plain data: steps, items, choices and shown-when rules.

Everything else (the forms, the review page, the scorer, the PDF, the exports) is
built from this one definition. Patient-facing strings are marked with ``N_`` for the
translation catalog and translated where they are shown, so this module stays pure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

QUESTIONNAIRE_VERSION = "2025.1"

#: The last step every patient answers; for an age under 18 every later step is skipped.
ADULT_ONLY_AFTER = "about"
ADULT_AGE = 18
#: *policy*: the pregnancy step is shown up to and including this age.
PREGNANCY_MAX_AGE = 55

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
NAME_MAX = 100
TEXT_MAX = 200
MULTILINE_MAX = 20_000
MULTILINE_MAX_LINES = 5_000
#: The *year* bound of an item's range: the submission's year.
SUBMISSION_YEAR = "submission year"


def N_(text: str) -> str:
    """Mark a string for the translation catalog; it is translated where it is shown."""
    return text


# --- shown-when conditions --------------------------------------------------------
# Each condition is false when the item it reads is unanswered (spec §1).


@dataclass(frozen=True)
class Equals:
    item: str
    value: str

    def holds(self, answers: Mapping[str, Any], age: int | None) -> bool:
        return answers.get(self.item) == self.value

    def items(self) -> tuple[str, ...]:
        return (self.item,)

    def __str__(self) -> str:
        return f"{self.item} = {self.value}"


@dataclass(frozen=True)
class NotEquals:
    item: str
    value: str

    def holds(self, answers: Mapping[str, Any], age: int | None) -> bool:
        answer = answers.get(self.item)
        return answer is not None and answer != self.value

    def items(self) -> tuple[str, ...]:
        return (self.item,)

    def __str__(self) -> str:
        return f"{self.item} != {self.value}"


@dataclass(frozen=True)
class Ticked:
    """A code is among the answers of a multi item."""

    code: str
    item: str

    def holds(self, answers: Mapping[str, Any], age: int | None) -> bool:
        return self.code in (answers.get(self.item) or ())

    def items(self) -> tuple[str, ...]:
        return (self.item,)

    def __str__(self) -> str:
        return f"{self.code} in {self.item}"


@dataclass(frozen=True)
class OneOf:
    item: str
    values: tuple[str, ...]

    def holds(self, answers: Mapping[str, Any], age: int | None) -> bool:
        return answers.get(self.item) in self.values

    def items(self) -> tuple[str, ...]:
        return (self.item,)

    def __str__(self) -> str:
        return f"{self.item} in [{', '.join(self.values)}]"


@dataclass(frozen=True)
class AgeAtMost:
    years: int

    def holds(self, answers: Mapping[str, Any], age: int | None) -> bool:
        return age is not None and age <= self.years

    def items(self) -> tuple[str, ...]:
        return ("dob",)

    def __str__(self) -> str:
        return f"age <= {self.years}"


@dataclass(frozen=True)
class AnyAtLeast:
    item_ids: tuple[str, ...]
    threshold: int

    def holds(self, answers: Mapping[str, Any], age: int | None) -> bool:
        return any(
            isinstance(answers.get(i), (int, float)) and not isinstance(answers[i], bool)
            and answers[i] >= self.threshold
            for i in self.item_ids
        )

    def items(self) -> tuple[str, ...]:
        return self.item_ids

    def __str__(self) -> str:
        return f"any of {self.item_ids[0]}..{self.item_ids[-1]} >= {self.threshold}"


@dataclass(frozen=True)
class All:
    conditions: tuple

    def holds(self, answers: Mapping[str, Any], age: int | None) -> bool:
        return all(c.holds(answers, age) for c in self.conditions)

    def items(self) -> tuple[str, ...]:
        return tuple(i for c in self.conditions for i in c.items())

    def __str__(self) -> str:
        return " and ".join(str(c) for c in self.conditions)


# --- items and steps --------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class Item:
    id: str
    type: str  # accept yn ynu single multi scale0_10 scale0_3 number date month text text_multiline
    label: str
    choices: tuple[Choice, ...] = ()
    hint: str = ""
    required: bool = False
    max_length: int | None = None
    max_lines: int | None = None
    minimum: float | None = None
    maximum: float | str | None = None
    whole: bool = False
    shown_when: Any = None
    #: Plain words that introduce a follow-up when it is rendered before it applies.
    follow_up: str = ""
    #: Text shown before this item: an instrument's stem or instructions.
    preamble: str = ""
    instrument: str | None = None
    #: A clinic policy that, switched off, shows this item without its condition.
    skip_policy: str | None = None
    category: str | None = None  # Budapest symptom category
    system: bool = False  # stored by the flow, never asked
    autocomplete: str | None = None
    #: Scale anchors: the labels of the lowest and highest answer.
    anchors: tuple[str, str] | None = None
    step: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.choices)

    def choice_label(self, code: str) -> str:
        for choice in self.choices:
            if choice.code == code:
                return choice.label
        return code


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    items: tuple[Item, ...]
    intro: str = ""
    shown_when: Any = None


#: The instruments with a published, validated version in each language besides English.
#: Every other instrument is shown in its English original there: a translation of our
#: own would not be the validated instrument.
PUBLISHED_TRANSLATIONS: dict[str, frozenset[str]] = {"es": frozenset({"phq9", "gad7"})}


def shown_in_english(item: Item, language: str) -> bool:
    """Whether a patient reading this language sees the item in English: every text of it
    (question, hint, instructions, answers, scale ends, follow-up intro)."""
    return (item.instrument is not None and language != "en"
            and item.instrument not in PUBLISHED_TRANSLATIONS.get(language, frozenset()))


YES_NO = (Choice("yes", N_("Yes")), Choice("no", N_("No")))
YES_NO_UNSURE = YES_NO + (Choice("unsure", N_("Not sure")),)
BENEFIT = (
    Choice("none", N_("It did not help")),
    Choice("some", N_("It helped some")),
    Choice("a_lot", N_("It helped a lot")),
)
HOW_LONG_AGO = (
    Choice("within_6mo", N_("Within the last 6 months")),
    Choice("6_12mo", N_("6 to 12 months ago")),
    Choice("over_12mo", N_("More than a year ago")),
    Choice("unsure", N_("Not sure")),
)
NONMEDICAL_USE = (
    Choice("never", N_("Never")),
    Choice("over_12mo", N_("Yes, more than 12 months ago")),
    Choice("within_12mo", N_("Yes, in the last 12 months")),
)
DEVICE_STATUS = (
    Choice("trial_only", N_("I had a trial only")),
    Choice("implanted_now", N_("It is implanted now")),
    Choice("removed", N_("It was implanted and then removed")),
)
PHQ_ANSWERS = (
    Choice("0", N_("Not at all")),
    Choice("1", N_("Several days")),
    Choice("2", N_("More than half the days")),
    Choice("3", N_("Nearly every day")),
)

PHQ_STEM = N_(
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
GAD_STEM = N_(
    "Over the last 2 weeks, how often have you been bothered by the following problems?"
)
AUDIT_NOTE = N_(
    "A drink means one standard drink: 12 oz of regular beer, 5 oz of wine, or 1.5 oz of "
    "liquor (such as vodka or whiskey)."
)
DAST_INSTRUCTIONS = N_(
    "These questions refer to the past 12 months. 'Drug use' means (1) using prescribed "
    "or over-the-counter medicines in excess of the directions, or (2) any non-medical "
    "use of drugs. The questions do not include alcohol or tobacco."
)
SYMPTOMS_STEM = N_(
    "Since your pain began, have you noticed any of these changes? Compare the painful "
    "place with the same place on the other side of your body. If the pain is on both "
    "sides or in your back, compare it with how it was before the pain began."
)


def yn(id: str, label: str, **kw: Any) -> Item:
    return Item(id, "yn", label, YES_NO, **kw)


def ynu(id: str, label: str, **kw: Any) -> Item:
    return Item(id, "ynu", label, YES_NO_UNSURE, **kw)


def single(id: str, label: str, choices: tuple[Choice, ...], **kw: Any) -> Item:
    return Item(id, "single", label, choices, **kw)


def multi(id: str, label: str, choices: tuple[Choice, ...], **kw: Any) -> Item:
    return Item(id, "multi", label, choices, hint=kw.pop("hint", N_("Tick all that apply.")), **kw)


def text(id: str, label: str, max_length: int = TEXT_MAX, **kw: Any) -> Item:
    return Item(id, "text", label, max_length=max_length, **kw)


def long_text(id: str, label: str, **kw: Any) -> Item:
    return Item(
        id, "text_multiline", label,
        max_length=MULTILINE_MAX, max_lines=MULTILINE_MAX_LINES, **kw,
    )


def scale10(id: str, label: str, anchors: tuple[str, str], **kw: Any) -> Item:
    return Item(id, "scale0_10", label, minimum=0, maximum=10, whole=True, anchors=anchors, **kw)


def scale3(id: str, label: str, instrument: str, **kw: Any) -> Item:
    return Item(
        id, "scale0_3", label, PHQ_ANSWERS, minimum=0, maximum=3, whole=True,
        instrument=instrument, **kw,
    )


def symptom(id: str, category: str, label: str, **kw: Any) -> Item:
    return ynu(id, label, category=category, **kw)


PAIN_ANCHORS = (N_("No pain"), N_("Pain as bad as you can imagine"))
INTERFERE_ANCHORS = (N_("Does not interfere"), N_("Completely interferes"))

TREATMENTS = (
    Choice("pt", N_("Physical therapy")),
    Choice("ot_gmi", N_("Occupational therapy, graded motor imagery or mirror therapy")),
    Choice("psychology", N_("Pain psychology or CBT (talking therapy)")),
    Choice("gabapentinoid", N_("Gabapentin or pregabalin")),
    Choice("tca_snri", N_("Amitriptyline, nortriptyline, duloxetine or similar")),
    Choice("nsaid", N_("Anti-inflammatories (ibuprofen, naproxen…)")),
    Choice("opioid", N_("Opioid pain medicine")),
    Choice("oral_steroid", N_("Steroid tablets (prednisone…)")),
    Choice("bisphosphonate", N_("Bisphosphonates")),
    Choice("topical", N_("Creams or patches")),
    Choice("sympathetic_block", N_("Sympathetic nerve block (stellate ganglion or lumbar)")),
    Choice("other_block", N_("Other nerve block or injection")),
    Choice("scs", N_("Spinal cord stimulator")),
    Choice("drg", N_("Dorsal root ganglion stimulator")),
    Choice("ivig", N_("IVIG")),
    Choice("iv_lidocaine", N_("IV lidocaine")),
    Choice("none", N_("None of these")),
)

PAIN_REGIONS = (
    Choice("r_hand", N_("Right hand")),
    Choice("r_wrist_forearm", N_("Right wrist or forearm")),
    Choice("r_elbow_upper_arm", N_("Right elbow or upper arm")),
    Choice("r_shoulder", N_("Right shoulder")),
    Choice("l_hand", N_("Left hand")),
    Choice("l_wrist_forearm", N_("Left wrist or forearm")),
    Choice("l_elbow_upper_arm", N_("Left elbow or upper arm")),
    Choice("l_shoulder", N_("Left shoulder")),
    Choice("r_foot", N_("Right foot")),
    Choice("r_ankle_lower_leg", N_("Right ankle or lower leg")),
    Choice("r_knee_thigh", N_("Right knee or thigh")),
    Choice("r_hip", N_("Right hip")),
    Choice("l_foot", N_("Left foot")),
    Choice("l_ankle_lower_leg", N_("Left ankle or lower leg")),
    Choice("l_knee_thigh", N_("Left knee or thigh")),
    Choice("l_hip", N_("Left hip")),
    Choice("head_neck", N_("Head or neck")),
    Choice("chest_abdomen", N_("Chest or belly")),
    Choice("back", N_("Back")),
)

#: *policy*: a "no" to DAST-10 item 1 skips items 2-10 (a clinic may switch it off).
DAST_SKIP = "dast_skip"

PREGNANCY_RULE = All((OneOf("sex_at_birth", ("female", "intersex", "prefer_not")),
                      AgeAtMost(PREGNANCY_MAX_AGE)))
PHQ9_ITEMS = tuple(f"phq9_{n}" for n in range(1, 10))

PHQ9_WORDING = (
    N_("Little interest or pleasure in doing things"),
    N_("Feeling down, depressed, or hopeless"),
    N_("Trouble falling or staying asleep, or sleeping too much"),
    N_("Feeling tired or having little energy"),
    N_("Poor appetite or overeating"),
    N_("Feeling bad about yourself — or that you are a failure or have let yourself or "
       "your family down"),
    N_("Trouble concentrating on things, such as reading the newspaper or watching "
       "television"),
    N_("Moving or speaking so slowly that other people could have noticed? Or the "
       "opposite — being so fidgety or restless that you have been moving around a lot "
       "more than usual"),
    N_("Thoughts that you would be better off dead or of hurting yourself in some way"),
)
GAD7_WORDING = (
    N_("Feeling nervous, anxious, or on edge"),
    N_("Not being able to stop or control worrying"),
    N_("Worrying too much about different things"),
    N_("Trouble relaxing"),
    N_("Being so restless that it is hard to sit still"),
    N_("Becoming easily annoyed or irritable"),
    N_("Feeling afraid, as if something awful might happen"),
)
DAST_WORDING = (
    N_("Have you used drugs other than those required for medical reasons?"),
    N_("Do you abuse more than one drug at a time?"),
    N_("Are you always able to stop using drugs when you want to?"),
    N_('Have you had "blackouts" or "flashbacks" as a result of drug use?'),
    N_("Do you ever feel bad or guilty about your drug use?"),
    N_("Does your spouse (or parents) ever complain about your involvement with drugs?"),
    N_("Have you neglected your family because of your use of drugs?"),
    N_("Have you engaged in illegal activities in order to obtain drugs?"),
    N_("Have you ever experienced withdrawal symptoms (felt sick) when you stopped taking "
       "drugs?"),
    N_("Have you had medical problems as a result of your drug use (e.g., memory loss, "
       "hepatitis, convulsions, bleeding, etc.)?"),
)


BENEFIT_QUESTIONS = {
    "pt": N_("How much did physical therapy help?"),
    "ot_gmi": N_("How much did occupational therapy, graded motor imagery or mirror "
                 "therapy help?"),
    "psychology": N_("How much did pain psychology or CBT help?"),
    "gabapentinoid": N_("How much did gabapentin or pregabalin help?"),
    "tca_snri": N_("How much did amitriptyline, nortriptyline, duloxetine or similar help?"),
    "nsaid": N_("How much did anti-inflammatories help?"),
    "opioid": N_("How much did opioid pain medicine help?"),
    "oral_steroid": N_("How much did steroid tablets help?"),
    "bisphosphonate": N_("How much did bisphosphonates help?"),
    "topical": N_("How much did creams or patches help?"),
    "sympathetic_block": N_("How much did the sympathetic nerve block help?"),
    "other_block": N_("How much did the other nerve block or injection help?"),
    "scs": N_("How much did the spinal cord stimulator help?"),
    "drg": N_("How much did the dorsal root ganglion stimulator help?"),
    "ivig": N_("How much did IVIG help?"),
    "iv_lidocaine": N_("How much did IV lidocaine help?"),
}


def _benefit_items() -> tuple[Item, ...]:
    return tuple(
        single(
            f"benefit_{code}", question, BENEFIT,
            shown_when=Ticked(code, "treatments_tried"),
            follow_up=N_("If you tried it:"),
        )
        for code, question in BENEFIT_QUESTIONS.items()
    )


_STEPS = (
    Step("consent", N_("Before you start"), (
        Item("consent_data_use", "accept", N_(
            "I understand that my answers go to the clinic's doctors. I understand that "
            "this questionnaire does not diagnose any condition. I understand that the "
            "clinic stores my answers in a secure way."), required=True),
    )),
    Step("about", N_("About you"), (
        text("first_name", N_("First name"), NAME_MAX, required=True, autocomplete="given-name"),
        text("last_name", N_("Last name"), NAME_MAX, required=True, autocomplete="family-name"),
        Item("dob", "date", N_("Date of birth"), hint=N_("For example: 3 15 1980"),
             required=True, autocomplete="bday"),
        single("sex_at_birth", N_("Sex assigned at birth"), (
            Choice("female", N_("Female")),
            Choice("male", N_("Male")),
            Choice("intersex", N_("Intersex")),
            Choice("prefer_not", N_("I prefer not to say")),
        ), required=True),
        text("phone", N_("Phone number"), hint=N_("For example: (305) 555-0100"),
             required=True, autocomplete="tel"),
        text("email", N_("Email"), hint=N_("Optional"), autocomplete="email"),
        single("preferred_contact", N_("How should the clinic contact you?"), (
            Choice("phone", N_("Phone call")),
            Choice("text", N_("Text message")),
            Choice("email", N_("Email")),
        )),
        single("preferred_language", N_("Language you prefer for calls and letters"), (
            Choice("en", N_("English")),
            Choice("es", N_("Spanish")),
            Choice("other", N_("Another language")),
        )),
        Item("height_cm", "number", N_("Height"), minimum=50, maximum=250,
             hint=N_("In feet and inches, or in centimeters")),
        Item("weight_kg", "number", N_("Weight"), minimum=20, maximum=350,
             hint=N_("In pounds, or in kilograms")),
    )),
    Step("pain_history", N_("Where and when your pain started"), (
        multi("pain_regions", N_("Where is your pain?"), PAIN_REGIONS,
              hint=N_("Tick every place that hurts.")),
        single("inciting_event", N_("What started it?"), (
            Choice("fracture", N_("A broken bone")),
            Choice("surgery", N_("Surgery")),
            Choice("sprain", N_("A sprain or strain")),
            Choice("crush", N_("A crush injury")),
            Choice("nerve_injury", N_("A nerve injury")),
            Choice("other", N_("Something else")),
            Choice("none_unknown", N_("Nothing I know of")),
        )),
        text("inciting_event_other", N_("Please describe what started it"),
             shown_when=Equals("inciting_event", "other"),
             follow_up=N_("If you answered “Something else”:")),
        Item("onset", "month", N_("When did this pain start?"),
             hint=N_("Month and year")),
        ynu("clinician_dx_crps",
            N_("Has a doctor told you that you have CRPS (also called RSD)?")),
        single("crps_type", N_("Which type?"), (
            Choice("type1", N_("Type 1")),
            Choice("type2", N_("Type 2")),
            Choice("unknown", N_("I don't know")),
        ), shown_when=Equals("clinician_dx_crps", "yes"), follow_up=N_("If you answered yes:")),
        ynu("pain_spread", N_("Has the pain spread beyond where it started?")),
        text("other_dx_suggested",
             N_("Have doctors suggested any other cause for your pain?"), hint=N_("Optional")),
    )),
    Step("pain_now", N_("How much it hurts"), (
        scale10("nrs_now", N_("Your pain right now"), PAIN_ANCHORS),
        scale10("nrs_avg_week",
                N_("What number best describes your pain on average in the past week?"),
                PAIN_ANCHORS, instrument="peg"),
        scale10("nrs_worst_week", N_("Your worst pain in the past week"), PAIN_ANCHORS),
        scale10("peg_enjoyment",
                N_("What number best describes how, during the past week, pain has "
                   "interfered with your enjoyment of life?"),
                INTERFERE_ANCHORS, instrument="peg"),
        scale10("peg_activity",
                N_("What number best describes how, during the past week, pain has "
                   "interfered with your general activity?"),
                INTERFERE_ANCHORS, instrument="peg"),
        ynu("pain_disproportionate",
            N_("Does your pain keep going, and is it much worse or lasting much longer "
               "than you would expect from what started it?")),
    )),
    Step("symptoms", N_("Changes in the painful area"), (
        symptom("s_hyperesthesia", "sensory",
                N_("Skin that is much more sensitive than normal"), preamble=SYMPTOMS_STEM),
        symptom("s_allodynia", "sensory",
                N_("Pain from things that should not hurt: light touch, clothes or bed "
                   "sheets, water, warm or cold, gentle pressure, or moving a joint")),
        symptom("s_hyperalgesia", "sensory",
                N_("Something sharp, like a pin, hurts far more than you would expect")),
        symptom("v_temp", "vasomotor", N_("A difference in temperature (warmer or colder)")),
        symptom("v_color", "vasomotor",
                N_("A change in skin color (red, blue, blotchy or pale) or a difference "
                   "from the other side")),
        symptom("e_swelling", "sudomotor_edema", N_("Swelling")),
        symptom("e_sweating", "sudomotor_edema", N_("More or less sweating than the other side")),
        symptom("m_rom", "motor_trophic", N_("Stiffness or less movement in the joints")),
        symptom("m_weakness", "motor_trophic", N_("Weakness")),
        symptom("m_tremor", "motor_trophic", N_("Shaking, tremor or jerks")),
        symptom("m_dystonia", "motor_trophic",
                N_("The limb gets stuck, cramps or twists into an unusual position")),
        symptom("t_hair", "motor_trophic",
                N_("Hair growing differently (more, less, thicker, thinner)")),
        symptom("t_nail", "motor_trophic", N_("Nails growing differently")),
        symptom("t_skin", "motor_trophic",
                N_("Skin looking different (shiny, thin, or a different texture)")),
    )),
    Step("treatments", N_("Treatments you have tried"), (
        multi("treatments_tried", N_("Which of these have you tried for this pain?"), TREATMENTS),
        *_benefit_items(),
        single("scs_status", N_("Your spinal cord stimulator"), DEVICE_STATUS,
               shown_when=Ticked("scs", "treatments_tried"),
               follow_up=N_("If you tried a spinal cord stimulator:")),
        single("drg_status", N_("Your dorsal root ganglion stimulator"), DEVICE_STATUS,
               shown_when=Ticked("drg", "treatments_tried"),
               follow_up=N_("If you tried a dorsal root ganglion stimulator:")),
        single("prior_ketamine", N_("Have you had ketamine treatment before?"), (
            Choice("none", N_("No")),
            Choice("iv", N_("Yes, by IV infusion")),
            Choice("oral", N_("Yes, by mouth")),
            Choice("nasal", N_("Yes, by nasal spray")),
            Choice("other", N_("Yes, another way")),
        )),
        Item("prior_ketamine_year", "number", N_("Year of your last ketamine treatment"),
             minimum=1940, maximum=SUBMISSION_YEAR, whole=True,
             shown_when=NotEquals("prior_ketamine", "none"),
             follow_up=N_("If you have had ketamine treatment:")),
        single("prior_ketamine_benefit", N_("How much did the ketamine help?"), BENEFIT,
               shown_when=NotEquals("prior_ketamine", "none"),
               follow_up=N_("If you have had ketamine treatment:")),
        Item("prior_ketamine_weeks", "number", N_("For how many weeks did it help?"),
             minimum=0, maximum=520, whole=True,
             shown_when=NotEquals("prior_ketamine", "none"),
             follow_up=N_("If you have had ketamine treatment:")),
    )),
    Step("medical", N_("Health conditions"), (
        ynu("htn", N_("Do you have high blood pressure, or take medicine for it?")),
        ynu("htn_controlled", N_("Is your blood pressure well controlled?"),
            shown_when=Equals("htn", "yes"), follow_up=N_("If you answered yes:")),
        Item("bp_systolic", "number", N_("Your most recent blood pressure: top number"),
             minimum=60, maximum=260, whole=True, hint=N_("For example: 120")),
        Item("bp_diastolic", "number", N_("Your most recent blood pressure: bottom number"),
             minimum=30, maximum=160, whole=True, hint=N_("For example: 80")),
        yn("angina_rest",
           N_("In the past month, have you had chest pain or pressure while resting?")),
        yn("mi", N_("Have you ever had a heart attack?")),
        single("mi_when", N_("How long ago was the last heart attack?"), HOW_LONG_AGO,
               shown_when=Equals("mi", "yes"), follow_up=N_("If you answered yes:")),
        yn("stroke_tia", N_("Have you ever had a stroke or mini-stroke (TIA)?")),
        single("stroke_when", N_("How long ago was the last stroke or mini-stroke?"),
               HOW_LONG_AGO, shown_when=Equals("stroke_tia", "yes"),
               follow_up=N_("If you answered yes:")),
        single("heart_failure", N_("Have you been told you have heart failure?"), (
            Choice("none", N_("No")),
            Choice("stable", N_("Yes, and I can do my usual activities")),
            Choice("symptoms_at_rest", N_("Yes, and I get short of breath even when resting")),
        )),
        yn("arrhythmia", N_("Do you have an irregular heartbeat (such as atrial fibrillation)?")),
        yn("cad_other", N_("Do you have any other heart disease, stents or bypass surgery?")),
        multi("liver", N_("Do you have liver disease?"), (
            Choice("fatty", N_("Fatty liver")),
            Choice("hepatitis", N_("Hepatitis")),
            Choice("cirrhosis", N_("Cirrhosis (scarring of the liver)")),
            Choice("liver_failure", N_("Liver failure")),
            Choice("other", N_("Other liver disease")),
            Choice("none", N_("None")),
        )),
        single("thyroid", N_("Do you have a thyroid problem?"), (
            Choice("none", N_("No")),
            Choice("overactive_treated", N_("Overactive thyroid, and I get treatment for it")),
            Choice("overactive_untreated", N_("Overactive thyroid, not treated")),
            Choice("underactive", N_("Underactive thyroid")),
        )),
        yn("glaucoma", N_("Do you have glaucoma or high pressure in the eyes?")),
        yn("icp_condition",
           N_("Do you have a brain tumor, a shunt, or raised pressure in the head?")),
        yn("head_injury_recent", N_("Have you had a head injury in the last 3 months?")),
        yn("seizures", N_("Have you ever had a seizure, or do you have epilepsy?")),
        yn("porphyria", N_("Do you have porphyria?")),
        yn("osa_dx", N_("Have you been diagnosed with sleep apnea?")),
        yn("cpap", N_("Do you use CPAP?"), shown_when=Equals("osa_dx", "yes"),
           follow_up=N_("If you answered yes:")),
        yn("bladder_symptoms",
           N_("Do you have ongoing bladder problems (pain, urgency, blood in urine)?")),
        yn("ketamine_allergy", N_("Have you ever had an allergic reaction to ketamine?")),
        long_text("allergies",
                  N_("Other allergies (medicines, latex, food) and what happened"),
                  hint=N_("Optional")),
    )),
    Step("medications", N_("Medicines"), (
        long_text("medications_list", N_("Medicines you take now"),
                  hint=N_("One per line, with the dose and how often you take it.")),
        multi("med_classes", N_("Do you take any of these now?"), (
            Choice("benzodiazepine",
                   N_("A benzodiazepine (alprazolam, lorazepam, diazepam, clonazepam…)")),
            Choice("opioid", N_("An opioid pain medicine")),
            Choice("lamotrigine", N_("Lamotrigine")),
            Choice("maoi_14d",
                   N_("An MAOI such as phenelzine or tranylcypromine, in the last 14 days")),
            Choice("stimulant", N_("A stimulant (ADHD medicine, decongestants…)")),
            Choice("thyroid_hormone", N_("Thyroid hormone")),
            Choice("theophylline", N_("Theophylline or aminophylline")),
            Choice("other_sedative", N_("Sleeping pills or muscle relaxants")),
            Choice("cannabis", N_("Cannabis")),
            Choice("none", N_("None of these")),
        )),
        text("opioid_details", N_("Which opioid, what dose and how often?"),
             shown_when=Ticked("opioid", "med_classes"),
             follow_up=N_("If you take an opioid:")),
    )),
    Step("mood", N_("Mood"), (
        multi("psych_dx", N_("Has a doctor ever told you that you have:"), (
            Choice("depression", N_("Depression")),
            Choice("anxiety", N_("Anxiety")),
            Choice("ptsd", N_("PTSD")),
            Choice("bipolar", N_("Bipolar disorder")),
            Choice("schizophrenia", N_("Schizophrenia")),
            Choice("schizoaffective", N_("Schizoaffective disorder")),
            Choice("other_psychotic", N_("Another psychotic illness")),
            Choice("dissociative", N_("A dissociative disorder")),
            Choice("other", N_("Another mental health condition")),
            Choice("none", N_("None of these")),
        )),
        yn("psychosis_12mo",
           N_("In the past 12 months, have you heard voices or seen things that other "
              "people could not hear or see, when you were not using alcohol, drugs or "
              "ketamine?")),
        yn("psychosis_treated_12mo",
           N_("In the past 12 months, has a doctor treated you for psychosis (for example "
              "with antipsychotic medicine or a hospital stay)?")),
        yn("psych_hosp_12mo",
           N_("In the past 12 months, have you stayed in hospital for your mental health?")),
        *(scale3(f"phq9_{n}", wording, "phq9", preamble=PHQ_STEM if n == 1 else "")
          for n, wording in enumerate(PHQ9_WORDING, start=1)),
        single("phq9_difficulty", N_(
            "If you checked off any problems, how difficult have these problems made it "
            "for you to do your work, take care of things at home, or get along with other "
            "people?"), (
            Choice("not_difficult", N_("Not difficult at all")),
            Choice("somewhat", N_("Somewhat difficult")),
            Choice("very", N_("Very difficult")),
            Choice("extremely", N_("Extremely difficult")),
        ), shown_when=AnyAtLeast(PHQ9_ITEMS, 1), instrument="phq9"),
        *(scale3(f"gad7_{n}", wording, "gad7", preamble=GAD_STEM if n == 1 else "")
          for n, wording in enumerate(GAD7_WORDING, start=1)),
        Item("phq9_9_endorsed", "scale0_3", "", minimum=0, maximum=3, whole=True,
             system=True),
    )),
    Step("substances", N_("Alcohol and drugs"), (
        single("auditc_1", N_("How often do you have a drink containing alcohol?"), (
            Choice("never", N_("Never")),
            Choice("monthly_or_less", N_("Monthly or less")),
            Choice("2_4_month", N_("2–4 times a month")),
            Choice("2_3_week", N_("2–3 times a week")),
            Choice("4plus_week", N_("4 or more times a week")),
        ), instrument="audit_c", preamble=AUDIT_NOTE),
        single("auditc_2",
               N_("How many standard drinks containing alcohol do you have on a typical day?"), (
                   Choice("1_2", N_("1 or 2")),
                   Choice("3_4", N_("3 or 4")),
                   Choice("5_6", N_("5 or 6")),
                   Choice("7_9", N_("7 to 9")),
                   Choice("10plus", N_("10 or more")),
               ), shown_when=NotEquals("auditc_1", "never"), instrument="audit_c",
               follow_up=N_("If you ever drink alcohol:")),
        single("auditc_3", N_("How often do you have six or more drinks on one occasion?"), (
            Choice("never", N_("Never")),
            Choice("less_monthly", N_("Less than monthly")),
            Choice("monthly", N_("Monthly")),
            Choice("weekly", N_("Weekly")),
            Choice("daily", N_("Daily or almost daily")),
        ), shown_when=NotEquals("auditc_1", "never"), instrument="audit_c",
            follow_up=N_("If you ever drink alcohol:")),
        *(yn(f"dast_{n}", wording, instrument="dast10",
             preamble=DAST_INSTRUCTIONS if n == 1 else "",
             shown_when=None if n == 1 else Equals("dast_1", "yes"),
             skip_policy=None if n == 1 else DAST_SKIP,
             follow_up="" if n == 1 else N_("If you answered yes to the first drug question:"))
          for n, wording in enumerate(DAST_WORDING, start=1)),
        single("ketamine_nonmedical", N_("Have you used ketamine, other than as prescribed?"),
               NONMEDICAL_USE),
        single("pcp_nonmedical", N_("Have you used PCP (angel dust)?"), NONMEDICAL_USE),
        yn("sud_current", N_("Do you have a drug or alcohol problem now?")),
        yn("sud_recovery", N_("Are you in recovery from a drug or alcohol problem?")),
        Item("sud_recovery_since", "number", N_("Since which year?"), minimum=1940,
             maximum=SUBMISSION_YEAR, whole=True, shown_when=Equals("sud_recovery", "yes"),
             follow_up=N_("If you are in recovery:")),
    )),
    Step("sleep", N_("Sleep and breathing"), (
        yn("sb_snore", N_("Do you snore loudly (louder than talking or loud enough to be "
                          "heard through closed doors)?"), instrument="stop_bang"),
        yn("sb_tired", N_("Do you often feel tired, fatigued, or sleepy during daytime?"),
           instrument="stop_bang"),
        yn("sb_observed", N_("Has anyone observed you stop breathing or choking/gasping "
                             "during your sleep?"), instrument="stop_bang"),
        ynu("sb_neck_large", N_("Is your neck circumference (shirt collar size) greater "
                                "than 40 cm (about 15¾ inches)?"), instrument="stop_bang"),
    )),
    Step("pregnancy", N_("Pregnancy"), (
        ynu("pregnant", N_("Are you pregnant?"), shown_when=PREGNANCY_RULE),
        yn("breastfeeding", N_("Are you breastfeeding?"), shown_when=PREGNANCY_RULE),
        yn("planning_pregnancy", N_("Are you planning a pregnancy in the next 6 months?"),
           shown_when=PREGNANCY_RULE),
        Item("lmp", "date", N_("First day of your last period"),
             hint=N_("If you know it"), shown_when=PREGNANCY_RULE),
    ), shown_when=PREGNANCY_RULE),
    Step("logistics", N_("Planning your visit"), (
        yn("escort", N_("Can a responsible adult take you home after each infusion?")),
        Item("no_drive_ack", "accept",
             N_("I understand I must not drive for 24 hours after an infusion.")),
        text("referring_physician", N_("Who referred you (name and practice)?"),
             hint=N_("Optional")),
        text("insurance_provider", N_("Your insurance company"), hint=N_("Optional")),
        long_text("comments", N_("Anything else you want the doctor to know?"),
                  hint=N_("Optional")),
    )),
)


def _with_step(step: Step) -> Step:
    items = tuple(
        Item(**{**item.__dict__, "step": step.slug}) for item in step.items
    )
    return Step(step.slug, step.title, items, step.intro, step.shown_when)


STEPS: tuple[Step, ...] = tuple(_with_step(s) for s in _STEPS)
STEP_BY_SLUG: dict[str, Step] = {s.slug: s for s in STEPS}
ITEMS: dict[str, Item] = {i.id: i for s in STEPS for i in s.items}
_ADULT_ONLY_STEPS = frozenset(
    s.slug for s in STEPS[[s.slug for s in STEPS].index(ADULT_ONLY_AFTER) + 1:]
)

YES_CODES = ("yes",)


# --- dates and ages ---------------------------------------------------------------


def parse_date(value: Any) -> dt.date | None:
    """A ``YYYY-MM-DD`` string as a date, or None when it is not one."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def age_on(dob: dt.date, reference: dt.date) -> int:
    """Completed years; a 29 February birthday is reached on 1 March in other years."""
    return reference.year - dob.year - ((reference.month, reference.day) < (dob.month, dob.day))


def age_from(answers: Mapping[str, Any], reference: dt.date) -> int | None:
    dob = parse_date(answers.get("dob"))
    return age_on(dob, reference) if dob else None


def months_between(month: str, reference: dt.date) -> int:
    """Whole months from the 1st of ``YYYY-MM`` to the reference date."""
    year, mon = int(month[:4]), int(month[5:7])
    return (reference.year - year) * 12 + reference.month - mon


# --- shown-when -------------------------------------------------------------------


def step_shown(step: Step, answers: Mapping[str, Any], reference: dt.date,
               switched_off: frozenset[str] = frozenset()) -> bool:
    age = age_from(answers, reference)
    if step.slug in _ADULT_ONLY_STEPS and age is not None and age < ADULT_AGE:
        return False
    if step.shown_when is not None and not step.shown_when.holds(answers, age):
        return False
    return any(
        not item.system and item.instrument not in switched_off for item in step.items
    )


def condition(item: Item, switched_off: frozenset[str] = frozenset()) -> Any:
    """The item's shown-when rule under the clinic's policy (None: always shown)."""
    return None if item.skip_policy in switched_off else item.shown_when


def item_shown(item: Item, answers: Mapping[str, Any], reference: dt.date,
               switched_off: frozenset[str] = frozenset()) -> bool:
    """Whether the item applies; a system item applies wherever its step does.

    ``switched_off`` names the instruments a clinic does not ask and the skip policies
    it has turned off.
    """
    if item.instrument in switched_off:
        return False
    if not step_shown(STEP_BY_SLUG[item.step], answers, reference, switched_off):
        return False
    rule = condition(item, switched_off)
    return rule is None or rule.holds(answers, age_from(answers, reference))


def shown_steps(answers: Mapping[str, Any], reference: dt.date,
                switched_off: frozenset[str] = frozenset()) -> list[Step]:
    return [s for s in STEPS if step_shown(s, answers, reference, switched_off)]


def drop_hidden(answers: Mapping[str, Any], reference: dt.date,
                switched_off: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The answers without those to items that are not shown (repeated until stable).

    Unknown keys are kept so that validation can name them.
    """
    kept = {k: v for k, v in answers.items() if v is not None and v != []}
    while True:
        hidden = [
            k for k in kept
            if k in ITEMS and not item_shown(ITEMS[k], kept, reference, switched_off)
        ]
        if not hidden:
            return kept
        for k in hidden:
            del kept[k]


# --- time to answer ---------------------------------------------------------------

#: The pace behind the landing page's estimate: words read a minute, seconds an answer.
READING_WORDS_PER_MINUTE = 150
SECONDS_PER_ANSWER = 5


def texts_to_read(item: Item) -> tuple[str, ...]:
    """The texts a patient reads to answer an item, untranslated: stem, question, hint, choices."""
    texts = (item.preamble, item.follow_up, item.label, item.hint, *(item.anchors or ()),
             *(c.label for c in item.choices))
    return tuple(t for t in texts if t)


def _minutes(items: list[Item]) -> int:
    """Whole minutes to read these items (and their steps' titles) and answer each one."""
    texts = [t for i in items for t in texts_to_read(i)]
    texts += [STEP_BY_SLUG[slug].title for slug in dict.fromkeys(i.step for i in items)]
    words = sum(len(t.split()) for t in texts)
    seconds = words * 60 / READING_WORDS_PER_MINUTE + SECONDS_PER_ANSWER * len(items)
    return max(1, round(seconds / 60))


def minutes_to_answer(switched_off: frozenset[str] = frozenset()) -> tuple[int, int]:
    """How long an adult takes, as (shortest path, longest path) in whole minutes.

    The shortest path shows only the items without a shown-when rule (each rule is false
    for some adult's answers); the longest shows every item the clinic asks.
    """
    asked = [i for s in STEPS for i in s.items if not i.system and i.instrument not in switched_off]
    always = [i for i in asked
              if STEP_BY_SLUG[i.step].shown_when is None and condition(i, switched_off) is None]
    return _minutes(always), _minutes(asked)


# --- values: normalisation and checks ----------------------------------------------

#: Control characters (Unicode category Cc) other than TAB and LF.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalise_text(value: str) -> str | None:
    """Trimmed, with CR LF and CR as LF; empty or blank text is unanswered (None)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value or None


def text_problem(item: Item, value: str) -> str | None:
    """Why a (normalised) text answer is refused, or None."""
    if _CONTROL.search(value):
        return N_("Please remove special control characters from this answer.")
    if item.max_length and len(value) > item.max_length:
        return N_("Please use at most %(max)d characters.")
    if item.max_lines and value.count("\n") + 1 > item.max_lines:
        return N_("Please use at most %(lines)d lines.")
    return None


def email_ok(value: str) -> bool:
    """Exactly one @ and a dot in the domain (the spec's rule, shared by form and scorer)."""
    return value.count("@") == 1 and "." in value.partition("@")[2]


def upper_bound(item: Item, reference: dt.date) -> float | None:
    return reference.year if item.maximum == SUBMISSION_YEAR else item.maximum


class MalformedAnswers(ValueError):
    """An answers file the form would never have stored."""

    def __init__(self, item: str, problem: str):
        super().__init__(f"{item}: {problem}")
        self.item = item
        self.problem = problem


def _check(item: Item, value: Any, reference: dt.date) -> Any:
    """The stored value of one answer, or raise ``MalformedAnswers``."""

    def bad(problem: str) -> MalformedAnswers:
        return MalformedAnswers(item.id, problem)

    kind = item.type
    if kind == "accept":
        if value is not True:
            raise bad("must be true")
        return True
    if kind in ("yn", "ynu", "single"):
        if not isinstance(value, str) or value not in item.codes:
            raise bad(f"unknown code {value!r}")
        return value
    if kind == "multi":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("must be a list of codes")
        unknown = [v for v in value if v not in item.codes]
        if unknown:
            raise bad(f"unknown code {unknown[0]!r}")
        if len(set(value)) != len(value):
            raise bad("a code is listed twice")
        if "none" in value and len(value) > 1:
            raise bad("'none' cannot be combined with another code")
        return value
    if kind in ("scale0_10", "scale0_3", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("must be a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise bad("must be a number")
        if item.whole:
            if value != int(value):
                raise bad("must be a whole number")
            value = int(value)
        high = upper_bound(item, reference)
        if value < item.minimum or value > high:
            raise bad(f"must be from {item.minimum} to {high}")
        return value
    if kind == "date":
        date = parse_date(value)
        if date is None:
            raise bad("must be a date written YYYY-MM-DD")
        if date > reference:
            raise bad("is after the submission date")
        if item.id == "dob" and age_on(date, reference) > 120:
            raise bad("gives an age over 120")
        return value
    if kind == "month":
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
            raise bad("must be a month written YYYY-MM")
        if value > reference.strftime("%Y-%m"):
            raise bad("is after the submission month")
        return value
    if kind in ("text", "text_multiline"):
        if not isinstance(value, str):
            raise bad("must be text")
        value = normalise_text(value)
        if value is None:
            return None
        problem = text_problem(item, value)
        if problem:
            raise bad(problem % {"max": item.max_length or 0, "lines": item.max_lines or 0})
        if item.id == "phone" and not E164.match(value):
            raise bad("must be a phone number in E.164 form, like +13055550100")
        if item.id == "email" and not email_ok(value):
            raise bad("must be an email address")
        return value
    raise bad(f"unknown item type {kind}")


def clean_answers(answers: Any, reference: dt.date,
                  switched_off: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What the form would have stored for these answers; ``MalformedAnswers`` otherwise.

    Answers to hidden items are dropped first, without being validated (spec §1).
    """
    if not isinstance(answers, dict):
        raise MalformedAnswers("answers", "must be an object keyed by item id")
    for key in answers:
        if key not in ITEMS:
            raise MalformedAnswers(key, "unknown item id")
    normalised = {}
    for key, value in answers.items():
        if isinstance(value, str) and ITEMS[key].type in ("text", "text_multiline"):
            value = normalise_text(value)
        normalised[key] = value
    kept = drop_hidden(normalised, reference, switched_off)
    cleaned = {}
    for key, value in kept.items():
        value = _check(ITEMS[key], value, reference)
        if value is not None:
            cleaned[key] = value
    for item in ITEMS.values():
        if item.required and item.id not in cleaned:
            raise MalformedAnswers(item.id, "is required")
    return cleaned


def answer_label(item: Item, value: Any) -> str | list[str]:
    """The patient's answer in words (untranslated), for the review page and the PDF."""
    if item.type == "multi":
        return [item.choice_label(code) for code in value]
    if item.type in ("yn", "ynu", "single"):
        return item.choice_label(value)
    if item.type == "scale0_3":
        return item.choice_label(str(value))
    if item.type == "accept":
        return N_("Yes")
    return str(value)
