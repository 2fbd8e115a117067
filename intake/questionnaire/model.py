"""The questionnaire's vocabulary: items, steps, choices and the shown-when conditions.

Patient-facing strings are marked with ``N_`` for the translation catalog and translated
where they are shown, so the definition stays pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any


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
    #: The answer's type, a name in ``kinds.KINDS``: accept yn ynu single multi scale0_10
    #: scale0_3 number date month text text_multiline.
    type: str
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
    #: A narrower kind in ``kinds.KINDS`` that asks and checks the answer where its type
    #: alone does not say how (phone, email, birth_date, height, weight).
    format: str | None = None
    #: The unit a number is stored in, printed beside it for the physician.
    unit: str = ""
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
    shown_when: Any = None
    #: The key of the clinic copy shown under the step's title (intake.clinic.COPY).
    copy: str | None = None


#: The instruments with a published, validated version in each language besides English.
#: Every other instrument is shown in its English original there: a translation of our
#: own would not be the validated instrument.
PUBLISHED_TRANSLATIONS: dict[str, frozenset[str]] = {"es": frozenset({"phq9", "gad7"})}


def shown_in_english(item: Item, language: str) -> bool:
    """Whether a patient reading this language sees the item in English: every text of it
    (question, hint, instructions, answers, scale ends, follow-up intro)."""
    return (item.instrument is not None and language != "en"
            and item.instrument not in PUBLISHED_TRANSLATIONS.get(language, frozenset()))



@dataclass(frozen=True)
class Crisis:
    """A support page shown right after step ``after`` is saved with ``item`` at
    ``at_least`` or more: the highest such answer is kept in the system item ``sticky``,
    so later changes cannot hide it, and the draft goes to the top of the worklist."""

    after: str
    item: str
    sticky: str
    at_least: int = 1

    def raised(self, step: Step, answers: Mapping[str, Any]) -> bool:
        """Whether saving ``step`` with these answers leads to the support page."""
        return step.slug == self.after and (answers.get(self.item) or 0) >= self.at_least

    def kept(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The answers with the highest value of the item ever saved kept in ``sticky``."""
        return {**answers, self.sticky: max(answers[self.item], answers.get(self.sticky, 0))}

    def urgent(self, answers: Mapping[str, Any]) -> bool:
        return self.sticky in answers


@dataclass(frozen=True)
class Questionnaire:
    """One questionnaire the engine serves: its steps, and the pages it declares."""

    key: str
    version: str
    #: What staff call it ("Intake"), in the summary's and the PDF's title.
    title: str
    steps: tuple[Step, ...]
    #: The step after which the private link to come back is offered (and finishing
    #: later becomes possible); None: the questionnaire is reached by a link already.
    link_after: str | None = None
    #: The last step every patient answers: under ADULT_AGE every later step is skipped.
    adult_only_after: str | None = None
    crisis: Crisis | None = None

    def __post_init__(self) -> None:
        """Each item learns its step's slug, so an answer can lead back to its page."""
        stamped = tuple(
            replace(step, items=tuple(replace(item, step=step.slug) for item in step.items))
            for step in self.steps
        )
        object.__setattr__(self, "steps", stamped)

    @cached_property
    def step_by_slug(self) -> dict[str, Step]:
        return {step.slug: step for step in self.steps}

    @cached_property
    def items(self) -> dict[str, Item]:
        return {item.id: item for step in self.steps for item in step.items}

    @cached_property
    def adult_only_steps(self) -> frozenset[str]:
        """The steps an age under ADULT_AGE skips: every one after ``adult_only_after``."""
        if self.adult_only_after is None:
            return frozenset()
        slugs = [step.slug for step in self.steps]
        return frozenset(slugs[slugs.index(self.adult_only_after) + 1:])

    @property
    def first(self) -> Step:
        return self.steps[0]
