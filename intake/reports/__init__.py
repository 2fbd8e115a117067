"""Reports: the physician PDF, and the commands that score, print and re-score."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from intake import audit, scoring
from intake.models import ROUTING_RANK, Submission, SubmissionEvent, begin_write, db, utcnow
from intake.questionnaire import (
    QUESTIONNAIRE_VERSION,
    MalformedAnswers,
    clean_answers,
    parse_date,
)
from intake.reports.pdf import FontMissing, render_pdf
from intake.reports.summary import StaffAction, Summary, build_summary

#: What the PDF of an answers file shows where a stored submission has its reference.
NO_REFERENCE = "not stored"


def policy_from_config(config: Mapping[str, Any]) -> scoring.Policy:
    """The scoring policy this clinic's configuration asks for."""
    return scoring.Policy(
        stop_bang_enabled=bool(config.get("STOP_BANG_ENABLED", True)),
        dast10_enabled=bool(config.get("DAST10_ENABLED", True)),
        dast_skip=bool(config.get("DAST_SKIP", True)),
    )


def font_dir(config: Mapping[str, Any]) -> str | None:
    """Where to find the PDF font, when the clinic overrides the system's directories."""
    return config.get("PDF_FONT_DIR") or None


def submitted_on(submission: Submission, timezone: str) -> dt.date:
    """The submission's reference date: the day it was sent, in the clinic's time zone."""
    return submission.submitted_at.astimezone(ZoneInfo(timezone)).date()


def rescore_actions(submission: Submission) -> list[StaffAction]:
    """Each earlier score, as the staff-actions section prints it."""
    return [
        StaffAction(
            who=entry["by"], when=dt.datetime.fromisoformat(entry["replaced_at"]),
            what=f"rescored under rules {entry['replaced_by']}: routing was "
                 f"{entry['score']['routing']} (rules {entry['rules_version']})",
        )
        for entry in submission.score_history
    ]


STATUS_LABELS = {
    "draft": "draft (not yet submitted)",
    "new": "new",
    "contacted": "contacted",
    "reviewed": "reviewed",
    "cleared_to_schedule": "cleared to schedule",
    "closed": "closed",
}

def event_words(event: SubmissionEvent, titles: Mapping[str, str]) -> str:
    """What a staff event did, as the history and the PDF say it."""
    if event.kind == "override":
        title = titles.get(event.flag_code)
        return f"hold override {event.flag_code}" + (f" ({title})" if title else "")
    if event.kind == "status":
        return (f"status {STATUS_LABELS.get(event.from_status, event.from_status)} → "
                f"{STATUS_LABELS.get(event.to_status, event.to_status)}")
    return event.kind


def staff_actions(submission: Submission) -> list[StaffAction]:
    """The staff events and the rescores, oldest first, for the summary's last section."""
    titles = {flag["code"]: flag["title"] for flag in (submission.score or {}).get("flags", ())}
    events = [
        StaffAction(who=event.user.email if event.user else "unknown account", when=event.at,
                    what=event_words(event, titles), reason=event.note or "")
        for event in submission.events
    ]
    return sorted([*rescore_actions(submission), *events], key=lambda action: action.when)


def submission_summary(submission: Submission, config: Mapping[str, Any],
                       score: Mapping[str, Any] | None = None,
                       today: dt.date | None = None) -> Summary:
    """What the physician reads about a submission, or an urgent draft scored as of today."""
    timezone = config["CLINIC_TIMEZONE"]
    if submission.submitted_at is not None:
        score, moment = submission.score, submission.submitted_at
        reference_date = submitted_on(submission, timezone)
    else:
        moment = reference_date = today
    return build_summary(
        answers=submission.answers, score=score, reference=submission.reference,
        submitted_at=moment, reference_date=reference_date, clinic_name=config["CLINIC_NAME"],
        timezone=timezone, language=submission.language,
        questionnaire_version=submission.questionnaire_version,
        actions=staff_actions(submission),
    )


def submission_pdf(submission: Submission, config: Mapping[str, Any]) -> bytes:
    """The physician PDF of a stored submission, with the score it was given."""
    return render_pdf(submission_summary(submission, config), font_dir(config))


@click.command("score")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the physician PDF for these answers.")
def score_command(file: Path, pdf_path: Path | None) -> None:
    """Print the score of an answers file as JSON (no database, no audit)."""
    config = current_app.config
    policy = policy_from_config(config)
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
            answers=clean_answers(data["answers"], submitted_on, policy.switched_off),
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
    policy = policy_from_config(config)
    who = f"{getpass.getuser()} (command line)"
    query = select(Submission).where(Submission.submitted_at.is_not(None))
    if since is not None:
        start = since.replace(tzinfo=ZoneInfo(config["CLINIC_TIMEZONE"]))
        query = query.where(Submission.submitted_at >= start)
    changed = 0
    new_version = scoring.rules_version(policy)
    begin_write()
    for submission in db.session.scalars(query.order_by(Submission.id)):
        new = scoring.score(submission.answers,
                            submitted_on(submission, config["CLINIC_TIMEZONE"]), policy)
        if new == submission.score:
            continue
        submission.score_history = [*submission.score_history, {
            "rules_version": submission.rules_version, "score": submission.score,
            "replaced_at": utcnow().isoformat(), "replaced_by": new["rules_version"], "by": who,
        }]
        submission.score, submission.rules_version = new, new["rules_version"]
        submission.routing = new["routing"]
        submission.queue_rank = ROUTING_RANK[new["routing"]]
        changed += 1
    audit.record("rescore", detail={"since": since.date().isoformat() if since else None,
                                    "changed": changed, "rules_version": new_version})
    db.session.commit()
    click.echo(f"Rescored {changed} submission(s) under rules {new_version}.")


def init_app(app: Flask) -> None:
    """Register the report commands with the application's CLI."""
    for command in (score_command, pdf_command, rescore_command):
        app.cli.add_command(command)
    from intake.reports import export  # after this module's helpers, which it uses
    export.init_app(app)
