"""Plain language: each step's own wording reads at grade 8 or below; the time estimate."""

from __future__ import annotations

import dataclasses
import re
from html import unescape

import pytest
import textstat

from intake import questionnaire as q
from intake.policy import Policy

GRADE_MAX = 8

#: Names of drugs, conditions and treatments that a patient knows by that name and that
#: have no plainer word. Each is scored as the one-syllable word "name", so the grade
#: measures the sentences around it, not the name itself.
MEDICAL_TERMS = (
    "ADHD", "CBT", "CPAP", "CRPS", "IV", "IVIG", "MAOI", "PCP", "PTSD", "RSD", "TIA",
    "alprazolam", "amitriptyline", "aminophylline", "anti-inflammatories",
    "antipsychotic", "atrial fibrillation", "benzodiazepine", "bipolar",
    "bisphosphonates", "cannabis", "cirrhosis", "clonazepam", "decongestants", "diazepam",
    "dissociative", "dorsal root ganglion", "duloxetine", "epilepsy", "gabapentin",
    "glaucoma", "graded motor imagery", "hepatitis", "ibuprofen", "infusion", "ketamine",
    "lamotrigine", "lidocaine", "lorazepam", "lumbar", "naproxen", "nortriptyline",
    "occupational therapy", "opioid", "phenelzine", "porphyria", "prednisone",
    "pregabalin", "psychosis", "psychotic", "schizoaffective", "schizophrenia",
    "sleep apnea", "stellate ganglion", "sympathetic", "theophylline", "thyroid",
    "tranylcypromine",
)
_TERM = re.compile(
    r"\b(?:" + "|".join(re.escape(t) for t in sorted(MEDICAL_TERMS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)


def own_texts(step: q.Step) -> list[str]:
    """What the patient reads of the step's own items; instruments keep their published words.

    Every text an item shows is included: stem, follow-up intro, question, hint, scale
    anchors and every choice label (yes and no too: they are read before answering).
    """
    return [
        text for item in step.items if not item.instrument and not item.system
        for text in q.texts_to_read(item)
    ]


def as_sentence(text: str) -> str:
    """A text on its own line ends like a sentence, so textstat counts it as one."""
    text = text.strip()
    return text if text[-1] in ".?!" else f"{text}."


def grade(texts: list[str]) -> float:
    """The Flesch-Kincaid grade of these texts read together, medical names as "name"."""
    return textstat.flesch_kincaid_grade(_TERM.sub("name", " ".join(map(as_sentence, texts))))


STEPS_WITH_OWN_TEXT = [step for step in q.STEPS if own_texts(step)]


@pytest.mark.parametrize("step", STEPS_WITH_OWN_TEXT, ids=lambda step: step.slug)
def test_each_step_reads_at_grade_8_or_below(step):
    figure = grade(own_texts(step))
    assert figure <= GRADE_MAX, f"{step.slug} reads at grade {figure:.1f} (at most {GRADE_MAX})"


def test_every_allowed_medical_term_is_in_the_questionnaire():
    """The allow-list names only words the patient is shown, so it cannot hide new jargon."""
    words = " ".join(text for step in q.STEPS for text in own_texts(step)).lower()
    unused = [t for t in MEDICAL_TERMS if not re.search(rf"\b{re.escape(t.lower())}\b", words)]
    assert not unused


def test_the_grade_check_catches_hard_wording():
    hard = ["Do you experience paresthesia, hyperalgesia, or other neuropathic "
            "manifestations notwithstanding pharmacological intervention?"]
    plain = ["Does your skin tingle or hurt more than it should?"]
    assert grade(hard) > GRADE_MAX >= grade(plain)
    assert grade(["Have you taken ketamine or gabapentin?"]) == grade(
        ["Have you taken name or name?"])


def test_instrument_items_are_not_scored_as_the_steps_own_words():
    mood = own_texts(q.STEP_BY_SLUG["mood"])
    assert q.PHQ_STEM not in mood and q.PHQ9_WORDING[0] not in mood
    assert not own_texts(q.STEP_BY_SLUG["sleep"])


# --- the time estimate ------------------------------------------------------------


def with_extra_item(item: q.Item) -> q.Questionnaire:
    """The intake with one more item on its last step."""
    last = q.STEPS[-1]
    steps = q.STEPS[:-1] + (dataclasses.replace(last, items=last.items + (item,)),)
    return dataclasses.replace(q.INTAKE, steps=steps)


def test_the_estimate_is_a_sane_range():
    shortest, longest = q.minutes_to_answer(q.INTAKE)
    assert 5 <= shortest < longest <= 60


def test_an_extra_question_of_300_words_adds_two_minutes_to_every_path():
    shortest, longest = q.minutes_to_answer(q.INTAKE)
    longer = with_extra_item(q.Item("extra", "text", " ".join(["word"] * 300)))
    assert q.minutes_to_answer(longer) == (shortest + 2, longest + 2)


def test_a_follow_up_lengthens_only_the_longest_path():
    shortest, longest = q.minutes_to_answer(q.INTAKE)
    longer = with_extra_item(q.Item("extra", "text", " ".join(["word"] * 300),
                                    shown_when=q.Equals("escort", "no")))
    assert q.minutes_to_answer(longer) == (shortest, longest + 2)


def test_the_clinics_policies_change_the_estimate():
    shortest, longest = q.minutes_to_answer(q.INTAKE)
    fewer = Policy(stop_bang_enabled=False, dast10_enabled=False)
    assert q.minutes_to_answer(q.INTAKE, fewer)[1] < longest
    assert q.minutes_to_answer(q.INTAKE, Policy(dast_skip=False))[0] > shortest


def test_the_landing_page_shows_the_estimate(client):
    shortest, longest = q.minutes_to_answer(q.INTAKE)
    page = " ".join(unescape(re.sub(r"<[^>]+>", " ", client.get("/").get_data(as_text=True)))
                    .split())
    assert f"It takes about {shortest} to {longest} minutes." in page
    assert page.count("minutes") == 1, "the estimate is said once"
