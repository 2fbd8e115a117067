"""Every enableWhen and enableWhenExpression of both exported Questionnaires, read by FHIR's
own rules, enables exactly the groups and items our shown-when shows, for random answers.

enableWhen is evaluated as FHIR R4 documents Questionnaire.item.enableWhen: each operator
over every answer of its question (a Coding equal by system and code), the conditions joined
by enableBehavior; a question that is disabled counts as unanswered, and a disabled item
disables everything in it. The SDC enableWhenExpression is evaluated by fhirpathpy, a
FHIRPath engine, against the QuestionnaireResponse of the enabled items, on a fixed day
(``today()``); an empty result is false, as SDC says. The answers are drawn from each item's
kind and choices, for every item a rule reads; the rest do not change what is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.models import models
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from support.fhir_questionnaires import QUESTIONNAIRES, exported, expression, items_of, policy

from intake.questionnaire import Item, Journey, MonthKind, Questionnaire, kind_of

#: The days the answers are given on: an ordinary one, and the ends of February in a leap
#: year and after it, where a birthday on 29 February counts.
DAYS = (dt.date(2025, 6, 15), dt.date(2024, 2, 29), dt.date(2025, 2, 28), dt.date(2025, 3, 1))
#: The clinic's settings the rules are tried under: the defaults, and each one that changes
#: which items are asked or when.
CLINICS = ({}, {"DAST_SKIP": False}, {"DAST10_ENABLED": False, "STOP_BANG_ENABLED": False},
           {"PREGNANCY_MAX_AGE": 45})
#: The ages the rules name: adults from 18, the pregnancy questions up to a set age.
AGES = (18, 45, 55)
R4 = models["r4"]


# --- answers ------------------------------------------------------------------------------


def rule_reads(definition: Questionnaire) -> list[Item]:
    """The items some shown-when rule or exported enableWhen reads, and the date of birth
    (an age skips steps)."""
    read = {"dob"} & set(definition.items)
    read |= {c["question"] for item, _ in items_of(exported(definition))
             for c in item.get("enableWhen", ())}
    for step in definition.steps:
        read |= set(step.shown_when.items()) if step.shown_when else set()
        for item in step.items:
            read |= set(item.shown_when.items()) if item.shown_when else set()
    return [definition.items[i] for i in sorted(read)]


def births(day: dt.date) -> st.SearchStrategy[str]:
    """Dates of birth: any in a long life, and those a few days either side of a birthday
    the rules turn on, and 29 Februaries."""
    around = st.builds(lambda years, days: (dt.date(day.year - years, day.month, min(day.day, 28))
                                            + dt.timedelta(days=days)),
                       st.sampled_from(AGES).flatmap(lambda a: st.sampled_from((a - 1, a, a + 1))),
                       st.integers(-3, 3))
    leap = st.sampled_from([dt.date(y, 2, 29) for y in range(day.year - 60, day.year)
                            if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)])
    anyday = st.dates(min_value=dt.date(day.year - 100, 1, 1), max_value=day)
    return st.one_of(around, leap, anyday).filter(lambda d: d <= day).map(dt.date.isoformat)


def answer(item: Item, day: dt.date) -> st.SearchStrategy[Any]:
    """An answer the item's kind accepts: a code, several codes, a number, a date."""
    kind = kind_of(item)
    if kind.coded and kind.repeats:
        alone = [c for c in item.codes if c == "none"]  # "none" stands alone
        others = [c for c in item.codes if c != "none"]
        return st.one_of(st.lists(st.sampled_from(others), min_size=1, unique=True),
                         *(st.just([c]) for c in alone))
    if kind.coded:
        return st.sampled_from(item.codes)
    if kind.fhir_value == "valueInteger":
        return st.integers(int(item.minimum), int(item.maximum))
    if item.id == "dob":
        return births(day)
    if isinstance(kind, MonthKind):
        return st.dates(max_value=day).map(lambda d: d.isoformat()[:7])
    if kind.fhir_value == "valueDate":
        return st.dates(max_value=day).map(dt.date.isoformat)
    raise AssertionError(f"no answers drawn for {item.id} ({item.type}): add its kind here")


def answer_sets(definition: Questionnaire, day: dt.date) -> st.SearchStrategy[dict[str, Any]]:
    """Answers to the items the rules read, each one possibly left unanswered."""
    return st.fixed_dictionaries({
        item.id: st.one_of(st.none(), answer(item, day)) for item in rule_reads(definition)
    }).map(lambda answers: {k: v for k, v in answers.items() if v is not None})


# --- FHIR's rules ---------------------------------------------------------------------------


def fhir_answers(question: Mapping[str, Any], value: Any) -> list[dict[str, Any]]:
    """An answer as a FHIR client records it: the Coding of the option picked, else the
    value in the question's type."""
    if "answerOption" in question:
        codings = {option["valueCoding"]["code"]: option["valueCoding"]
                   for option in question["answerOption"]}
        return [{"valueCoding": codings[code]}
                for code in (value if isinstance(value, list) else [value])]
    value_type = {"integer": "valueInteger", "decimal": "valueDecimal", "date": "valueDate",
                  "string": "valueString", "text": "valueString",
                  "boolean": "valueBoolean"}[question["type"]]
    return [{value_type: value}]


def matches(operator: str, recorded: Mapping[str, Any], condition: Mapping[str, Any]) -> bool:
    """One answer against one enableWhen's answer[x], which must be of the answer's type."""
    (value_key, value), = recorded.items()
    expected_key = "answer" + value_key.removeprefix("value")
    assert expected_key in condition, f"{condition} cannot compare with {value_key}"
    expected = condition[expected_key]
    if value_key == "valueCoding":
        assert operator == "=", f"{operator} on a Coding"
        return (value["system"], value["code"]) == (expected["system"], expected["code"])
    if value_key == "valueDecimal":
        value, expected = Decimal(str(value)), Decimal(str(expected))
    return {"=": value == expected, ">": value > expected,
            "<": value < expected, ">=": value >= expected, "<=": value <= expected}[operator]


def condition_holds(condition: Mapping[str, Any], answers: list[dict[str, Any]]) -> bool:
    operator = condition["operator"]
    if operator == "exists":
        return bool(answers) == condition["answerBoolean"]
    if operator == "!=":  # no answer is equal to it
        return not any(matches("=", a, condition) for a in answers)
    return any(matches(operator, a, condition) for a in answers)  # at least one answer is


@cache
def compiled(text: str, day: dt.date):
    """The expression as fhirpathpy runs it, with ``today()`` the given day."""
    today = {"today": {"fn": lambda inputs: day.isoformat(), "arity": {0: []}}}
    return fhirpathpy.compile(text, R4, {"userInvocationTable": today})


def response(resource: Mapping[str, Any], given: Mapping[str, list[dict[str, Any]]],
             enabled: set[str]) -> dict[str, Any]:
    """The QuestionnaireResponse a client holds: the answers of the enabled items."""

    def items(parent: Mapping[str, Any]) -> list[dict[str, Any]]:
        held = []
        for item in parent.get("item", ()):
            if item["linkId"] not in enabled:
                continue
            entry: dict[str, Any] = {"linkId": item["linkId"]}
            if item["linkId"] in given:
                entry["answer"] = given[item["linkId"]]
            if inner := items(item):
                entry["item"] = inner
            if len(entry) > 1:
                held.append(entry)
        return held

    return {"resourceType": "QuestionnaireResponse", "status": "in-progress",
            "item": items(resource)}


def fhir_enabled(resource: Mapping[str, Any], answers: Mapping[str, Any],
                 day: dt.date) -> set[str]:
    """The linkIds a FHIR client enables for these answers on this day."""
    everything = list(items_of(resource))
    by_link = {item["linkId"]: item for item, _ in everything}
    given = {link: fhir_answers(by_link[link], value) for link, value in answers.items()}
    enabled = set(by_link)
    for _ in range(len(everything)):  # settles long before: each pass can only follow a rule
        qr = response(resource, given, enabled)
        results: dict[str, list[Any]] = {}  # an expression several groups share runs once
        now = set()
        for item, parent in everything:
            if parent is not None and parent["linkId"] not in now:
                continue  # a disabled item disables what it holds
            conditions, text = item.get("enableWhen", ()), expression(item)
            assert not (conditions and text), f"{item['linkId']}: enableWhen and an expression"
            if text is not None:
                if text not in results:
                    results[text] = compiled(text, day)(qr, {"resource": qr})
                result = results[text]
                assert result in ([], [True], [False]), f"{item['linkId']}: {text} -> {result}"
                on = result == [True]
            elif conditions:
                held = [condition_holds(c, given.get(c["question"], [])
                                        if c["question"] in enabled else [])
                        for c in conditions]
                behaviour = item.get("enableBehavior")
                assert behaviour or len(held) == 1, f"{item['linkId']}: no enableBehavior"
                on = all(held) if behaviour in (None, "all") else any(held)
            else:
                on = True
            if on:
                now.add(item["linkId"])
        if now == enabled:
            return enabled
        enabled = now
    raise AssertionError(f"the enabled items never settle for {answers}")


# --- our rules ------------------------------------------------------------------------------


def our_shown(definition: Questionnaire, answers: Mapping[str, Any], day: dt.date,
              **clinic: Any) -> set[str]:
    """The steps and items our rules show, once the answers they hide are dropped (as they
    are stored), under the clinic's policy."""
    journey = Journey(definition, answers, day, policy(**clinic)).settled()
    return ({step.slug for step in journey.steps}
            | {item.id for step in journey.steps for item in step.items
               if journey.item_shown(item)})


def disagreement(definition: Questionnaire, answers: Mapping[str, Any], day: dt.date,
                 **clinic: Any) -> dict[str, list[str]]:
    resource = exported(definition, **clinic)
    links = {item["linkId"] for item, _ in items_of(resource)}
    answers = {k: v for k, v in answers.items() if k in links}  # a client asks no others
    fhir = fhir_enabled(resource, answers, day)
    ours = our_shown(definition, answers, day, **clinic) & links
    return {"enabled by FHIR only": sorted(fhir - ours),
            "shown by our rules only": sorted(ours - fhir)}


AGREED = {"enabled by FHIR only": [], "shown by our rules only": []}


# --- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", QUESTIONNAIRES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fhir_enables_exactly_what_our_rules_show(key, data):
    definition = QUESTIONNAIRES[key]
    day = data.draw(st.sampled_from(DAYS), label="day")
    clinic = data.draw(st.sampled_from(CLINICS), label="clinic")
    answers = data.draw(answer_sets(definition, day), label="answers")
    assert disagreement(definition, answers, day, **clinic) == AGREED


def conditional(definition: Questionnaire) -> list[tuple[str, str]]:
    """Every group and item of the export that a rule enables: (questionnaire, linkId)."""
    return [(definition.key, item["linkId"]) for item, _ in items_of(exported(definition))
            if item.get("enableWhen") or expression(item)]


@pytest.mark.parametrize(("key", "link"), [pair for definition in QUESTIONNAIRES.values()
                                           for pair in conditional(definition)])
def test_each_rule_is_read_both_ways(key, link):
    """Each rule is met by some answers and not by others, and FHIR says so as we do: the
    comparison above cannot pass by enabling everything or nothing."""
    definition, day = QUESTIONNAIRES[key], DAYS[0]
    for shown in (True, False):
        answers = find(answer_sets(definition, day),
                       lambda a, shown=shown: (link in our_shown(definition, a, day)) is shown,
                       settings=settings(max_examples=2_000, database=None,
                                         phases=[Phase.generate]))
        assert disagreement(definition, answers, day) == AGREED
        assert (link in fhir_enabled(exported(definition), answers, day)) is shown
