"""The course export (followup.md §6): one row per patient per submission, intakes and
follow-ups together, read from each patient's course as the patient page's table reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import groupby
from zoneinfo import ZoneInfo

from intake import clinic, course
from intake.course import Patient
from intake.models import Submission, db
from intake.questionnaire import INTAKE
from intake.reports import item_text
from intake.reports.columns import (
    INDICATOR_NAMES,
    PATIENT_KEY,
    REFERENCE,
    ROUTING,
    STATUS,
    Column,
    Record,
    outcome_column,
    patient_key,
    record_of,
    total_column,
)
from intake.scoring.followup import FOLLOWUP_RULES

#: The export's name among the datasets, its xlsx sheet's and its download's.
COURSE = "course"
AVERAGE_PAIN = INTAKE.items["nrs_avg_week"]

COLUMNS = (
    PATIENT_KEY,
    REFERENCE,
    Column("questionnaire", "text", "The questionnaire answered (" + " or ".join(clinic.RULES)
           + ")", lambda record: record.submission.questionnaire),
    Column("submitted_on", "date", "The day it was sent, on the clinic's calendar "
           "(YYYY-MM-DD)", lambda record: record.course.day.isoformat()),
    Column("baseline", "yn", "yes for the intake the follow-ups' outcomes are measured "
           "against, else no", lambda record: "yes" if record.course.baseline else "no"),
    outcome_column(FOLLOWUP_RULES, "days_since_infusion"),
    Column(AVERAGE_PAIN.id, "integer", item_text(AVERAGE_PAIN),
           lambda record: record.course.nrs_avg_week),
    Column("peg", "number", f"{INDICATOR_NAMES['peg']}, one decimal; empty when an answer "
           "is missing", lambda record: record.course.peg),
    total_column("phq9", lambda record: record.course.phq9),
    ROUTING,
    STATUS,
)


def records(submissions: Iterable[Submission], zone: ZoneInfo) -> Iterator[Record]:
    """The course's row of each submission. The submissions come a patient's together (the
    export's query orders them so): each patient's course is read once."""
    for patient_id, theirs in groupby(submissions, key=patient_key):
        chosen = {submission.id for submission in theirs}
        for row in course.course(db.session.get(Patient, patient_id)):
            if row.submission.id in chosen:
                yield record_of(row.submission, zone, row)
