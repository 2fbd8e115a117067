"""The two Questionnaires as a FHIR client receives them, generated under the clinic's
settings (the defaults unless a test changes one)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from intake import clinic, create_app
from intake.policy import Policy
from intake.questionnaire import INTAKE, Questionnaire
from intake.questionnaire.followup import FOLLOWUP
from intake.reports import fhir

#: The questionnaires the clinic exports, by key.
QUESTIONNAIRES = {definition.key: definition for definition in (INTAKE, FOLLOWUP)}


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

