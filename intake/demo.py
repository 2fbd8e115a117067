"""Synthetic, clearly fictional submissions ("Demo Patient 00042") for demos and load tests.

Answers are drawn at random from the questionnaire definition and scored with the real
scorer. A thousand answer sets are scored once each; their dates (birth, onset, last
period) are kept relative to the submission date, so the same score holds for every
submission made from them, and 100 000 rows go in with bulk inserts in seconds.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from intake import questionnaire as q
from intake import scoring, workflow
from intake.models import (
    REFERENCE_ALPHABET,
    Submission,
    db,
    name_key,
    utcnow,
)
from intake.policy import Policy

FIRST_NAME = "Demo"
BATCH = 5000
TEMPLATES = 1000
SPREAD = dt.timedelta(days=60)
#: Items whose value is a date: set for each submission date from the template's offsets.
DATED = ("dob", "onset", "lmp")
#: Plausible ranges where an item allows far more than a patient would answer.
RANGES = {
    "height_cm": (150, 195), "weight_kg": (48, 115), "bp_systolic": (102, 152),
    "bp_diastolic": (62, 92), "prior_ketamine_weeks": (0, 26),
    "prior_ketamine_year": (2012, None), "sud_recovery_since": (1990, None),
}
#: Where the unremarkable answer is not "no" or an item's first choice.
USUAL = {"escort": "yes", "htn_controlled": "yes", "dast_3": "yes"}
#: Items a demo patient always answers, so most demos are not INCOMPLETE_SAFETY.
ALWAYS = frozenset(scoring.SAFETY_CORE) | {"dast_1", "sb_snore", "sb_tired", "sb_observed"}
TEXT = {
    "first_name": FIRST_NAME, "last_name": "Patient", "phone": "+13055550100",
    "email": "demo.patient@example.invalid",
    "inciting_event_other": "A fictional injury (demo data)",
    "other_dx_suggested": "None suggested (demo data)",
    "opioid_details": "Demo opioid 5 mg twice a day (fictional)",
    "referring_physician": "Dr. Demo Referrer, Fictional Practice",
    "insurance_provider": "Demo Insurance (fictional)",
    "comments": "This is synthetic demo data, not a real patient.",
    "allergies": "None known (demo data)",
    "medications_list": "Demo medicine A 10 mg daily\nDemo medicine B 25 mg at night",
}


@dataclass(frozen=True)
class Template:
    """Random answers whose dates are offsets from the submission date, and their score."""

    answers: dict[str, Any]
    age: int
    birthday: tuple[int, int]
    onset_months: int | None
    lmp_days: int | None
    score: dict[str, Any]
    #: The pages the answers show, all saved.
    pages: tuple[str, ...] = ()

    def dated(self, reference: dt.date) -> dict[str, Any]:
        """The date answers for a submission made on ``reference``; the score still holds."""
        month, day = self.birthday
        year = reference.year - self.age - ((month, day) > (reference.month, reference.day))
        dates = {"dob": dt.date(year, month, day).isoformat()}
        if self.onset_months is not None:
            months = reference.year * 12 + reference.month - 1 - self.onset_months
            dates["onset"] = f"{months // 12:04d}-{months % 12 + 1:02d}"
        if self.lmp_days is not None:
            dates["lmp"] = (reference - dt.timedelta(days=self.lmp_days)).isoformat()
        return dates


def _value(item: q.Item, rng: random.Random, reference: dt.date) -> Any:
    """A random valid answer, most often the unremarkable one."""
    kind = item.type
    if kind == "accept":
        return True
    if kind in ("yn", "ynu", "single"):
        usual = USUAL.get(item.id, "no" if kind != "single" else item.codes[0])
        return usual if rng.random() < 0.95 else rng.choice(item.codes)
    if kind == "multi":
        codes = [c for c in item.codes if c != "none"]
        if "none" in item.codes and rng.random() < 0.8:
            return ["none"]
        return rng.sample(codes, rng.randint(1, min(3, len(codes))))
    if kind == "scale0_10":
        return rng.randint(3, 10) if item.id.startswith(("nrs", "peg")) else rng.randint(0, 10)
    if kind == "scale0_3":
        if item.id == "phq9_9" and rng.random() < 0.95:
            return 0
        return rng.choices((0, 1, 2, 3), weights=(50, 30, 12, 8))[0]
    if kind == "number":
        low, high = RANGES.get(item.id, (item.minimum, None))
        high = high if high is not None else q.upper_bound(item, reference)
        if item.maximum == q.SUBMISSION_YEAR:
            high = min(high, reference.year - 1)
        return rng.randint(int(low), int(high))
    if kind in ("text", "text_multiline"):
        return TEXT.get(item.id, "Demo answer (fictional)")
    raise ValueError(f"no demo answer for {item.id} ({kind})")


def template(rng: random.Random, reference: dt.date, policy: Policy) -> Template:
    """One random patient, walked through the steps as the site would show them."""
    age, birthday = rng.randint(18, 84), (rng.randint(1, 12), rng.randint(1, 28))
    onset_months = rng.randint(3, 120) if rng.random() < 0.95 else None
    lmp_days = rng.randint(3, 60) if rng.random() < 0.7 else None
    dates = Template({}, age, birthday, onset_months, lmp_days, {}).dated(reference)
    answers: dict[str, Any] = {}
    for step in q.STEPS:
        for item in step.items:
            if item.system or not q.item_shown(q.INTAKE, item, answers | dates, reference,
                                               policy):
                continue
            if item.id in DATED:
                if item.id in dates:
                    answers[item.id] = dates[item.id]
            elif item.required or item.id in ALWAYS or item.instrument or rng.random() < 0.8:
                answers[item.id] = _value(item, rng, reference)
        if answers.get("phq9_9", 0) >= 1:
            answers["phq9_9_endorsed"] = answers["phq9_9"]
    answers = q.drop_hidden(q.INTAKE, answers, reference, policy)
    score = scoring.score(answers, reference, policy)
    pages = tuple(page.key for page in q.Journey(q.INTAKE, answers, reference, policy).pages)
    kept = {k: v for k, v in answers.items() if k not in DATED}
    return Template(kept, age, birthday, onset_months if "onset" in answers else None,
                    lmp_days if "lmp" in answers else None, score, pages)


def _rebased(score: dict[str, Any], dates: dict[str, str]) -> dict[str, Any]:
    """The template's score with its triggers quoting this submission's dates."""
    flags = [{**flag, "triggers": [
        {**t, "answer": dates[t["item"]]} if t["item"] in dates else t
        for t in flag["triggers"]]} for flag in score["flags"]]
    return {**score, "flags": flags}


def _references(count: int, rng: random.Random) -> Iterator[str]:
    taken = set(db.session.scalars(select(Submission.reference)))
    while count:
        chars = "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(9))
        reference = f"{chars[:3]}-{chars[3:6]}-{chars[6:]}"
        if reference not in taken:
            taken.add(reference)
            count -= 1
            yield reference


def rows(count: int, first_number: int, policy: Policy, zone: ZoneInfo,
         rng: random.Random) -> Iterator[dict[str, Any]]:
    """Column values for ``count`` new demo submissions, numbered from ``first_number``."""
    moment = utcnow()
    today = moment.astimezone(zone).date()
    templates = [template(rng, today, policy) for _ in range(min(count, TEMPLATES))]
    for offset, reference in enumerate(_references(count, rng)):
        number = first_number + offset
        chosen = templates[offset % len(templates)]
        submitted_at = moment - SPREAD * rng.random()
        dates = chosen.dated(submitted_at.astimezone(zone).date())
        last_name = f"Patient {number:05d}"
        answers = {**chosen.answers, **dates, "first_name": FIRST_NAME, "last_name": last_name,
                   "phone": f"+130555501{number % 100:02d}"}
        if "email" in answers:
            answers["email"] = f"demo.patient.{number:05d}@example.invalid"
        score = _rebased(chosen.score, dates)
        yield {
            "reference": reference, "draft_key": secrets.token_urlsafe(32), "status": "new",
            "language": "es" if rng.random() < 0.15 else "en",
            "questionnaire_version": q.QUESTIONNAIRE_VERSION, "answers": answers,
            "completed_steps": list(chosen.pages),
            "started_at": submitted_at - dt.timedelta(minutes=rng.randint(8, 90)),
            "updated_at": submitted_at, "submitted_at": submitted_at,
            "urgent": "phq9_9_endorsed" in answers, "resume_failures": 0, "score": score,
            "rules_version": score["rules_version"], "routing": score["routing"],
            "score_history": [], "is_demo": True,
            "queue_rank": workflow.ROUTING_RANK[score["routing"]],
            "first_name_key": name_key(FIRST_NAME), "last_name_key": name_key(last_name),
        }


def insert_demo(count: int, policy: Policy, zone: ZoneInfo,
                rng: random.Random) -> None:
    """Insert ``count`` demo submissions into the current transaction; the caller commits."""
    first = (db.session.scalar(select(func.count()).where(Submission.is_demo)) or 0) + 1
    batch: list[dict[str, Any]] = []
    for row in rows(count, first, policy, zone, rng):
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(insert(Submission), batch)
            batch = []
    if batch:
        db.session.execute(insert(Submission), batch)
