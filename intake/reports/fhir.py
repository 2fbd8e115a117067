"""FHIR R4: submissions as a Bundle of QuestionnaireResponses, and the Questionnaire itself.

A response names its patient as its subject: the bundle holds each patient once, before
their first response, and beside each sent response an Observation for each of its course
measures that has a value (PHQ-9 total, PEG, average pain), derived from the response.
Inside the bundle a resource is referred to as ``Type/id``, its fullUrl that under the
clinic's FHIR base.

Each questionnaire the clinic serves has its own canonical URL, named by its key. The
Questionnaire is generated from its definition: a shown-when rule becomes flat
``enableWhen`` entries where they can say it, else the SDC ``enableWhenExpression`` in
FHIRPath (contract.md, "Exports").
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from intake import clinic, course
from intake.course import CourseRow, Patient
from intake.models import Submission, db, utcnow
from intake.policy import Policy
from intake.questionnaire import (
    ADULT_AGE,
    Age,
    All,
    AtLeast,
    Equals,
    Item,
    NotEquals,
    OneOf,
    Questionnaire,
    Ticked,
    condition,
    kind_of,
    number,
)
from intake.questionnaire.flow import asked
from intake.reports import iso, item_text
from intake.reports.columns import INDICATOR_NAMES, patient_key
from intake.reports.course_export import AVERAGE_PAIN

SDC_ENABLE_WHEN = ("http://hl7.org/fhir/uv/sdc/StructureDefinition/"
                   "sdc-questionnaire-enableWhenExpression")
HIDDEN = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
LOINC = "http://loinc.org"
#: A score with decimals as an Observation holds it: a Quantity (it has no valueDecimal).
SCORE_UNIT = {"unit": "score", "system": "http://unitsofmeasure.org", "code": "{score}"}
SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                      "code": "survey", "display": "Survey"}]}


@dataclass(frozen=True)
class Measure:
    """A course measure the bundle carries as an Observation: its code, its value type, and
    how the patient's course reads it (course.course: the one reader of both questionnaires)."""

    #: The clinic's code for it, unless LOINC has one.
    code: str
    display: str
    read: Callable[[CourseRow], int | float | None]
    loinc: str | None = None
    #: One decimal (the PEG), else a whole number.
    decimal: bool = False

    def concept(self, base: str) -> dict[str, Any]:
        system, code = (LOINC, self.loinc) if self.loinc else (measure_system(base), self.code)
        return {"coding": [{"system": system, "code": code, "display": self.display}]}

    def value(self, value: int | float) -> dict[str, Any]:
        if self.decimal:
            return {"valueQuantity": {"value": value, **SCORE_UNIT}}
        return {"valueInteger": int(value)}


MEASURES = (
    Measure("phq9_total", "Patient Health Questionnaire 9 item (PHQ-9) total score "
            "[Reported]", lambda row: row.phq9, loinc="44261-6"),
    Measure("peg", INDICATOR_NAMES["peg"], lambda row: row.peg, decimal=True),
    Measure(AVERAGE_PAIN.id, item_text(AVERAGE_PAIN), lambda row: row.nrs_avg_week),
)


def _coding(base: str, item: Item, code: str, display: bool = True) -> dict[str, str]:
    coding = {"system": f"{base}/CodeSystem/{item.id}", "code": code}
    if display:
        coding["display"] = item.choice_label(code)
    return coding


def _fhir_value(base: str, item: Item, value_type: str, value: Any,
                display: bool = True) -> Any:
    """One value as the FHIR value type its item's kind names."""
    if value_type == "valueCoding":
        return _coding(base, item, value, display)
    if value_type == "valueInteger":
        return int(value)
    if value_type == "valueBoolean":
        return bool(value)
    return value


def _answer_values(base: str, item: Item, value: Any) -> list[dict[str, Any]]:
    """One stored answer as QuestionnaireResponse answers (a multi gives several)."""
    value_type = kind_of(item).fhir_value
    return [{value_type: _fhir_value(base, item, value_type, one)}
            for one in kind_of(item).each(value)]


def base_url(config: Mapping[str, Any]) -> str:
    """The clinic's FHIR base, which every code system and URL here starts with."""
    return config["FHIR_BASE_URL"].rstrip("/")


def measure_system(base: str) -> str:
    """The clinic's own code system of the measures LOINC has no code for."""
    return f"{base}/CodeSystem/course-measures"


def patient_system(base: str) -> str:
    """Where the clinic's patient keys come from."""
    return f"{base}/NamingSystem/patient-key"


def _local(resource_type: str, resource_id: str) -> str:
    """How a resource is named inside the bundle; its fullUrl is this under the base."""
    return f"{resource_type}/{resource_id}"


def _reference(resource: Mapping[str, Any]) -> dict[str, str]:
    return {"reference": _local(resource["resourceType"], resource["id"])}


def canonical_url(base: str, key: str) -> str:
    """A questionnaire's canonical URL, by its key; a response names it with its version."""
    return f"{base}/Questionnaire/{key}"


def questionnaire_url(base: str, key: str, version: str) -> str:
    """What a response answered: the canonical URL and the version, as FHIR pins it."""
    return f"{canonical_url(base, key)}|{version}"


def response_resource(submission: Submission, base: str) -> dict[str, Any]:
    """A submission as a QuestionnaireResponse, its answers grouped by its own steps."""
    answers = submission.answers
    groups = []
    for step in clinic.questionnaire(submission.questionnaire).steps:
        items = [{"linkId": item.id, "answer": _answer_values(base, item, answers[item.id])}
                 for item in step.items if answers.get(item.id) not in (None, [])]
        if items:
            groups.append({"linkId": step.slug, "item": items})
    submitted = submission.submitted_at is not None
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": submission.reference,
        "identifier": {"system": f"{base}/NamingSystem/intake-reference",
                       "value": submission.reference},
        "questionnaire": questionnaire_url(base, submission.questionnaire,
                                           submission.questionnaire_version),
        "status": "completed" if submitted else "in-progress",
        "authored": iso(submission.submitted_at if submitted else submission.updated_at),
    }
    key = patient_key(submission)
    if key is not None:  # a draft of an intake, or a submission not yet placed, has none
        resource["subject"] = {"reference": _local("Patient", str(key))}
    if groups:
        resource["item"] = groups
    return resource


def patient_resource(patient: Patient, rows: Sequence[CourseRow], base: str) -> dict[str, Any]:
    """A patient as little as names them: the clinic's patient key, and the name and date
    of birth their latest intake gave, as the patient page shows them (the responses in
    the bundle carry those answers already)."""
    key = str(patient.id)
    resource: dict[str, Any] = {"resourceType": "Patient", "id": key,
                                "identifier": [{"system": patient_system(base), "value": key}]}
    intakes = [row.submission.answers for row in rows if not row.follow_up]
    answers = intakes[-1] if intakes else {}
    name = {"family": answers.get("last_name"),
            "given": [answers["first_name"]] if answers.get("first_name") else None}
    if any(name.values()):
        resource["name"] = [{part: value for part, value in name.items() if value}]
    if answers.get("dob") or patient.dob:
        resource["birthDate"] = answers.get("dob") or patient.dob
    return resource


def _measured(row: CourseRow) -> list[tuple[Measure, int | float]]:
    """The measures a course row has a value for (an incomplete PHQ-9 has no total)."""
    return [(measure, value) for measure in MEASURES if (value := measure.read(row)) is not None]


def observation(measure: Measure, value: int | float, response: Mapping[str, Any],
                base: str) -> dict[str, Any]:
    """A measure of a sent response: about its patient, when it was authored, from it."""
    return {
        "resourceType": "Observation",
        "id": f"{response['id']}-{measure.code.replace('_', '-')}",  # an id has no "_"
        "status": "final", "category": [SURVEY], "code": measure.concept(base),
        "subject": response["subject"], "effectiveDateTime": response["authored"],
        "derivedFrom": [_reference(response)], **measure.value(value),
    }


def resources(submissions: Iterable[Submission], base: str) -> Iterator[dict[str, Any]]:
    """Each submission's response, after its patient the first time they come, and
    followed by its measures. A patient's course is read once, when they first come;
    what is kept of it until their responses come is the measures' values."""
    measured: dict[int, list[tuple[Measure, int | float]]] = {}
    seen: set[int] = set()
    for submission in submissions:
        key = patient_key(submission)
        if key is not None and key not in seen:
            seen.add(key)
            patient = db.session.get(Patient, key)
            rows = course.course(patient)
            measured.update((row.submission.id, _measured(row)) for row in rows)
            yield patient_resource(patient, rows, base)
        response = response_resource(submission, base)
        yield response
        for measure, value in measured.pop(submission.id, ()):
            yield observation(measure, value, response, base)


def bundle(submissions: Iterable[Submission], config: Mapping[str, Any]) -> Iterator[bytes]:
    """A Bundle of type collection: each submission's QuestionnaireResponse, its patient
    once, and its measures as Observations."""
    base = base_url(config)
    head = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
            "timestamp": iso(utcnow())}
    # The head without its closing brace: the entries follow, one at a time.
    yield json.dumps(head, ensure_ascii=False)[:-1].encode("utf-8")
    separator = ', "entry": [\n'
    entries = 0
    for resource in resources(submissions, base):
        entry = {"fullUrl": f"{base}/{_reference(resource)['reference']}", "resource": resource}
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        yield (separator + text).encode("utf-8")
        separator = ",\n"
        entries += 1
    yield b"}\n" if entries == 0 else b"\n]}\n"


def _answer_path(item_id: str) -> str:
    return f"%resource.repeat(item).where(linkId='{item_id}').answer.value"


def _has_answer(item_id: str, test: str) -> str:
    return f"{_answer_path(item_id)}.where({test}).exists()"


def _is(items: Mapping[str, Item], item_id: str, operator: str, value: Any) -> str:
    """A FHIRPath test on an answer: its code for a coded item, else its value."""
    if kind_of(items[item_id]).coded:
        return f"code {operator} '{value}'"
    return f"$this {operator} {value}"


#: Age on the day the form is filled in, from dob (FHIRPath date arithmetic is calendar
#: arithmetic: a 29 February birthday is reached on 1 March, as questionnaire.age_on has it).
ADULT_EXPRESSION = f"{_answer_path('dob')}.all($this <= today() - {ADULT_AGE} years)"


def fhirpath(rule: Any, items: Mapping[str, Item], policy: Policy) -> str:
    """A shown-when rule as FHIRPath, false when the item it reads is unanswered."""
    if isinstance(rule, Equals):
        return _has_answer(rule.item, _is(items, rule.item, "=", rule.value))
    if isinstance(rule, NotEquals):
        return _has_answer(rule.item, _is(items, rule.item, "!=", rule.value))
    if isinstance(rule, Ticked):
        return " or ".join(_has_answer(rule.item, _is(items, rule.item, "=", code))
                           for code in rule.codes)
    if isinstance(rule, OneOf):
        values = " | ".join(f"'{v}'" for v in rule.values)
        return _has_answer(rule.item, f"code in ({values})")
    if isinstance(rule, Age) and rule.relation == "at most":
        years = number(rule.years, policy)
        return _has_answer("dob", f"$this > today() - {years + 1} years")
    if isinstance(rule, AtLeast):
        return "(" + " or ".join(_has_answer(i, f"$this >= {rule.threshold}")
                                 for i in rule.item_ids) + ")"
    if isinstance(rule, All):
        return " and ".join(f"({fhirpath(c, items, policy)})" for c in rule.conditions)
    raise TypeError(f"no FHIRPath for {rule!r}")


def _when(base: str, item: Item, operator: str, value: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"question": item.id, "operator": operator}
    if operator == "exists":
        entry["answerBoolean"] = value
    else:
        value_type = kind_of(item).fhir_value
        entry["answer" + value_type.removeprefix("value")] = _fhir_value(
            base, item, value_type, value, display=False)
    return entry


def enable_when(rule: Any, base: str,
                items: Mapping[str, Item]) -> tuple[list[dict[str, Any]], str] | None:
    """The rule as flat enableWhen entries and behaviour; None where they cannot say it."""
    # They cannot read an age, nor hold an "or" inside an "and": FHIRPath says those.
    if isinstance(rule, Ticked):
        return [_when(base, items[rule.item], "=", code) for code in rule.codes], "any"
    if isinstance(rule, Equals):
        return [_when(base, items[rule.item], "=", rule.value)], "all"
    if isinstance(rule, NotEquals):
        # FHIR's != alone holds for an unanswered question; ours does not.
        return [_when(base, items[rule.item], "exists", True),
                _when(base, items[rule.item], "!=", rule.value)], "all"
    if isinstance(rule, OneOf):
        return [_when(base, items[rule.item], "=", v) for v in rule.values], "any"
    if isinstance(rule, AtLeast) and isinstance(rule.threshold, int):
        return [_when(base, items[i], ">=", rule.threshold) for i in rule.item_ids], "any"
    if isinstance(rule, All):
        parts = [enable_when(c, base, items) for c in rule.conditions]
        if any(p is None or (p[1] == "any" and len(p[0]) > 1) for p in parts):
            return None
        return [entry for entries, _ in parts for entry in entries], "all"
    return None


def _expression(text: str) -> dict[str, Any]:
    return {"url": SDC_ENABLE_WHEN,
            "valueExpression": {"language": "text/fhirpath", "expression": text}}


def _bound(url: str, item: Item, value: float | str | None) -> list[dict[str, Any]]:
    if not isinstance(value, (int, float)):
        return []
    key = "valueInteger" if item.whole else kind_of(item).fhir_value
    return [{"url": url, key: int(value) if key == "valueInteger" else value}]


def questionnaire_item(item: Item, base: str, policy: Policy,
                       items: Mapping[str, Item]) -> dict[str, Any]:
    """One item of the definition (whose ``items`` its rule reads) as a FHIR item."""
    entry: dict[str, Any] = {"linkId": item.id,
                             "text": item_text(item),
                             "type": kind_of(item).fhir_type}
    extensions = _bound(MIN_VALUE, item, item.minimum) + _bound(MAX_VALUE, item, item.maximum)
    if item.system:
        entry["readOnly"] = True
        extensions.append({"url": HIDDEN, "valueBoolean": True})
    if item.required:
        entry["required"] = True
    if kind_of(item).repeats:
        entry["repeats"] = True
    if item.max_length:
        entry["maxLength"] = item.max_length
    if kind_of(item).coded:
        entry["answerOption"] = [{"valueCoding": _coding(base, item, c.code)}
                                 for c in item.choices]
    rule = condition(item, policy)
    if rule is not None:
        flat = enable_when(rule, base, items)
        if flat is None:
            extensions.append(_expression(fhirpath(rule, items, policy)))
        else:
            entry["enableWhen"], behaviour = flat
            if len(entry["enableWhen"]) > 1:
                entry["enableBehavior"] = behaviour
    if extensions:
        entry["extension"] = extensions
    return entry


def questionnaire_resource(config: Mapping[str, Any],
                           definition: Questionnaire) -> dict[str, Any]:
    """The FHIR R4 Questionnaire generated from a definition: one group per step."""
    base = base_url(config)
    policy = clinic.policy(config)
    groups = []
    asking = asked(definition, policy)
    for step in definition.steps:
        if step.slug not in asking.steps:  # nothing left to ask: no step, as on the pages
            continue
        items = [questionnaire_item(item, base, policy, definition.items)
                 for item in step.items if item.instrument not in policy.switched_off]
        group: dict[str, Any] = {"linkId": step.slug, "text": step.title, "type": "group",
                                 "item": items}
        rules = [ADULT_EXPRESSION] if step.slug in definition.adult_only_steps else []
        if step.shown_when is not None:
            rules.append(fhirpath(step.shown_when, definition.items, policy))
        if rules:
            group["extension"] = [_expression(" and ".join(f"({r})" for r in rules))]
        groups.append(group)
    # A FHIR name is an identifier: "Check-in" is named PatientCheckIn.
    name = "".join(word.capitalize() for word in re.split(r"[^A-Za-z0-9]+", definition.title))
    return {
        "resourceType": "Questionnaire", "id": definition.key,
        "url": canonical_url(base, definition.key), "version": definition.version,
        "name": f"Patient{name}",
        "title": f"{config['CLINIC_NAME']} patient {definition.title.lower()}",
        "status": "active", "subjectType": ["Patient"], "item": groups,
    }


def questionnaire(config: Mapping[str, Any], definition: Questionnaire) -> Iterator[bytes]:
    """A generated Questionnaire as indented JSON: it holds no patient data."""
    yield json.dumps(questionnaire_resource(config, definition), ensure_ascii=False,
                     indent=1).encode("utf-8")
