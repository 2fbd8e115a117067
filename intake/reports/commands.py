"""The report commands: score an answers file, write a stored submission's PDF, re-score."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from intake import audit, clinic, scoring, workflow
from intake.models import Submission, begin_write, db, utcnow
from intake.questionnaire import (
    INTAKE,
    QUESTIONNAIRE_VERSION,
    MalformedAnswers,
    clean_answers,
    parse_date,
)
from intake.reports import export, font_dir, submission_pdf
from intake.reports.pdf import FontMissing, render_pdf
from intake.reports.summary import build_summary

#: What the PDF of an answers file shows where a stored submission has its reference.
NO_REFERENCE = "not stored"


@click.command("score")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the physician PDF for these answers.")
def score_command(file: Path, pdf_path: Path | None) -> None:
    """Print the score of an answers file as JSON (no database, no audit)."""
    config = current_app.config
    policy = clinic.policy(config)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        score = scoring.score_file(data, policy)
    except json.JSONDecodeError as error:
        _fail(str(file), f"not valid JSON ({error})")
    except UnicodeDecodeError:
        _fail(str(file), "not UTF-8 text")
    except MalformedAnswers as error:
        _fail(error.item, error.problem)
    if pdf_path is not None:
        submitted_on = parse_date(data["submitted_on"])
        summary = build_summary(
            answers=clean_answers(INTAKE, data["answers"], submitted_on, policy.switched_off),
            score=score, reference=NO_REFERENCE, submitted_at=submitted_on,
            reference_date=submitted_on, clinic_name=config["CLINIC_NAME"],
            timezone=config.get("CLINIC_TIMEZONE", "America/New_York"),
            questionnaire_version=QUESTIONNAIRE_VERSION,
        )
        try:
            pdf_path.write_bytes(render_pdf(summary, font_dir(config)))
        except FontMissing as error:
            _fail("pdf", str(error))
    click.echo(json.dumps(score, indent=2, ensure_ascii=False))


def _fail(item: str, problem: str) -> NoReturn:
    click.echo(f"error: {item}: {problem}", err=True)
    sys.exit(1)


@click.command("pdf")
@with_appcontext
@click.argument("reference")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def pdf_command(reference: str, output: Path) -> None:
    """Write the physician PDF of a stored submission."""
    submission = db.session.scalar(
        select(Submission).where(Submission.reference == reference.strip().upper())
    )
    if submission is None or submission.submitted_at is None:
        _fail(reference, "no submitted intake has this reference")
    try:
        pdf = submission_pdf(submission, current_app.config)
    except FontMissing as error:
        _fail("pdf", str(error))
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a file written over keeps its mode otherwise
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pdf)
    audit.log("pdf_download", submission.reference, detail={"via": "cli"})
    click.echo(f"Wrote {output}")


@click.command("rescore")
@with_appcontext
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Only submissions sent on or after this clinic-local date.")
def rescore_command(since: dt.datetime | None) -> None:
    """Score stored submissions again under the current rules; the old score is kept."""
    config = current_app.config
    policy = clinic.policy(config)
    who = f"{getpass.getuser()} (command line)"
    query = select(Submission).where(Submission.submitted_at.is_not(None))
    if since is not None:
        start = since.replace(tzinfo=ZoneInfo(config["CLINIC_TIMEZONE"]))
        query = query.where(Submission.submitted_at >= start)
    changed = 0
    new_version = scoring.rules_version(policy)
    begin_write()
    for submission in db.session.scalars(query.order_by(Submission.id)):
        new = scoring.score(submission.answers, clinic.day_of(submission.submitted_at), policy)
        if new == submission.score:
            continue
        submission.score_history = [*submission.score_history, {
            "rules_version": submission.rules_version, "score": submission.score,
            "replaced_at": utcnow().isoformat(), "replaced_by": new["rules_version"], "by": who,
        }]
        workflow.apply_score(submission, new)
        changed += 1
    audit.record("rescore", detail={"since": since.date().isoformat() if since else None,
                                    "changed": changed, "rules_version": new_version})
    db.session.commit()
    click.echo(f"Rescored {changed} submission(s) under rules {new_version}.")


def init_app(app: Flask) -> None:
    """Register the report and export commands with the application's CLI."""
    for command in (score_command, pdf_command, rescore_command):
        app.cli.add_command(command)
    export.init_app(app)
