"""WTForms classes built from the questionnaire definition (field names are item ids)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import phonenumbers
from flask import current_app
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.utils import unset_value
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from intake import questionnaire as q
from intake.policy import Policy

CM_PER_INCH = Decimal("2.54")
KG_PER_POUND = Decimal("0.45359237")
MONTHS = (
    _l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"),
    _l("July"), _l("August"), _l("September"), _l("October"), _l("November"), _l("December"),
)


def in_english(item: q.Item) -> bool:
    """Whether this patient sees the item in English: its instrument has no published
    version in their language."""
    return q.shown_in_english(item, str(get_locale()))


def item_text(item: q.Item, text: str) -> str:
    """One of an item's texts as the patient reads it: in their language, or the English
    original where the item's instrument has no published version in that language."""
    return text if in_english(item) else gettext(text)


def lazy_item_text(item: q.Item, text: str) -> LazyString:
    """``item_text`` at each render: a form class is built once for every language."""
    return LazyString(item_text, item, text)


def one_decimal(value: Decimal) -> float:
    """Half-up to one decimal, as stored for converted heights and weights."""
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


class AnswerField(Field):
    """A field for one questionnaire item; ``answer`` is what gets stored (None = skipped).

    The item's kind names the field by its ``widget_name`` and holds the rules an answer
    keeps, so the form refuses exactly what an answers file is refused for.
    """

    item: q.Item
    reference: dt.date
    #: The input the template draws for it.
    widget_name = "text"

    def __init__(self, *args: Any, item: q.Item, **kwargs: Any) -> None:
        self.item = item  # before the form processes its data: parsing reads the kind
        super().__init__(*args, **kwargs)

    @property
    def answer(self) -> Any:
        return self.data

    @property
    def item_kind(self) -> q.Kind:
        return q.kind_of(self.item)

    def refuse(self, value: Any) -> None:
        """Raise the patient's message where the item's kind refuses this value."""
        self.raise_refusal(self.item_kind.refusal(self.item, value, self.reference))

    def raise_refusal(self, refusal: q.Refusal | None) -> None:
        if refusal is not None:
            texts = {key: lazy_item_text(self.item, text) for key, text in refusal.texts.items()}
            raise ValidationError(_l(refusal.message, **refusal.values, **texts))

    @property
    def in_english(self) -> bool:
        return in_english(self.item)

    def shown_text(self, english: str) -> str:
        """One of this item's own texts (preamble, scale end, follow-up intro) as shown."""
        return item_text(self.item, english)

    def answer_or_raw(self) -> Any:
        """The value a condition sees before validation (a choice's code, a list, …)."""
        try:
            return self.answer
        except (ValueError, TypeError):
            return self.data


class CompositeField(AnswerField):
    """An item entered in several boxes named ``<id>-<part>`` (spec §1).

    A subclass names its ``parts`` and says how they ``combine()`` into the stored
    value and how a stored value ``split()``s back into the boxes.
    """

    parts: tuple[str, ...] = ()

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.process_errors = []
        self.raw_data = []
        self.values = dict.fromkeys(self.parts, "")
        self.data = None
        if formdata is not None:
            self.values = {p: formdata.get(f"{self.name}-{p}", "").strip() for p in self.parts}
            self.raw_data = [v for v in self.values.values() if v]
            if self.raw_data:
                try:
                    self.data = self.combine()
                except ValueError as error:
                    self.process_errors.append(str(error.args[0]))
        elif data is not None and data is not unset_value:
            self.data = data
            self.values = self.split(data)

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not self.process_errors:
            self.refuse(self.data)

    def part_id(self, part: str) -> str:
        return f"{self.id}-{part}"

    @property
    def first_id(self) -> str:
        return self.part_id(self.parts[0])


def _whole(text: str, message: Any) -> int:
    if not text.isdigit() or not text.isascii():
        raise ValidationError(message)
    return int(text)


class DateField(CompositeField):
    parts = ("month", "day", "year")
    widget_name = "date"

    def combine(self) -> str:
        message = _l(self.item_kind.invalid)
        if not all(self.values.values()):
            raise ValidationError(_l("Enter the month, the day and the year."))
        month, day, year = (_whole(self.values[p], message) for p in self.parts)
        if year < 1000:
            raise ValidationError(_l("Enter the year with 4 digits, for example 1980."))
        try:
            return dt.date(year, month, day).isoformat()
        except ValueError:
            raise ValidationError(message) from None

    def split(self, value: str) -> dict[str, str]:
        return {"year": value[:4], "month": str(int(value[5:7])), "day": str(int(value[8:10]))}


class MonthField(CompositeField):
    parts = ("month", "year")
    widget_name = "month"

    def combine(self) -> str:
        if not all(self.values.values()):
            raise ValidationError(_l("Choose the month and enter the year."))
        message = _l(self.item_kind.invalid)
        month, year = (_whole(self.values[p], message) for p in self.parts)
        if not 1 <= month <= 12 or year < 1900:
            raise ValidationError(message)
        return f"{year:04d}-{month:02d}"

    def split(self, value: str) -> dict[str, str]:
        return {"year": value[:4], "month": str(int(value[5:7]))}


def _decimal(text: str, message: Any) -> Decimal:
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValidationError(message) from None
    if not number.is_finite() or not 0 <= number <= 10_000:
        raise ValidationError(message)
    return number


class MeasureField(CompositeField):
    """A measure the patient may give in US units or metric ones; stored metric. What they
    typed in US units is kept beside the answers (``typed``) to be shown back as typed."""

    #: The box of the metric unit the answer is stored in.
    metric = ""

    def typed(self) -> dict[str, str] | None:
        """The US-unit boxes as typed, when the answer came from them."""
        if self.data is None or self.values[self.metric]:
            return None
        return {part: value for part, value in self.values.items() if part != self.metric}


class HeightField(MeasureField):
    """Feet and inches, or centimetres; stored in cm to one decimal."""

    parts = ("ft", "in", "cm")
    metric = "cm"
    widget_name = "height"

    def combine(self) -> float:
        message = _l("Enter your height as numbers, in feet and inches or in centimeters.")
        if self.values["cm"]:
            cm = _decimal(self.values["cm"], message)
        else:
            feet = _decimal(self.values["ft"] or "0", message)
            inches = _decimal(self.values["in"] or "0", message)
            cm = (feet * 12 + inches) * CM_PER_INCH
        return one_decimal(cm)

    def split(self, value: float) -> dict[str, str]:
        return {"ft": "", "in": "", "cm": f"{value:g}"}


class WeightField(MeasureField):
    """Pounds or kilograms; stored in kg to one decimal."""

    parts = ("lb", "kg")
    metric = "kg"
    widget_name = "weight"

    def combine(self) -> float:
        message = _l("Enter your weight as a number, in pounds or in kilograms.")
        if self.values["kg"]:
            kg = _decimal(self.values["kg"], message)
        else:
            kg = _decimal(self.values["lb"], message) * KG_PER_POUND
        return one_decimal(kg)

    def split(self, value: float) -> dict[str, str]:
        return {"lb": "", "kg": f"{value:g}"}


class TextField(StringField, AnswerField):
    """One line of text: trimmed, limited, control characters refused."""

    widget_name = "text"

    def pre_validate(self, form: Any) -> None:
        if self.data is not None:
            self.refuse(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = q.normalise_text(valuelist[0]) if valuelist else None


class LongTextField(TextAreaField, TextField):
    widget_name = "text_multiline"


class PhoneField(TextField):
    """A phone number as the patient writes it, stored in E.164."""

    widget_name = "phone"

    def pre_validate(self, form: Any) -> None:
        if self.data is None:
            return
        self.raise_refusal(self.item_kind.limits(self.item, self.data))
        try:
            number = phonenumbers.parse(self.data, current_app.config["PHONE_REGION"])
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(_l(self.item_kind.invalid))
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        self.refuse(e164)
        self.e164 = e164

    @property
    def answer(self) -> str | None:
        return getattr(self, "e164", None) if self.data is not None else None

    def _value(self) -> str:
        if self.data and q.E164.match(self.data):
            return q.phone_as_written(self.data, current_app.config["PHONE_REGION"])
        return self.data or ""


class EmailField(TextField):
    widget_name = "email"


class WholeNumberField(TextField):
    """A number typed in a box; whole where the item says so, within its range."""

    widget_name = "number"

    def pre_validate(self, form: Any) -> None:
        if self.data is None:
            return
        try:
            number: Decimal | str = Decimal(self.data.replace(",", ""))
        except InvalidOperation:
            number = self.data  # no number: the kind refuses it as one
        self.refuse(number)
        self.number = self.item_kind.stored(self.item, number)

    @property
    def answer(self) -> int | float | None:
        return getattr(self, "number", None) if self.data is not None else None

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)

    def process_data(self, value: Any) -> None:
        self.data = None if value is None else str(value)


class ChoiceField(RadioField, AnswerField):
    """Radio buttons: yes/no, single choices and the scales (stored as int)."""

    widget_name = "radio"

    def pre_validate(self, form: Any) -> None:
        if self.data is not None:
            self.refuse(self.answer)

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            self.data = valuelist[0]

    @property
    def answer(self) -> Any:
        if self.data is None:
            return None
        return self.item_kind.coerce(self.item, self.data)

    def process_data(self, value: Any) -> None:
        self.data = None if value is None else str(value)


class ScaleField(ChoiceField):
    """The points of a numeric scale, as radio buttons in a row."""

    widget_name = "scale"


class MultiChoiceField(SelectMultipleField, AnswerField):
    """Checkboxes; ``none`` cannot be ticked beside another choice."""

    widget_name = "checkboxes"
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        if self.data:
            self.refuse(self.answer)

    @property
    def answer(self) -> list[str] | None:
        if not self.data:
            return None
        return list(dict.fromkeys(self.data))


class AcceptField(BooleanField, AnswerField):
    widget_name = "accept"

    @property
    def answer(self) -> bool | None:
        return True if self.data else None


#: The field that draws each widget a kind names.
FIELDS: dict[str, type[AnswerField]] = {field.widget_name: field for field in (
    AcceptField, ChoiceField, ScaleField, MultiChoiceField, DateField, MonthField,
    HeightField, WeightField, WholeNumberField, TextField, LongTextField, PhoneField,
    EmailField)}


def _field(item: q.Item) -> Field:
    field_class = FIELDS[q.kind_of(item).widget]
    options: dict[str, Any] = {
        "item": item, "description": lazy_item_text(item, item.hint) if item.hint else ""}
    if issubclass(field_class, (ChoiceField, MultiChoiceField)):
        options["choices"] = [
            SelectChoice(c.code, lazy_item_text(item, c.label)) if c.label else SelectChoice(c.code)
            for c in q.kind_of(item).options(item)]
    return field_class(lazy_item_text(item, item.label), **options)


class StepForm(FlaskForm):
    """One step's questions. Follow-ups whose condition is false are not validated."""

    step: q.Step
    items: tuple[q.Item, ...]

    class Meta:  # CSRFProtect checks every post first; step.html carries its token
        csrf = False

    def __init__(self, *args: Any, context: dict[str, Any], reference: dt.date,
                 policy: Policy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context
        self.reference = reference
        self.policy = policy
        for item in self.items:
            field = self[item.id]
            field.reference = reference
            field.condition = q.condition(item, policy)

    def answer_fields(self) -> list[AnswerField]:
        return [self[item.id] for item in self.items]

    def applies(self, item: q.Item) -> bool:
        """Whether a follow-up applies given what is on this page now."""
        rule = q.condition(item, self.policy)
        if rule is None:
            return True
        now = {**self.context, **{i.id: self[i.id].answer_or_raw() for i in self.items}}
        return rule.holds(q.Answers(now, q.age_from(now, self.reference), self.policy))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = True
        for item in self.items:
            field = self[item.id]
            if not self.applies(item):
                field.errors = []
                continue
            if not field.validate(self, ()):
                valid = False
            elif item.required and field.answer is None:
                field.errors = [_l(q.kind_of(item).required_message)]
                valid = False
        return valid

    def answers(self) -> dict[str, Any]:
        """This page's answers as stored: follow-ups that do not apply are dropped."""
        return {
            item.id: self[item.id].answer
            for item in self.items
            if self.applies(item) and self[item.id].answer is not None
        }


    def typed(self) -> dict[str, dict[str, str]]:
        """The measures on this page given in US units, as typed, by item id."""
        return {item.id: typed for item in self.items
                if isinstance(field := self[item.id], MeasureField) and self.applies(item)
                and (typed := field.typed())}

    def show_typed(self, typed: dict[str, dict[str, str]]) -> None:
        """Fill each saved measure's boxes as the patient typed it, not the metric value."""
        for item in self.items:
            if isinstance(field := self[item.id], MeasureField) and item.id in typed:
                field.values = {**dict.fromkeys(field.parts, ""), **typed[item.id]}


class ResumeForm(FlaskForm):
    """The date of birth that opens a resume link."""

    dob = DateField(_l("Your date of birth"), description=_l("For example: 3 15 1980"),
                    item=q.ITEMS["dob"])

    def __init__(self, *args: Any, reference: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dob.reference = reference

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.dob.data is None:
            self.dob.errors = [_l("Enter your date of birth.")]
            return False
        return valid


_FORM_CLASSES: dict[tuple[str, ...], type[StepForm]] = {}


def step_form_class(questionnaire: q.Questionnaire, step: q.Step,
                    items: tuple[q.Item, ...]) -> type[StepForm]:
    """The form class of a step showing these items (built once, then kept)."""
    key = (questionnaire.key, questionnaire.version, step.slug, *(item.id for item in items))
    if key not in _FORM_CLASSES:
        fields = {item.id: _field(item) for item in items}
        _FORM_CLASSES[key] = type(f"{step.slug.title().replace('_', '')}Form", (StepForm,),
                                  {**fields, "step": step, "items": items})
    return _FORM_CLASSES[key]
