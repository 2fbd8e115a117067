"""The one condition vocabulary: when an item or a step is shown, and when a flag is raised.

A condition reads *facts* (the cleaned answers, the age worked out once, the clinic's
policy) and answers three questions: whether it holds, which answers made it hold (its
triggers, as the score lists them), and what it says in the clinic's words, with each
item's id beside them, so the rule a physician reads is the rule that ran. A number the
clinic may change is a ``Setting``, read from the policy when the rule runs and when it
is written out. Each condition is false when the item it reads is unanswered, unless
"unanswered" (None) is among the values it names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from intake.policy import DEFAULT_POLICY, Policy

Trigger = dict[str, Any]


class Facts(Protocol):
    """What a condition reads."""

    answers: Mapping[str, Any]
    age: int | None
    policy: Policy


class Answers(NamedTuple):
    """Facts for a page being filled in: its answers so far, the age once."""

    answers: Mapping[str, Any]
    age: int | None
    policy: Policy = DEFAULT_POLICY


class Wording(Protocol):
    """Where a condition finds the clinic's words for an item and its answers."""

    terms: Mapping[str, str]
    items: Mapping[str, Any]


@dataclass(frozen=True)
class Setting:
    """A number the clinic sets: a field of the policy (and so of ``rules_version``)."""

    name: str

    def value(self, policy: Policy) -> int:
        return getattr(policy, self.name)


Number = int | Setting


def number(value: Number, policy: Policy) -> int:
    """The number a rule uses under this policy."""
    return value.value(policy) if isinstance(value, Setting) else value


def term(wording: Wording, item_id: str) -> str:
    """The clinic's words for an item, with its id beside them."""
    words = wording.terms.get(item_id)
    return f"{words} ({item_id})" if words else item_id


def answer_words(wording: Wording, item_id: str, value: Any) -> str:
    """An answer code as the clinic reads it: its choice label in lower case."""
    if value is None:
        return "unanswered"
    item = wording.items.get(item_id)
    label = item.choice_label(value) if item is not None else str(value)
    first = label.split(" ", 1)[0]
    if first == "I" or len(first) > 1 and first.isupper():  # so do "I" and acronyms
        return label
    return label[:1].lower() + label[1:]


def either(words: list[str]) -> str:
    """``a, b or c``; answers that hold a comma themselves are quoted."""
    if any("," in w for w in words):
        words = [f"“{w}”" for w in words]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


class Condition(ABC):
    """A rule over one submission's facts; each kind says when it holds and its words."""

    @abstractmethod
    def holds(self, facts: Facts) -> bool:
        """Whether the rule holds for these facts."""

    def triggers(self, facts: Facts) -> list[Trigger]:
        """The answers that make it hold, as the score lists them ([] when it does not)."""
        if not self.holds(facts):
            return []
        return [{"item": item, "answer": facts.answers.get(item)} for item in self.items()]

    @abstractmethod
    def items(self) -> tuple[str, ...]:
        """The items it reads."""

    def applies(self, policy: Policy) -> bool:
        """Whether the clinic asks what it reads (an instrument may be switched off)."""
        return True

    @abstractmethod
    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        """The rule in the clinic's words, each item's id beside them."""

    @abstractmethod
    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        """The rule written with item ids and codes (the data dictionary's column)."""

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class OneOf(Condition):
    """The answer is one of ``values``; None among them stands for unanswered."""

    item: str
    values: tuple[Any, ...]

    def holds(self, facts: Facts) -> bool:
        return facts.answers.get(self.item) in self.values

    def triggers(self, facts: Facts) -> list[Trigger]:
        answer = facts.answers.get(self.item)
        return [{"item": self.item, "answer": answer}] if answer in self.values else []

    def items(self) -> tuple[str, ...]:
        return (self.item,)

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        return (f"{term(wording, self.item)} "
                + either([answer_words(wording, self.item, v) for v in self.values]))

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return f"{self.item} in [{', '.join(map(str, self.values))}]"


class Equals(OneOf):
    """The answer is ``value``."""

    def __init__(self, item: str, value: Any) -> None:
        super().__init__(item, (value,))

    @property
    def value(self) -> Any:
        return self.values[0]

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return f"{self.item} = {self.values[0]}"


@dataclass(frozen=True)
class NotEquals(Condition):
    """Answered, and not ``value``."""

    item: str
    value: str

    def holds(self, facts: Facts) -> bool:
        answer = facts.answers.get(self.item)
        return answer is not None and answer != self.value

    def items(self) -> tuple[str, ...]:
        return (self.item,)

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        return (f"{term(wording, self.item)} answered and not "
                f"{answer_words(wording, self.item, self.value)}")

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return f"{self.item} != {self.value}"


@dataclass(frozen=True)
class Ticked(Condition):
    """A multi item holds one of ``codes``; the trigger shows the whole list."""

    item: str
    codes: tuple[str, ...]

    def holds(self, facts: Facts) -> bool:
        chosen = facts.answers.get(self.item) or ()
        return any(code in chosen for code in self.codes)

    def triggers(self, facts: Facts) -> list[Trigger]:
        if not self.holds(facts):
            return []
        return [{"item": self.item, "answer": list(facts.answers[self.item])}]

    def items(self) -> tuple[str, ...]:
        return (self.item,)

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        ticked = either([answer_words(wording, self.item, c) for c in self.codes])
        return f"{term(wording, self.item)} includes {ticked}"

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return " or ".join(f"{code} in {self.item}" for code in self.codes)


def ticked(item: str, *codes: str) -> Ticked:
    return Ticked(item, codes)


@dataclass(frozen=True)
class AtLeast(Condition):
    """Any of the numbers answered reaches ``threshold``; each that does is a trigger."""

    item_ids: tuple[str, ...]
    threshold: Number

    def holds(self, facts: Facts) -> bool:
        return bool(self._reached(facts))

    def triggers(self, facts: Facts) -> list[Trigger]:
        return [{"item": i, "answer": facts.answers[i]} for i in self._reached(facts)]

    def _reached(self, facts: Facts) -> list[str]:
        low = number(self.threshold, facts.policy)
        reached = []
        for item_id in self.item_ids:
            answer = facts.answers.get(item_id)
            if isinstance(answer, (int, float)) and not isinstance(answer, bool) and answer >= low:
                reached.append(item_id)
        return reached

    def items(self) -> tuple[str, ...]:
        return self.item_ids

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        named = either([term(wording, i) for i in self.item_ids])
        prefix = "any of " if len(self.item_ids) > 1 else ""
        return f"{prefix}{named} {number(self.threshold, policy)} or more"

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        low = number(self.threshold, policy)
        if len(self.item_ids) == 1:
            return f"{self.item_ids[0]} >= {low}"
        return f"any of {self.item_ids[0]}..{self.item_ids[-1]} >= {low}"


def at_least(item: str, threshold: Number) -> AtLeast:
    return AtLeast((item,), threshold)


@dataclass(frozen=True)
class Age(Condition):
    """The age on the reference date, worked out once from the date of birth."""

    #: "at most", "under" or "over".
    relation: str
    years: Number

    def holds(self, facts: Facts) -> bool:
        age, years = facts.age, number(self.years, facts.policy)
        if age is None:
            return False
        return {"at most": age <= years, "under": age < years, "over": age > years}[
            self.relation]

    def items(self) -> tuple[str, ...]:
        return ("dob",)

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        years = number(self.years, policy)
        said = {"at most": f"{years} or under", "under": f"under {years}",
                "over": f"over {years}"}[self.relation]
        return f"age on the submission date (dob) {said}"

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        sign = {"at most": "<=", "under": "<", "over": ">"}[self.relation]
        return f"age {sign} {number(self.years, policy)}"


@dataclass(frozen=True)
class All(Condition):
    """Every part holds."""

    conditions: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return all(c.holds(facts) for c in self.conditions)

    def items(self) -> tuple[str, ...]:
        return tuple(i for c in self.conditions for i in c.items())

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        return " and ".join(c.words(wording, policy) for c in self.conditions)

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return " and ".join(c.text(policy) for c in self.conditions)


@dataclass(frozen=True)
class Provided(Condition):
    """``then`` where ``condition`` holds; only ``then``'s answers are its triggers."""

    condition: Condition
    then: Condition

    def holds(self, facts: Facts) -> bool:
        return self.condition.holds(facts) and self.then.holds(facts)

    def triggers(self, facts: Facts) -> list[Trigger]:
        return self.then.triggers(facts) if self.condition.holds(facts) else []

    def items(self) -> tuple[str, ...]:
        return self.condition.items() + self.then.items()

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        return f"{self.condition.words(wording, policy)} and {self.then.words(wording, policy)}"

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return f"{self.condition.text(policy)} and {self.then.text(policy)}"


@dataclass(frozen=True)
class AnyOf(Condition):
    """Some part holds; every part that does gives its triggers, in order. A part that
    reads what the clinic does not ask is left out, and the words say so."""

    conditions: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return any(c.holds(facts) for c in self.conditions if c.applies(facts.policy))

    def triggers(self, facts: Facts) -> list[Trigger]:
        found = []
        for part in self.conditions:
            if part.applies(facts.policy):
                found += part.triggers(facts)
        return found

    def items(self) -> tuple[str, ...]:
        return tuple(i for c in self.conditions for i in c.items())

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        asked = [c.words(wording, policy) for c in self.conditions if c.applies(policy)]
        skipped = [c.words(wording, DEFAULT_POLICY) for c in self.conditions
                   if not c.applies(policy)]
        said = "; or ".join(asked)
        if skipped:
            said += f" (not asked by this clinic, so not checked: {'; '.join(skipped)})"
        return said

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return " or ".join(f"({c.text(policy)})" for c in self.conditions)


def any_of(*conditions: Condition) -> AnyOf:
    return AnyOf(conditions)
