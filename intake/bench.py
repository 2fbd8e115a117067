"""The bare baseline `make bench` measures a patient's step POST against.

Registered only when the app is created with BENCHMARK_ROUTES set, never in production:
one committed insert and a redirect, with no form, session, template or audit row, on the
same engine (WAL, synchronous=FULL) and behind the same server as the real step.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Flask, redirect, url_for
from sqlalchemy import insert

from intake.extensions import csrf
from intake.models import Submission, db, new_reference
from intake.questionnaire import QUESTIONNAIRE_VERSION

bp = Blueprint("bench", __name__, url_prefix="/bench")


@bp.post("/insert")
def insert_draft():
    """One empty draft row, committed, then a redirect as a saved step answers."""
    with db.engine.begin() as connection:
        connection.execute(insert(Submission).values(
            reference=new_reference(), draft_key=secrets.token_urlsafe(32),
            questionnaire_version=QUESTIONNAIRE_VERSION, answers={}, completed_steps=[]))
    return redirect(url_for("bench.insert_draft"))


def init_app(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
