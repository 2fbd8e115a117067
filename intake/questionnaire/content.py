"""The clinical content as plain data: the steps, their items, choices and wording.

This is the file a clinician reviews (questionnaire.md); everything else (the forms,
the review page, the scorer, the PDF, the exports) is built from it.
"""

from __future__ import annotations

from typing import Any

from intake.policy import DAST_SKIP
from intake.questionnaire.conditions import (
    Age,
    All,
    AtLeast,
    Equals,
    NotEquals,
    OneOf,
    Setting,
    ticked,
)
from intake.questionnaire.model import N_, Choice, Crisis, Item, Questionnaire, Step

QUESTIONNAIRE_VERSION = "2025.1"

ADULT_AGE = 18

NAME_MAX = 100
TEXT_MAX = 200
MULTILINE_MAX = 20_000
MULTILINE_MAX_LINES = 5_000
#: The *year* bound of an item's range: the submission's year.
SUBMISSION_YEAR = "submission year"


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
#: How the review page names the DAST-10 when its answers are missing.
DRUG_USE_QUESTIONS = N_("The drug use questions")
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


PREGNANCY_RULE = All((OneOf("sex_at_birth", ("female", "intersex", "prefer_not")),
                      Age("at most", Setting("pregnancy_max_age"))))
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
            shown_when=ticked("treatments_tried", code),
            follow_up=N_("If you tried it:"),
        )
        for code, question in BENEFIT_QUESTIONS.items()
    )


_STEPS = (
    Step("consent", N_("Before you start"), (
        Item("consent_data_use", "accept", N_(
            "I understand that my answers go to the clinic's doctors. I understand that "
            "this questionnaire does not diagnose any condition. I understand that the "
            "clinic stores my answers in a secure way."), required=True,
            short=N_("Your agreement")),
    ), copy="privacy"),
    Step("about", N_("About you"), (
        text("first_name", N_("First name"), NAME_MAX, required=True, autocomplete="given-name"),
        text("last_name", N_("Last name"), NAME_MAX, required=True, autocomplete="family-name"),
        Item("dob", "date", N_("Date of birth"), hint=N_("For example: 3 15 1980"),
             required=True, autocomplete="bday", format="birth_date"),
        single("sex_at_birth", N_("Sex assigned at birth"), (
            Choice("female", N_("Female")),
            Choice("male", N_("Male")),
            Choice("intersex", N_("Intersex")),
            Choice("prefer_not", N_("I prefer not to say")),
        ), required=True),
        text("phone", N_("Phone number"), hint=N_("For example: (305) 555-0100"),
             required=True, autocomplete="tel", format="phone"),
        text("email", N_("Email"), hint=N_("Optional"), autocomplete="email", format="email"),
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
             hint=N_("In feet and inches, or in centimeters"), format="height", unit="cm"),
        Item("weight_kg", "number", N_("Weight"), minimum=20, maximum=350,
             hint=N_("In pounds, or in kilograms"), format="weight", unit="kg"),
    )),
    Step("pain_history", N_("Where and when your pain started"), (
        multi("pain_regions", N_("Where is your pain?"), PAIN_REGIONS, format="body_map",
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
    ), breaks=("inciting_event",)),
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
        symptom("m_rom", "motor_trophic", N_("Stiffness or less movement in the joints"),
                preamble=SYMPTOMS_STEM),
        symptom("m_weakness", "motor_trophic", N_("Weakness")),
        symptom("m_tremor", "motor_trophic", N_("Shaking, tremor or jerks")),
        symptom("m_dystonia", "motor_trophic",
                N_("The limb gets stuck, cramps or twists into an unusual position")),
        symptom("t_hair", "motor_trophic",
                N_("Hair growing differently (more, less, thicker, thinner)")),
        symptom("t_nail", "motor_trophic", N_("Nails growing differently")),
        symptom("t_skin", "motor_trophic",
                N_("Skin looking different (shiny, thin, or a different texture)")),
    ), breaks=("m_rom",)),
    Step("treatments", N_("Treatments you have tried"), (
        multi("treatments_tried", N_("Which of these have you tried for this pain?"), TREATMENTS),
        *_benefit_items(),
        single("scs_status", N_("Your spinal cord stimulator"), DEVICE_STATUS,
               shown_when=ticked("treatments_tried", "scs"),
               follow_up=N_("If you tried a spinal cord stimulator:")),
        single("drg_status", N_("Your dorsal root ganglion stimulator"), DEVICE_STATUS,
               shown_when=ticked("treatments_tried", "drg"),
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
             minimum=0, maximum=520, whole=True, unit="weeks",
             shown_when=NotEquals("prior_ketamine", "none"),
             follow_up=N_("If you have had ketamine treatment:")),
    ), breaks=("benefit_gabapentinoid", "benefit_sympathetic_block", "prior_ketamine")),
    Step("medical", N_("Health conditions"), (
        ynu("htn", N_("Do you have high blood pressure, or take medicine for it?")),
        ynu("htn_controlled", N_("Is your blood pressure well controlled?"),
            shown_when=Equals("htn", "yes"), follow_up=N_("If you answered yes:")),
        Item("bp_systolic", "number", N_("Your most recent blood pressure: top number"),
             minimum=60, maximum=260, whole=True, unit="mmHg", hint=N_("For example: 120")),
        Item("bp_diastolic", "number", N_("Your most recent blood pressure: bottom number"),
             minimum=30, maximum=160, whole=True, unit="mmHg", hint=N_("For example: 80")),
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
    ), breaks=("liver",)),
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
             shown_when=ticked("med_classes", "opioid"),
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
        *(scale3(f"phq9_{n}", wording, "phq9", preamble=PHQ_STEM if n in (1, 6) else "")
          for n, wording in enumerate(PHQ9_WORDING, start=1)),
        single("phq9_difficulty", N_(
            "If you checked off any problems, how difficult have these problems made it "
            "for you to do your work, take care of things at home, or get along with other "
            "people?"), (
            Choice("not_difficult", N_("Not difficult at all")),
            Choice("somewhat", N_("Somewhat difficult")),
            Choice("very", N_("Very difficult")),
            Choice("extremely", N_("Extremely difficult")),
        ), shown_when=AtLeast(PHQ9_ITEMS, 1), instrument="phq9"),
        *(scale3(f"gad7_{n}", wording, "gad7", preamble=GAD_STEM if n == 1 else "")
          for n, wording in enumerate(GAD7_WORDING, start=1)),
        Item("phq9_9_endorsed", "scale0_3", "", minimum=0, maximum=3, whole=True,
             system=True),
    ), breaks=("phq9_1", "phq9_6", "gad7_1")),
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
             preamble=DAST_INSTRUCTIONS if n in (1, 2, 7) else "",
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
    ), breaks=("dast_2", "dast_7", "ketamine_nonmedical")),
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
    ), copy="visit"),
)


#: What the rules call each item and measure they read, in the words staff use.
TERMS = {
    "sex_at_birth": "sex at birth",
    "phq9_9": "PHQ-9 item 9, thoughts of death or self-harm",
    "phq9_9_endorsed": "the highest item 9 answer at an earlier save",
    "pregnant": "pregnant",
    "breastfeeding": "breastfeeding",
    "bp_systolic": "top blood pressure number",
    "bp_diastolic": "bottom blood pressure number",
    "htn": "high blood pressure",
    "htn_controlled": "well controlled",
    "angina_rest": "chest pain at rest in the past month",
    "mi": "heart attack",
    "mi_when": "when",
    "stroke_tia": "stroke or TIA",
    "stroke_when": "when",
    "heart_failure": "heart failure",
    "cad_other": "other heart disease",
    "arrhythmia": "irregular heartbeat",
    "psychosis_12mo": "voices or visions in the past 12 months",
    "psychosis_treated_12mo": "treated for psychosis in the past 12 months",
    "psych_dx": "diagnoses",
    "psych_hosp_12mo": "mental health hospital stay in the past 12 months",
    "sud_current": "a drug or alcohol problem now",
    "sud_recovery": "in recovery",
    "ketamine_nonmedical": "ketamine other than as prescribed",
    "pcp_nonmedical": "PCP",
    "liver": "liver disease",
    "thyroid": "thyroid",
    "icp_condition": "brain tumor, shunt or raised pressure in the head",
    "glaucoma": "glaucoma or high eye pressure",
    "head_injury_recent": "head injury in the last 3 months",
    "seizures": "seizure or epilepsy",
    "porphyria": "porphyria",
    "osa_dx": "diagnosed sleep apnea",
    "bladder_symptoms": "ongoing bladder problems",
    "med_classes": "medicines taken now",
    "ketamine_allergy": "allergic reaction to ketamine",
    "escort": "an adult to take them home",
    "scs_status": "spinal cord stimulator",
    "drg_status": "dorsal root ganglion stimulator",
    "prior_ketamine": "ketamine treatment before",
    "phq9": "PHQ-9 answered sum",
    "gad7": "GAD-7 answered sum",
    "audit_c": "AUDIT-C answered sum",
    "dast10": "DAST-10 answered sum",
    "stop_bang": "STOP-Bang answered sum",
}

INTAKE = Questionnaire(
    "intake", QUESTIONNAIRE_VERSION, "Intake", _STEPS,
    link_after="about", adult_only_after="about",
    crisis=Crisis(item="phq9_9", sticky="phq9_9_endorsed"),
    terms=TERMS,
)
#: The intake's steps and items, for the rules written against them (scoring, demo data).
STEPS: tuple[Step, ...] = INTAKE.steps
STEP_BY_SLUG: dict[str, Step] = INTAKE.step_by_slug
ITEMS: dict[str, Item] = INTAKE.items
