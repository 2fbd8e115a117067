"""One class per kind of item: how its answers are asked, checked, worded and exported.

``KINDS`` maps the names the content uses to them: an item's type, and its ``format``
where the type alone does not say how the answer is written (a phone number, an email,
a date of birth, a height or weight the patient may give in US units). A format's kind
is a subclass of its type's, so the item is stored and exported as its type says.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Protocol

from intake.questionnaire.dates import age_on, is_month, parse_date
from intake.questionnaire.model import N_, Choice, Item
from intake.questionnaire.values import (
    CONTROL,
    E164,
    MalformedAnswers,
    Refusal,
    email_ok,
    finite,
    normalise_text,
    upper_bound,
)


class Speaker(Protocol):
    """Puts answers in the reader's language: the patient's pages supply one."""

    def item_text(self, item: Item, text: str) -> str: ...
    def date(self, date: dt.date) -> str: ...
    def month(self, month: dt.date) -> str: ...
    def message(self, text: str, **values: Any) -> str: ...


class Kind:
    """What every kind of item does unless its class says otherwise."""

    #: The input the form asks it with: a field of ``questionnaire.forms``, by its widget name.
    widget = "text"
    #: The FHIR Questionnaire item type, and the value[x] of a QuestionnaireResponse answer.
    fhir_type = "string"
    fhir_value = "valueString"
    #: Whether one item holds several answers (a FHIR item that repeats).
    repeats = False
    #: What the form says when a required item is left unanswered.
    required_message = N_("This question is needed to go on.")

    @property
    def coded(self) -> bool:
        """Whether answers are codes of the item's choices (a FHIR Coding each)."""
        return self.fhir_value == "valueCoding"

    def normalise(self, value: Any) -> Any:
        """The value as every rule reads it, before any is applied."""
        return value

    def refusal(self, item: Item, value: Any, reference: dt.date) -> Refusal | None:
        """Why the form, or an answers file, refuses this value; None when it is fine."""
        return None

    def stored(self, item: Item, value: Any) -> Any:
        """An accepted value as it is stored."""
        return value

    def check(self, item: Item, value: Any, reference: dt.date) -> Any:
        """The stored value of one answer of an answers file, or raise MalformedAnswers."""
        refusal = self.refusal(item, value, reference)
        if refusal is not None:
            raise MalformedAnswers(item.id, refusal.problem)
        return self.stored(item, value)

    def coerce(self, item: Item, text: str) -> Any:
        """The value a chosen option's text stands for."""
        return text

    def options(self, item: Item) -> tuple[Choice, ...]:
        """The answers the form offers to choose from."""
        return item.choices

    def each(self, value: Any) -> list[Any]:
        """A stored answer as single values: one FHIR answer each."""
        return [value]

    def words(self, item: Item, value: Any) -> str | list[str]:
        """The answer in words, untranslated: the review page and the summary start here."""
        return str(value)

    def patient_words(self, item: Item, value: Any, speaker: Speaker) -> str:
        """The answer as the patient reads it on the review page, in their language."""
        return str(value)

    def physician_words(self, item: Item, value: Any) -> str:
        """The answer as the physician summary prints it."""
        words = self.words(item, value)
        return "; ".join(words) if isinstance(words, list) else words

    def dictionary_choices(self, item: Item) -> str:
        """The data dictionary's choices: code=label, ;-joined."""
        return ";".join(f"{c.code}={c.label}" for c in item.choices)


class AcceptKind(Kind):
    """A box the patient ticks to go on; stored as true."""

    widget = "accept"
    fhir_type = "boolean"
    fhir_value = "valueBoolean"
    required_message = N_("Please tick this box to go on.")

    def refusal(self, item: Item, value: Any, reference: dt.date) -> Refusal | None:
        if value is not True:
            return Refusal("must be true", self.required_message)
        return None

    def words(self, item: Item, value: Any) -> str:
        return N_("Yes")

    def patient_words(self, item: Item, value: Any, speaker: Speaker) -> str:
        return speaker.item_text(item, self.words(item, value))


class ChoiceKind(Kind):
    """One of the item's choices, stored as its code (yn, ynu, single)."""

    widget = "radio"
    fhir_type = "choice"
    fhir_value = "valueCoding"
    not_an_answer = N_("Choose one of the answers.")

    def refusal(self, item: Item, value: Any, reference: dt.date) -> Refusal | None:
        if not isinstance(value, str) or value not in item.codes:
            return Refusal(f"unknown code {value!r}", self.not_an_answer)
        return None

    def check(self, item: Item, value: Any, reference: dt.date) -> Any:
        # Most of an answers file is single codes: one is stored as it is, without a
        # refusal's round (checking the answers was a quarter of scoring's time).
        if not self.repeats and type(value) is str and value in item.codes:
            return value
        return super().check(item, value, reference)

    def words(self, item: Item, value: Any) -> str | list[str]:
        return item.choice_label(value)

    def patient_words(self, item: Item, value: Any, speaker: Speaker) -> str:
        return speaker.item_text(item, self.words(item, value))


class MultiKind(ChoiceKind):
    """Any of the item's choices, stored as a list of codes; ``none`` stands alone."""

    widget = "checkboxes"
    repeats = True
    not_an_answer = N_("Choose from the answers shown.")

    def refusal(self, item: Item, value: Any, reference: dt.date) -> Refusal | None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return Refusal("must be a list of codes", self.not_an_answer)
        unknown = [v for v in value if v not in item.codes]
        if unknown:
            return Refusal(f"unknown code {unknown[0]!r}", self.not_an_answer)
        if len(set(value)) != len(value):
            return Refusal("a code is listed twice", self.not_an_answer)
        if "none" in value and len(value) > 1:
            return Refusal("'none' cannot be combined with another code",
                           N_('"%(none)s" cannot be ticked together with another answer.'),
                           texts={"none": item.choice_label("none")})
        return None

    def each(self, value: Any) -> list[Any]:
        return list(value)

    def words(self, item: Item, value: Any) -> list[str]:
        return [item.choice_label(code) for code in value]

    def patient_words(self, item: Item, value: Any, speaker: Speaker) -> str:
        return ", ".join(speaker.item_text(item, label) for label in self.words(item, value))


class NumberKind(Kind):
    """A number typed in a box: whole where the item says so, within its range."""

    widget = "number"
    fhir_type = "decimal"
    fhir_value = "valueDecimal"
    out_of_range = N_("Enter a number from %(low)s to %(high)s.")
    not_whole = N_("Enter a whole number, without decimals.")
    #: The value with its unit as the patient reads it back, where they may have given
    #: it in other units; and the words for it as typed in those units.
    shown_as: str | None = None
    typed_as: str | None = None

    def refusal(self, item: Item, value: Any, reference: dt.date) -> Refusal | None:
        high = upper_bound(item, reference)
        if (isinstance(value, bool) or not isinstance(value, (int, float, Decimal))
                or not finite(value)):
            return self.outside(item, high, "must be a number")
        if item.whole and value != int(value):
            return Refusal("must be a whole number", self.not_whole)
        if not item.minimum <= value <= high:
            return self.outside(item, high, f"must be from {item.minimum} to {high}")
        return None

    def outside(self, item: Item, high: float, problem: str) -> Refusal:
        """A value that is not a number in the item's range, and the range in words."""
        return Refusal(problem, self.out_of_range,
                       {"low": f"{item.minimum:g}", "high": f"{high:g}"})

    def stored(self, item: Item, value: Any) -> Any:
        if item.whole:
            return int(value)
        return float(value) if isinstance(value, Decimal) else value

    def patient_words(self, item: Item, value: Any, speaker: Speaker) -> str:
        if self.shown_as is None:
            return str(value)
        return speaker.message(self.shown_as, value=f"{value:g}")

    def physician_words(self, item: Item, value: Any) -> str:
        return f"{value} {item.unit}" if item.unit else str(value)


class ScaleKind(NumberKind):
    """A point of a scale, chosen among radio buttons; stored as an integer."""

    widget = "radio"
    fhir_type = "integer"
    fhir_value = "valueInteger"
    out_of_range = N_("Choose one of the answers.")

    def check(self, item: Item, value: Any, reference: dt.date) -> Any:
        # A point of the scale is stored as it is (as ChoiceKind's codes are).
        if type(value) is int and item.minimum <= value <= upper_bound(item, reference):
            return value
        return super().check(item, value, reference)

    def coerce(self, item: Item, text: str) -> Any:
        """The point a radio's text names; other text is kept, for the range to refuse."""
        whole = text.isascii() and text.isdigit() and str(int(text)) == text
        return int(text) if whole else text


class NumericScaleKind(ScaleKind):
    """A scale of numbers in a row, labelled at its ends only (scale0_10)."""

    widget = "scale"

    def options(self, item: Item) -> tuple[Choice, ...]:
        return tuple(Choice(str(n), "") for n in range(int(item.minimum), int(item.maximum) + 1))

    def physician_words(self, item: Item, value: Any) -> str:
        return f"{value}/{item.maximum}"

    def dictionary_choices(self, item: Item) -> str:
        if not item.anchors:
            return ""
        return f"{item.minimum}={item.anchors[0]};{item.maximum}={item.anchors[1]}"


class LabelledScaleKind(ScaleKind):
    """A scale whose every point has words (scale0_3): worded by them, stored as numbers."""

    def words(self, item: Item, value: Any) -> str:
        return item.choice_label(str(value))

    def patient_words(self, item: Item, value: Any, speaker: Speaker) -> str:
        return speaker.item_text(item, self.words(item, value))

    def physician_words(self, item: Item, value: Any) -> str:
        return f"{self.words(item, value)} ({value})"


class HeightKind(NumberKind):
    """A height in cm, which the patient may give in feet and inches."""

    widget = "height"
    out_of_range = N_("Please check your height (between 50 and 250 cm, or 1 ft 8 in and "
                      "8 ft 2 in).")
    shown_as = N_("%(value)s cm")
    #: The answer as typed in US units (the height field's boxes).
    typed_as = N_("%(ft)s ft %(in)s in")


class WeightKind(NumberKind):
    """A weight in kg, which the patient may give in pounds."""

    widget = "weight"
    out_of_range = N_("Please check your weight (between 20 and 350 kg, or 44 and 771 "
                      "pounds).")
    shown_as = N_("%(value)s kg")
    typed_as = N_("%(lb)s lb")


class DateKind(Kind):
    """A day, stored as YYYY-MM-DD; never after the submission date."""

    widget = "date"
    fhir_type = "date"
    fhir_value = "valueDate"
    invalid = N_("Enter a real date, for example 3 15 1980.")

    def refusal(self, item: Item, value: Any, reference: dt.date) -> Refusal | None:
        date = parse_date(value)
        if date is None:
            return Refusal("must be a date written YYYY-MM-DD", self.invalid)
        if date > reference:
            return Refusal("is after the submission date",
                           N_("The date must be today or in the past."))
        return None

    def patient_words(self, item: Item, value: Any, speaker: Speaker) -> str:
        return speaker.date(dt.date.fromisoformat(value))


class BirthDateKind(DateKind):
    """A date of birth: a date that gives an age no one has."""

    oldest = 120

    def refusal(self, item: Item, value: Any, reference: dt.date) -> Refusal | None:
        refusal = super().refusal(item, value, reference)
        if refusal is None and age_on(dt.date.fromisoformat(value), reference) > self.oldest:
            return Refusal(f"gives an age over {self.oldest}",
                           N_("Please check the year of birth."))
        return refusal


class MonthKind(Kind):
    """A month, stored as YYYY-MM; never after the submission's month."""

    widget = "month"
    fhir_type = "date"
    fhir_value = "valueDate"
    invalid = N_("Enter a real month and year, for example June 2022.")

    def refusal(self, item: Item, value: Any, reference: dt.date) -> Refusal | None:
        if not is_month(value):
            return Refusal("must be a month written YYYY-MM", self.invalid)
        if value > reference.strftime("%Y-%m"):
            return Refusal("is after the submission month",
                           N_("The month must be this month or earlier."))
        return None

    def patient_words(self, item: Item, value: Any, speaker: Speaker) -> str:
        return speaker.month(dt.date.fromisoformat(value + "-01"))


class TextKind(Kind):
    """One line of text: trimmed, within the item's limits, no control characters."""

    #: What a file, and the patient, are told of text its format does not accept.
    malformed = invalid = ""

    def normalise(self, value: Any) -> Any:
        return normalise_text(value) if isinstance(value, str) else value

    def check(self, item: Item, value: Any, reference: dt.date) -> Any:
        if not isinstance(value, str):
            raise MalformedAnswers(item.id, "must be text")
        value = normalise_text(value)
        return None if value is None else super().check(item, value, reference)

    def limits(self, item: Item, value: str) -> Refusal | None:
        """The rules every text keeps, as typed and as stored."""
        values = {"max": item.max_length or 0, "lines": item.max_lines or 0}
        if CONTROL.search(value):
            message = N_("Please remove special control characters from this answer.")
        elif item.max_length and len(value) > item.max_length:
            message = N_("Please use at most %(max)d characters.")
        elif item.max_lines and value.count("\n") + 1 > item.max_lines:
            message = N_("Please use at most %(lines)d lines.")
        else:
            return None
        return Refusal(message % values, message, values)

    def refusal(self, item: Item, value: Any, reference: dt.date) -> Refusal | None:
        refusal = self.limits(item, value)
        if refusal is None and not self.well_formed(value):
            return Refusal(self.malformed, self.invalid)
        return refusal

    def well_formed(self, value: str) -> bool:
        """Whether the text is written as the item's format asks (any text, here)."""
        return True


class LongTextKind(TextKind):
    """Text over several lines (LF between them)."""

    widget = "text_multiline"
    fhir_type = "text"


class PhoneKind(TextKind):
    """A phone number, written as the patient likes and stored in E.164."""

    widget = "phone"
    malformed = "must be a phone number in E.164 form, like +13055550100"
    invalid = N_("Enter a phone number we can call, for example (305) 555-0100.")

    def well_formed(self, value: str) -> bool:
        return E164.match(value) is not None


class EmailKind(TextKind):
    """An email address, stored as typed."""

    widget = "email"
    malformed = "must be an email address"
    invalid = N_("Enter an email address like name@example.com.")

    def well_formed(self, value: str) -> bool:
        return email_ok(value)


#: Every kind by the name the content gives it: an item's type, or its format.
KINDS: dict[str, Kind] = {
    "accept": AcceptKind(), "yn": ChoiceKind(), "ynu": ChoiceKind(), "single": ChoiceKind(),
    "multi": MultiKind(), "scale0_10": NumericScaleKind(), "scale0_3": LabelledScaleKind(),
    "number": NumberKind(), "date": DateKind(), "month": MonthKind(), "text": TextKind(),
    "text_multiline": LongTextKind(),
    # formats
    "phone": PhoneKind(), "email": EmailKind(), "birth_date": BirthDateKind(),
    "height": HeightKind(), "weight": WeightKind(),
    #: Pain regions, ticked in a list or on the picture of a body that drives it.
    "body_map": MultiKind(),
}


def kind_of(item: Item) -> Kind:
    """The kind that asks, checks and words an item: its format's, else its type's."""
    return KINDS[item.format or item.type]
