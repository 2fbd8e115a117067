"""The questionnaire's vocabulary: items, steps and choices (conditions are ``conditions``).

Patient-facing strings are marked with ``N_`` for the translation catalog and translated
where they are shown, so the definition stays pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import pairwise
from typing import Any


def N_(text: str) -> str:
    """Mark a string for the translation catalog; it is translated where it is shown."""
    return text


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
    #: A few words naming a question whose label is a long sentence: the error summary
    #: links these, not the sentence.
    short: str = ""
    step: str = ""

    @cached_property
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
    #: The items that begin a new page: a long step is shown as several pages, so that
    #: no page is a long scroll on a phone. Each page starts with an item always asked.
    breaks: tuple[str, ...] = ()

    @cached_property
    def pages(self) -> tuple[Page, ...]:
        bounds = [0, *(i for i, item in enumerate(self.items) if item.id in self.breaks),
                  len(self.items)]
        return tuple(Page(self, number, self.items[start:end])
                     for number, (start, end) in enumerate(pairwise(bounds), start=1))


@dataclass(frozen=True)
class Page:
    """One page of a step, at its own address and saved on its own. Its ``key`` names it
    among a draft's saved pages: the step's slug for the first page, "mood/2" after."""

    step: Step
    number: int
    items: tuple[Item, ...]

    @cached_property
    def key(self) -> str:
        return self.step.slug if self.number == 1 else f"{self.step.slug}/{self.number}"

    @property
    def last(self) -> bool:
        return self.number == len(self.step.pages)


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
    """A support page shown right after the page holding ``item`` is saved with it at
    ``at_least`` or more: the highest such answer is kept in the system item ``sticky``,
    so later changes cannot hide it, and the draft goes to the top of the worklist."""

    item: str
    sticky: str
    at_least: int = 1

    def raised(self, page: Page, answers: Mapping[str, Any]) -> bool:
        """Whether saving ``page`` with these answers leads to the support page."""
        return (any(item.id == self.item for item in page.items)
                and (answers.get(self.item) or 0) >= self.at_least)

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
    #: The page (its key) after which the private link to come back is offered (and
    #: finishing later becomes possible); None: the questionnaire is reached by a link.
    link_after: str | None = None
    #: The last step every patient answers: under ADULT_AGE every later step is skipped.
    adult_only_after: str | None = None
    crisis: Crisis | None = None
    #: The clinic's short words for the items and measures its rules name, in the
    #: rules printed for staff ("top blood pressure number (bp_systolic) 180 or more").
    terms: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    #: What the engine works out from it once and keeps with it, by name: the tables of
    #: ``flow`` under each clinic's switches, the kind of each item. A copy made with
    #: ``dataclasses.replace`` starts with none.
    derived: dict[Any, Any] = field(default_factory=dict, init=False, repr=False,
                                    compare=False)

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
    def page_of(self) -> dict[str, Page]:
        """The page each item is on."""
        return {item.id: page for step in self.steps for page in step.pages
                for item in page.items}

    @cached_property
    def visibility_reads(self) -> dict[str, frozenset[str]]:
        """The answers whether an item is shown depends on: its rule's, its step's, and
        the date of birth (an age may skip a step)."""
        reads = {}
        for step in self.steps:
            from_step = {"dob", *(step.shown_when.items() if step.shown_when else ())}
            for item in step.items:
                own = item.shown_when.items() if item.shown_when else ()
                reads[item.id] = frozenset({*from_step, *own})
        return reads

    @cached_property
    def required(self) -> tuple[str, ...]:
        """The items every answers file must answer."""
        return tuple(item_id for item_id, item in self.items.items() if item.required)

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
