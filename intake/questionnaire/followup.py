"""The follow-up questionnaire after an infusion (followup.md §3), as a clinician reviews
it: its steps, items, codes and wording. The questions it shares with the intake (pain,
PEG, PHQ-9) are the intake's own items, so their wording, codes and translations are
written once."""

from __future__ import annotations

from intake.questionnaire.conditions import Equals, ticked
from intake.questionnaire.content import INTAKE, long_text, multi, single, text, yn
from intake.questionnaire.model import N_, Choice, Crisis, Questionnaire, Step

#: The follow-up's own definition, kept per release like the intake's.
FOLLOWUP_VERSION = "2026.1"

_SHARED = INTAKE.items

SIDE_EFFECTS = (
    Choice("nausea_vomiting", N_("Nausea or vomiting")),
    Choice("dizziness", N_("Dizziness or light-headedness")),
    Choice("vision", N_("Blurred or double vision")),
    Choice("headache", N_("Headache")),
    Choice("drowsiness", N_("Tiredness or drowsiness")),
    Choice("hallucinations", N_("Hallucinations or vivid dreams")),
    Choice("heart_bp", N_("A fast heartbeat or high blood pressure")),
    Choice("mood", N_("Mood changes")),
    Choice("urinary", N_("Pain or burning when passing urine, needing to go often or "
                         "urgently, or blood in the urine")),
    Choice("seizure", N_("A seizure (fit)")),
    Choice("allergic_reaction", N_("An allergic reaction (rash, swelling, or trouble "
                                   "breathing)")),
    Choice("other", N_("Something else")),
    Choice("none", N_("None of these")),
)
#: Any side effect at all: every code but "none".
ANY_SIDE_EFFECT = ticked("side_effects", *(c.code for c in SIDE_EFFECTS if c.code != "none"))

PGIC = (
    Choice("very_much_improved", N_("Very much better")),
    Choice("much_improved", N_("Much better")),
    Choice("minimally_improved", N_("A little better")),
    Choice("no_change", N_("No change")),
    Choice("minimally_worse", N_("A little worse")),
    Choice("much_worse", N_("Much worse")),
    Choice("very_much_worse", N_("Very much worse")),
)

_STEPS = (
    Step("fu_pain", N_("Your pain now"), tuple(
        _SHARED[i] for i in ("nrs_now", "nrs_avg_week", "nrs_worst_week", "peg_enjoyment",
                             "peg_activity"))),
    Step("fu_change", N_("What has changed"), (
        single("pgic", N_("Since you started treatment at this clinic, how would you describe "
                          "the change, if any, in your pain and in how you manage your daily "
                          "life?"), PGIC, short=N_("The change since you started")),
        single("relief_lasted", N_("After your last infusion, how long did your pain relief "
                                   "last?"), (
            Choice("none", N_("I had no relief")),
            Choice("under_1wk", N_("Less than a week")),
            Choice("1_2wk", N_("1 to 2 weeks")),
            Choice("3_4wk", N_("3 to 4 weeks")),
            Choice("5_8wk", N_("5 to 8 weeks")),
            Choice("over_8wk", N_("More than 8 weeks")),
            Choice("still_now", N_("I still have relief now")),
        ), short=N_("How long the relief lasted")),
    )),
    Step("fu_side_effects", N_("Since your last infusion"), (
        multi("side_effects", N_("Since your last infusion, have you had:"), SIDE_EFFECTS),
        text("side_effects_other", N_("What else?"), shown_when=ticked("side_effects", "other"),
             follow_up=N_("If you answered “Something else”:")),
        single("se_worst", N_("How bad was the worst of it?"), (
            Choice("mild", N_("Mild: it did not get in my way")),
            Choice("moderate", N_("Moderate: it got in the way of what I wanted to do")),
            Choice("severe", N_("Severe: I could not do my usual activities, or I needed "
                                "medical help")),
        ), shown_when=ANY_SIDE_EFFECT, follow_up=N_("If you had any of these:")),
        single("se_lasted", N_("How long did it last?"), (
            Choice("hours", N_("A few hours")),
            Choice("days", N_("A few days")),
            Choice("still_now", N_("I still have it")),
        ), shown_when=ANY_SIDE_EFFECT, follow_up=N_("If you had any of these:")),
        yn("er_visit", N_("Since your last infusion, have you gone to an emergency room or "
                          "stayed in a hospital?"), short=N_("Emergency room or hospital")),
        text("er_detail", N_("What happened?"), shown_when=Equals("er_visit", "yes"),
             follow_up=N_("If you answered yes:")),
    )),
    # The PHQ-9 as the intake shows it: items 6 to 9 and the difficulty question on a
    # second page, under the same instructions.
    Step("fu_mood", N_("Mood"), tuple(
        _SHARED[i] for i in (*(f"phq9_{n}" for n in range(1, 10)), "phq9_difficulty",
                             "phq9_9_endorsed")), breaks=("phq9_6",)),
    Step("fu_other", N_("Anything else"), (
        yn("ketamine_nonmedical_since", N_("Since your last infusion, have you used ketamine "
                                           "that this clinic did not give you?"),
           short=N_("Ketamine from elsewhere")),
        yn("med_changes", N_("Have any of your medicines changed since your last visit?")),
        long_text("med_changes_text", N_("Which medicines, and what changed?"),
                  shown_when=Equals("med_changes", "yes"), follow_up=N_("If you answered yes:")),
        long_text("comments", N_("Is there anything else you want your doctor to know?"),
                  hint=N_("Optional")),
    )),
)

#: The clinic's short words for what the follow-up's rules name.
TERMS = {
    "phq9_9": "PHQ-9 item 9",
    "phq9_9_endorsed": "PHQ-9 item 9 at any earlier save",
    "phq9": "PHQ-9 answered sum",
    "side_effects": "side effects since the last infusion",
    "se_worst": "the worst side effect",
    "er_visit": "emergency room or hospital since the last infusion",
    "ketamine_nonmedical_since": "ketamine not given by this clinic since the last infusion",
    "med_changes": "medicines changed",
    "nrs_avg_change": "average pain change from baseline",
    "nrs_avg_change_pct": "average pain change from baseline in %",
    "phq9_change": "PHQ-9 change from baseline",
}

FOLLOWUP = Questionnaire(
    "followup", FOLLOWUP_VERSION, "Follow-up", _STEPS,
    crisis=Crisis(item="phq9_9", sticky="phq9_9_endorsed"),
    terms=TERMS,
)
