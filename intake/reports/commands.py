"""The report and data commands: score an answers file, write a stored submission's PDF,
re-score, export, purge abandoned drafts, add demo data, back up the database."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import random
import sys
from contextlib import closing
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from intake import audit, clinic, demo, scoring, upkeep, workflow
from intake.models import Submission, begin_write, db, utcnow
from intake.policy import Policy, rules_version
from intake.questionnaire import (
    INTAKE,
    MalformedAnswers,
    clean_answers,
    parse_date,
)
from intake.questionnaire.followup import FOLLOWUP
from intake.reports import font_dir, submission_pdf
from intake.reports.export import (
    DATASETS,
    DEFAULT_QUESTIONNAIRE,
    FORMATS,
    SUBMISSIONS,
    Export,
    ExportFilter,
)
from intake.reports.files import private_file
from intake.reports.fonts import FontMissing
from intake.reports.pdf import render_pdf
from intake.reports.summary import build_summary
from intake.scoring import followup

#: What the PDF of an answers file shows where a stored submission has its reference.
NO_REFERENCE = "not stored"
#: A clinic-local calendar date as the commands take it.
DATE = click.DateTime(formats=["%Y-%m-%d"])


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
        score = score_file(data, policy)
    except json.JSONDecodeError as error:
        _fail(str(file), f"not valid JSON ({error})")
    except UnicodeDecodeError:
        _fail(str(file), "not UTF-8 text")
    except MalformedAnswers as error:
        _fail(error.item, error.problem)
    if pdf_path is not None:
        submitted_on = parse_date(data["submitted_on"])
        rules = clinic.rules(score.get("questionnaire", INTAKE.key))
        summary = build_summary(
            answers=clean_answers(rules.questionnaire, data["answers"], submitted_on, policy),
            score=score, reference=NO_REFERENCE, submitted_at=submitted_on,
            reference_date=submitted_on, clinic_name=config["CLINIC_NAME"],
            phone_region=config["PHONE_REGION"],
            timezone=config.get("CLINIC_TIMEZONE", "America/New_York"),
            questionnaire_version=score["questionnaire_version"], policy=policy, rules=rules,
            inputs={"baseline": data.get("baseline")}, generated_at=clinic.now(),
        )
        try:
            pdf_path.write_bytes(render_pdf(summary, font_dir(config)))
        except FontMissing as error:
            _fail("pdf", str(error))
    click.echo(json.dumps(score, indent=2, ensure_ascii=False))


def score_file(data: object, policy: Policy) -> dict:
    """An answers file's score: a follow-up's when the file says ``"questionnaire":
    "followup"``, an intake's otherwise (contract.md, followup.md §8)."""
    key = data.get("questionnaire", INTAKE.key) if isinstance(data, dict) else INTAKE.key
    if key == FOLLOWUP.key:
        return followup.score_file(data, policy)
    if key != INTAKE.key:
        raise MalformedAnswers("questionnaire", f"is not {INTAKE.key} or {FOLLOWUP.key}")
    return scoring.score_file(data, policy)


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
    with os.fdopen(private_file(output), "wb") as handle:
        handle.write(pdf)
    audit.log("pdf_download", submission.reference, detail={"via": "cli"})
    click.echo(f"Wrote {output}")


@click.command("rescore")
@with_appcontext
@click.option("--since", type=DATE,
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
    new_version = rules_version(policy)
    begin_write()
    for submission in db.session.scalars(query.order_by(Submission.id)):
        new = clinic.rules(submission.questionnaire).score(
            submission.answers, clinic.day_of(submission.submitted_at), policy,
            submission.inputs)
        changed += workflow.replace_score(submission, new, who, utcnow())
    audit.record("rescore", detail={"since": since.date().isoformat() if since else None,
                                    "changed": changed, "rules_version": new_version})
    db.session.commit()
    click.echo(f"Rescored {changed} submission(s) under rules {new_version}.")


@click.command("export")
@with_appcontext
@click.option("--format", "export_format", type=click.Choice(tuple(FORMATS)), required=True)
@click.option("--since", type=DATE, help="Submitted on or after this clinic-local date.")
@click.option("--until", type=DATE, help="Submitted on or before this clinic-local date.")
@click.option("--status", type=click.Choice(workflow.STATUSES),
              help="Only this status. Drafts only with --status draft: the urgent ones, "
                   "dated by when they were started.")
@click.option("--questionnaire", default=DEFAULT_QUESTIONNAIRE, show_default=True,
              help="The key of the questionnaire whose submissions to export: one a file.")
@click.option("--dataset", type=click.Choice(tuple(DATASETS)), default=SUBMISSIONS,
              show_default=True, help="What a row is: a submission of the questionnaire, "
                                      "or the course (a row per patient per submission, "
                                      "every questionnaire; a tabular format only).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              required=True)
def export_command(export_format: str, since: dt.datetime | None, until: dt.datetime | None,
                   status: str | None, questionnaire: str, dataset: str,
                   output: Path) -> None:
    """Write an export, the same as the staff page's, to OUTPUT (mode 0600)."""
    selection = ExportFilter(since and since.date(), until and until.date(), status,
                             questionnaire, dataset)
    problem = selection.problem(FORMATS[export_format])
    if problem:
        raise click.UsageError(problem)
    export = Export(export_format, selection, current_app.config, via="cli")
    with os.fdopen(private_file(output), "wb") as handle, closing(export.chunks()) as chunks:
        for chunk in chunks:
            handle.write(chunk)
    click.echo(f"Wrote {output} ({export.rows} submission(s)).")


@click.command("purge-drafts")
@with_appcontext
@click.option("--older-than", "days", type=click.IntRange(min=1),
              help="Days since a draft was last saved (default DRAFT_RETENTION_DAYS).")
def purge_drafts_command(days: int | None) -> None:
    """Delete abandoned drafts; never an urgent draft that no one has acted on."""
    days = days or int(current_app.config["DRAFT_RETENTION_DAYS"])
    deleted = upkeep.purge_drafts(days, who=None)
    click.echo(f"Deleted {deleted} draft(s) not saved for {days} days.")


@click.command("demo-data")
@with_appcontext
@click.argument("count", type=click.IntRange(min=1))
@click.option("--seed", type=int, help="Repeatable answers (references stay random).")
def demo_data_command(count: int, seed: int | None) -> None:
    """Add COUNT synthetic, clearly fictional submissions marked as demo."""
    config = current_app.config
    if not config.get("ALLOW_DEMO_DATA"):
        audit.log("demo_data", outcome="denied", detail={"count": count})
        raise click.ClickException(
            "demo-data is refused: it adds fictional patients to this database. Set "
            "INTAKE_ALLOW_DEMO_DATA=1 to allow it, never on a clinic's real database.")
    # The audit row first: it opens the write transaction the rows then join.
    audit.record("demo_data", detail={"count": count})
    demo.insert_demo(count, clinic.policy(config), clinic.zone(config["CLINIC_TIMEZONE"]),
                     random.Random(seed))  # noqa: S311  # nosec B311 # fictional data, not a secret
    db.session.commit()
    click.echo(f"Added {count} demo submission(s).")


@click.command("backup")
@with_appcontext
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(output: Path) -> None:
    """Copy the SQLite database consistently (online backup API) to OUTPUT (mode 0600)."""
    if output.exists():
        raise click.ClickException(f"{output} exists: choose a new file name.")
    try:
        check = upkeep.backup(output)
    except upkeep.NotSQLite as refusal:
        raise click.ClickException(str(refusal)) from None
    if check != ["ok"]:
        raise click.ClickException(f"The copy failed its integrity check: {check[:5]}")
    click.echo(f"Backed up to {output} (integrity_check: ok).")


def init_app(app: Flask) -> None:
    """Register the report and data commands with the application's CLI."""
    for command in (score_command, pdf_command, rescore_command, export_command,
                    purge_drafts_command, demo_data_command, backup_command):
        app.cli.add_command(command)
