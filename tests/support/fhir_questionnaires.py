"""The two Questionnaires as a FHIR client receives them, generated under the clinic's
settings (the defaults unless a test changes one), and what a client reads in them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from intake import clinic, create_app
from intake.policy import Policy
from intake.questionnaire import INTAKE, Questionnaire
from intake.questionnaire.followup import FOLLOWUP
from intake.reports import fhir

#: The questionnaires the clinic exports, by key.
QUESTIONNAIRES = {definition.key: definition for definition in (INTAKE, FOLLOWUP)}

#: The extension a client enables an item by, as the SDC specification names it.
SDC_ENABLE_WHEN = ("http://hl7.org/fhir/uv/sdc/StructureDefinition/"
                   "sdc-questionnaire-enableWhenExpression")


@cache
def settings(**changes: Any) -> Mapping[str, Any]:
    """The app's settings, the clinic's ``changes`` made (the defaults unless told)."""
    return create_app({"TESTING": True, "SECRET_KEY": "fhir-client-test",
                       "SQLALCHEMY_DATABASE_URI": "sqlite://", **changes}).config


def policy(**changes: Any) -> Policy:
    """The policy the Questionnaires are generated under."""
    return clinic.policy(settings(**changes))


def exported(definition: Questionnaire, **changes: Any) -> dict[str, Any]:
    """The FHIR R4 Questionnaire the export hands out for this definition."""
    return fhir.questionnaire_resource(settings(**changes), definition)


def items_of(resource: Mapping[str, Any],
             parent: Mapping[str, Any] | None = None
             ) -> Iterator[tuple[dict[str, Any], Mapping[str, Any] | None]]:
    """Every item of a Questionnaire (or of an item), each with the item that holds it."""
    for item in resource.get("item", ()):
        yield item, parent
        yield from items_of(item, item)


def expression(item: Mapping[str, Any]) -> str | None:
    """The item's SDC enableWhenExpression, in FHIRPath."""
    found = [e for e in item.get("extension", ()) if e["url"] == SDC_ENABLE_WHEN]
    assert len(found) <= 1, f"{item['linkId']} has {len(found)} enableWhenExpressions"
    return found[0]["valueExpression"]["expression"] if found else None
