"""Reports: what the physician reads about a stored submission, and the words reports share.

The summary and its PDF are built here; the exports and FHIR read an item's question and
a moment the same way through ``item_text`` and ``iso``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from intake import clinic, course
from intake.course import Patient
from intake.models import Submission, SubmissionEvent, db
from intake.questionnaire import Item
from intake.questionnaire.followup import FOLLOWUP
from intake.reports import chart
from intake.reports.pdf import render_pdf
from intake.reports.summary import StaffAction, Summary, build_summary
from intake.workflow import status_label

#: What the definition's one system item means, for readers of the dictionary and FHIR.
SYSTEM_TEXT = {
    "phq9_9_endorsed": "PHQ-9 item 9 as first endorsed on the draft (kept by the "
                       "questionnaire, never asked)",
}


def item_text(item: Item) -> str:
    """An item's question for a reader outside the form: a system item says what it keeps."""
    return SYSTEM_TEXT.get(item.id, item.label)


def iso(moment: dt.datetime | None, zone: ZoneInfo | None = None) -> str | None:
    """A moment as ISO 8601 to the second with its offset, in ``zone`` if given."""
    if moment is None:
        return None
    return (moment.astimezone(zone) if zone else moment).isoformat(timespec="seconds")


def font_dir(config: Mapping[str, Any]) -> str | None:
    """Where to find the PDF font, when the clinic overrides the system's directories."""
    return config.get("PDF_FONT_DIR") or None


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


def event_words(event: SubmissionEvent, titles: Mapping[str, str]) -> str:
    """What a staff event did, as the history and the PDF say it."""
    if event.kind == "override":
        title = titles.get(event.flag_code)
        return f"hold override {event.flag_code}" + (f" ({title})" if title else "")
    if event.kind == "status":
        return f"status {status_label(event.from_status)} → {status_label(event.to_status)}"
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
        reference_date = clinic.day_of(submission.submitted_at)
    else:
        moment = reference_date = today
    summary = build_summary(
        answers=submission.answers, score=score, reference=submission.reference,
        submitted_at=moment, reference_date=reference_date, clinic_name=config["CLINIC_NAME"],
        timezone=timezone, phone_region=config["PHONE_REGION"], language=submission.language,
        questionnaire_version=submission.questionnaire_version,
        rules=clinic.rules(submission.questionnaire), policy=clinic.policy(config),
        actions=staff_actions(submission), inputs=submission.inputs, generated_at=clinic.now(),
    )
    if submission.questionnaire != FOLLOWUP.key or submission.patient_id is None:
        return summary
    patient = db.session.get(Patient, submission.patient_id)
    rows = course.course(patient)
    return replace(
        summary,
        course_chart=chart.course_chart(rows, [i.given_on for i in course.infusions_of(patient)]),
        course_table=tuple(
            (row.day.isoformat(),
             f"{'Follow-up' if row.follow_up else 'Intake'} {row.submission.reference}"
             + (" (baseline)" if row.baseline else ""),
             *("—" if value is None else str(value) for value in
               (row.nrs_avg_week, None if row.peg is None else f"{row.peg:.1f}", row.phq9)))
            for row in rows))


def submission_pdf(submission: Submission, config: Mapping[str, Any]) -> bytes:
    """The physician PDF of a stored submission, with the score it was given."""
    return render_pdf(submission_summary(submission, config), font_dir(config))
