"""Which steps and items apply to a patient's answers, the way through them, and how
long the path takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from intake.policy import DEFAULT_POLICY, Policy
from intake.questionnaire.conditions import Condition
from intake.questionnaire.content import ADULT_AGE
from intake.questionnaire.dates import age_from
from intake.questionnaire.model import Item, Page, Questionnaire, Step


def condition(item: Item, policy: Policy = DEFAULT_POLICY) -> Condition | None:
    """The item's shown-when rule under the clinic's policy (None: always shown)."""
    return None if item.skip_policy in policy.switched_off else item.shown_when


class Ruled(NamedTuple):
    """An item a rule shows, on its step."""

    step: str
    rule: Condition


@dataclass(frozen=True)
class Asked:
    """What a questionnaire asks under the clinic's switches, worked out once: the steps
    with a question it asks (an instrument may be switched off), by step the items it
    shows wherever that step is shown, by id the items a rule shows, by page key its
    questions, each with the rule that decides whether the page renders it (None: always
    rendered — no rule, or one reading an answer on the page itself), and the pages with a
    question always rendered."""

    steps: frozenset[str]
    unruled: Mapping[str, frozenset[str]]
    ruled: Mapping[str, Ruled]
    on_page: Mapping[str, tuple[tuple[Item, Condition | None], ...]]
    rendered: frozenset[str]


def asked(questionnaire: Questionnaire, policy: Policy) -> Asked:
    """What the questionnaire asks under the policy's switches (all it reads of the
    policy), worked out once for each."""
    key = ("asked", policy.switched_off)
    if key not in questionnaire.derived:
        off = policy.switched_off
        unruled = {step.slug: frozenset(i.id for i in step.items if i.instrument not in off
                                        and condition(i, policy) is None)
                   for step in questionnaire.steps}
        ruled = {i.id: Ruled(step.slug, rule) for step in questionnaire.steps for i in step.items
                 if i.instrument not in off and (rule := condition(i, policy)) is not None}
        on_page = {page.key: tuple((i, rendered_when(i, page, policy)) for i in page.items
                                   if not i.system and i.instrument not in off)
                   for step in questionnaire.steps for page in step.pages}
        steps = frozenset(step.slug for step in questionnaire.steps
                          if any(on_page[page.key] for page in step.pages))
        rendered = frozenset(page for page, asked in on_page.items()
                             if any(rule is None for _, rule in asked))
        questionnaire.derived[key] = Asked(steps, unruled, ruled, on_page, rendered)
    return questionnaire.derived[key]


def rendered_when(item: Item, page: Page, policy: Policy) -> Condition | None:
    """The rule deciding whether ``page`` renders the item: None when it always does —
    no rule, or one reading an answer on the page (the page shows or hides it as that
    answer changes, reading the answers saved on earlier pages for the rest of its rule)."""
    rule = condition(item, policy)
    own = {i.id for i in page.items}
    return None if rule is None or not own.isdisjoint(rule.items()) else rule


class Journey:
    """One patient's way through a questionnaire: the steps and items their answers
    show, in order, computed once (the age is read once, not once a rule). It is the
    facts its conditions read: the answers, the age and the clinic's ``policy`` (the
    instruments it does not ask, the skips it has turned off, its numbers).
    ``completed`` names the steps already saved.
    """

    def __init__(self, questionnaire: Questionnaire, answers: Mapping[str, Any],
                 reference: dt.date, policy: Policy = DEFAULT_POLICY,
                 completed: Sequence[str] = ()) -> None:
        self.questionnaire = questionnaire
        self.answers = answers
        self.reference = reference
        self.policy = policy
        self.completed = completed
        self.asking = asked(questionnaire, policy)

    @cached_property
    def age(self) -> int | None:
        return age_from(self.answers, self.reference)

    def step_shown(self, step: Step) -> bool:
        if step.slug not in self.asking.steps:
            return False
        age = self.age
        if (step.slug in self.questionnaire.adult_only_steps and age is not None
                and age < ADULT_AGE):
            return False
        return step.shown_when is None or step.shown_when.holds(self)

    def item_shown(self, item: Item) -> bool:
        """Whether an item of this questionnaire applies; a system item applies wherever
        its step does."""
        return self.shows(item.id)

    def shows(self, item_id: str) -> bool:
        """Whether the item with this id applies (one the questionnaire does not ask never
        does)."""
        if item_id in self.unconditional:
            return True
        ruled = self.asking.ruled.get(item_id)
        return ruled is not None and ruled.step in self.shown_slugs and ruled.rule.holds(self)

    @cached_property
    def unconditional(self) -> frozenset[str]:
        """The items the steps that apply show whatever the answers."""
        return frozenset().union(*(self.asking.unruled[slug] for slug in self.shown_slugs))

    @cached_property
    def steps(self) -> tuple[Step, ...]:
        """The steps that apply, in order."""
        return tuple(step for step in self.questionnaire.steps if self.step_shown(step))

    @cached_property
    def shown_slugs(self) -> frozenset[str]:
        return frozenset(step.slug for step in self.steps)

    @cached_property
    def pages(self) -> tuple[Page, ...]:
        """The pages that apply, in order: those of the steps that apply with a question
        to show."""
        rendered, on_page = self.asking.rendered, self.asking.on_page
        return tuple(page for step in self.steps for page in step.pages
                     if page.key in rendered
                     or any(rule is not None and rule.holds(self) for _, rule in on_page[page.key]))

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """The keys of the pages that apply, in order."""
        return tuple(page.key for page in self.pages)

    @cached_property
    def counted(self) -> tuple[str, ...]:
        """The pages the counter counts: those that apply, and those that may yet because
        a rule that shows them reads an answer not given so far. So the count is right
        from the first page and only falls as answers hide pages, never rises."""
        asked = self.asking.steps
        counted: list[str] = []
        for step in self.questionnaire.steps:
            if self.step_shown(step):
                counted += [page.key for page in step.pages if self.page_items(page) or any(
                    (rule := condition(item, self.policy)) is not None
                    and self.unanswered(rule.items())
                    for item in self.asked(page))]
            elif (step.slug in asked and step.shown_when is not None
                  and self.unanswered(step.shown_when.items())):
                counted += [page.key for page in step.pages if self.asked(page)]
        return tuple(counted)

    def unanswered(self, item_ids: Sequence[str]) -> bool:
        return any(self.answers.get(i) in (None, []) for i in item_ids)

    def asked(self, page: Page) -> list[Item]:
        """The page's questions the clinic asks, whether the answers show them or not."""
        return [item for item, _ in self.asking.on_page[page.key]]

    def read_elsewhere(self, page: Page) -> dict[str, list[str]]:
        """The answers saved on other pages that the rules of this page's follow-ups
        read, as a page's inputs would post them: the page's script reads them beside
        its own answers to show and hide its follow-ups."""
        own = {item.id for item in page.items}
        read = {i for item in page.items
                if (rule := condition(item, self.policy)) is not None
                for i in rule.items()} - own
        return {i: [str(v) for v in (value if isinstance(value, list) else [value])]
                for i in sorted(read) if (value := self.answers.get(i)) is not None}

    def first_unfinished(self) -> Page | None:
        """Where a patient picks up: the first page that applies and is not saved yet
        (None: every one is, so the review is next)."""
        return next((p for p in self.pages if p.key not in self.completed), None)

    def reachable(self, page: Page) -> bool:
        """A page opens when it applies and every page before it is saved."""
        keys = self.keys
        return page.key in keys and all(k in self.completed for k in keys[:keys.index(page.key)])

    def neighbour(self, page: Page, offset: int) -> Page | None:
        """The page ``offset`` places from this one, if there is one."""
        keys = self.keys
        index = keys.index(page.key) + offset if page.key in keys else -1
        return self.pages[index] if 0 <= index < len(keys) else None

    def settled(self) -> Journey:
        """This journey with the answers it does not show dropped, again until none is:
        the answers as they are stored (blank answers are no answers)."""
        items, reads = self.questionnaire.items, self.questionnaire.visibility_reads
        journey = self
        # An item shown wherever its step is stays shown; only the others are read.
        dropped = {k for k, v in self.answers.items() if v is None or v == []} | {
            k for k in self.answers.keys() - self.unconditional
            if k in items and not self.shows(k)}
        while dropped:
            kept = {k: v for k, v in journey.answers.items() if k not in dropped}
            journey = Journey(self.questionnaire, kept, self.reference, self.policy,
                              self.completed)
            # Only an answer whose showing reads a dropped one can be hidden by the drop.
            dropped = {k for k in kept if k in items and not reads[k].isdisjoint(dropped)
                       and not journey.shows(k)}
        return journey

    def shown_items(self, step: Step) -> list[Item]:
        return [item for item in step.items if not item.system and self.item_shown(item)]

    def page_items(self, page: Page) -> tuple[Item, ...]:
        """The items a page renders: those that apply, and every follow-up whose rule
        reads an answer on this page (``rendered_when``)."""
        return tuple(item for item, rule in self.asking.on_page[page.key]
                     if rule is None or rule.holds(self))

def shown_steps(questionnaire: Questionnaire, answers: Mapping[str, Any],
                reference: dt.date, policy: Policy = DEFAULT_POLICY) -> list[Step]:
    return list(Journey(questionnaire, answers, reference, policy).steps)


def item_shown(questionnaire: Questionnaire, item: Item, answers: Mapping[str, Any],
               reference: dt.date, policy: Policy = DEFAULT_POLICY) -> bool:
    return Journey(questionnaire, answers, reference, policy).item_shown(item)


def drop_hidden(questionnaire: Questionnaire, answers: Mapping[str, Any],
                reference: dt.date, policy: Policy = DEFAULT_POLICY) -> dict[str, Any]:
    """The answers without those to items that are not shown (repeated until stable).

    Unknown keys are kept so that validation can name them.
    """
    return dict(Journey(questionnaire, answers, reference, policy).settled().answers)


# --- time to answer ---------------------------------------------------------------

#: The pace behind the landing page's estimate: words read a minute, seconds an answer.
READING_WORDS_PER_MINUTE = 150
SECONDS_PER_ANSWER = 5


def texts_to_read(item: Item) -> tuple[str, ...]:
    """The texts a patient reads to answer an item, untranslated: stem, question, hint, choices."""
    texts = (item.preamble, item.follow_up, item.label, item.hint, *(item.anchors or ()),
             *(c.label for c in item.choices))
    return tuple(t for t in texts if t)


def _minutes(questionnaire: Questionnaire, items: list[Item]) -> int:
    """Whole minutes to read these items (and their steps' titles) and answer each one."""
    texts = [t for i in items for t in texts_to_read(i)]
    texts += [questionnaire.step_by_slug[slug].title
              for slug in dict.fromkeys(i.step for i in items)]
    words = sum(len(t.split()) for t in texts)
    seconds = words * 60 / READING_WORDS_PER_MINUTE + SECONDS_PER_ANSWER * len(items)
    return max(1, round(seconds / 60))


def minutes_to_answer(questionnaire: Questionnaire,
                      policy: Policy = DEFAULT_POLICY) -> tuple[int, int]:
    """How long an adult takes, as (shortest path, longest path) in whole minutes.

    The shortest path shows only the items without a shown-when rule (each rule is false
    for some adult's answers); the longest shows every item the clinic asks.
    """
    on_page = asked(questionnaire, policy).on_page
    questions = [item for step in questionnaire.steps for page in step.pages
                 for item, _ in on_page[page.key]]
    always = [i for i in questions if questionnaire.step_by_slug[i.step].shown_when is None
              and condition(i, policy) is None]
    return _minutes(questionnaire, always), _minutes(questionnaire, questions)


