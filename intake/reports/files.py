"""Exports asked for on the staff page, written to files by a job: where they are kept,
what they are named, their progress, who may download them and how long they stay.
The command-line export still streams to its file (intake/reports/commands.py)."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

from flask import current_app
from huey import crontab
from sqlalchemy import func, select

from intake import audit, clinic, jobs, upkeep
from intake.models import Job, begin_write, db
from intake.reports.export import DATASETS, FORMATS, SUBMISSIONS, Export, ExportFilter

EXPORT = "export"
#: How often a running export writes its progress to its row.
PROGRESS_EVERY = 0.5


def private_file(path: Path) -> int:
    """Open a file for writing, readable by its owner only (0600) even if it existed."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    return descriptor


def folder() -> Path:
    """EXPORT_DIR, else instance/exports; only its owner may open it."""
    path = Path(current_app.config["EXPORT_DIR"] or Path(current_app.instance_path, "exports"))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def path_of(job: Job) -> Path:
    """Named by the job and its day, never by a patient."""
    extension = FORMATS[job.params["format"]].extension
    return folder() / f"export-{job.id}-{clinic.day_of(job.created_at):%Y%m%d}{extension}"


def selection(job: Job) -> ExportFilter:
    params = job.params
    return ExportFilter(*(dt.date.fromisoformat(params[key]) if params[key] else None
                          for key in ("since", "until")),
                        params["status"], params["questionnaire"],
                        params.get("dataset", SUBMISSIONS))  # asked for before the course


def title(job: Job) -> str:
    """What the export is, as its pages name it: the format, and the course when it is."""
    chosen, words = selection(job), FORMATS[job.params["format"]].label.split(":")[0]
    return f"{DATASETS[chosen.dataset].split(':')[0]}, {words}" if chosen.course else words


def download_name(job: Job) -> str:
    """The name the browser saves it under (Format.filename): never a patient's."""
    return FORMATS[job.params["format"]].filename(clinic.day_of(job.created_at), selection(job))


def request_export(owner_id: int, export_format: str, chosen: ExportFilter) -> Job:
    """Record an export job in this transaction (audited); it is queued on commit."""
    begin_write()  # the audit row's lock first, so the job is queued with its request
    job = Job(kind=EXPORT, owner_id=owner_id, created_at=clinic.now(), params={
        "format": export_format, "since": chosen.since and chosen.since.isoformat(),
        "until": chosen.until and chosen.until.isoformat(), "status": chosen.status,
        "questionnaire": chosen.questionnaire, "dataset": chosen.dataset})
    jobs.submit(job)
    audit.record("export_request", f"job:{job.id}",
                 detail={"format": export_format, "filter": chosen.described()})
    return job


def retry(job: Job) -> None:
    """A failed export asked for again, in this transaction (audited)."""
    begin_write()
    job.state, job.error, job.done, job.finished_at = "queued", None, 0, None
    db.session.info.setdefault("jobs", []).append(job.id)
    audit.record("export_retry", f"job:{job.id}")


def run_export(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    """Write the export to its file (0600) as the download would have streamed it; the
    completion is the export's own audit row. A run again after a kill starts over."""
    chosen = selection(job)
    export = Export(job.params["format"], chosen, current_app.config, via=f"job {job.id}")
    total = db.session.scalar(select(func.count()).select_from(
        chosen.query(export.zone).order_by(None).subquery()))
    progress(0, total)
    path = path_of(job)
    partial = path.with_name(path.name + ".part")
    told = time.monotonic()
    with os.fdopen(private_file(partial), "wb") as out:
        for chunk in export.chunks():
            out.write(chunk)
            if time.monotonic() - told > PROGRESS_EVERY:
                progress(export.rows, total)
                told = time.monotonic()
    partial.replace(path)
    progress(export.rows, total)
    return {"file": path.name, "rows": export.rows, "bytes": path.stat().st_size}


jobs.KINDS[EXPORT] = run_export


def size_words(size: int) -> str:
    """A file's size as a person reads it: "840 KB", "12.5 MB"."""
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{max(1, round(size / 2**10))} KB"


def expires_at(job: Job) -> dt.datetime | None:
    if job.finished_at is None:
        return None
    return job.finished_at + dt.timedelta(hours=current_app.config["EXPORT_RETENTION_HOURS"])


def delete_expired() -> int:
    """Delete the exports past EXPORT_RETENTION_HOURS, each audited; the page says so."""
    hours = current_app.config["EXPORT_RETENTION_HOURS"]
    cutoff = clinic.now() - dt.timedelta(hours=hours)
    expired = db.session.scalars(select(Job).where(
        Job.kind == EXPORT, Job.state.in_(("done", "failed")), Job.finished_at <= cutoff)).all()
    for job in expired:
        path_of(job).unlink(missing_ok=True)
        path_of(job).with_name(path_of(job).name + ".part").unlink(missing_ok=True)
        job.state = "expired"
        audit.record("export_delete", f"job:{job.id}", who=upkeep.SCHEDULE,
                     detail={"after_hours": hours})
    db.session.commit()
    return len(expired)


delete_expired_exports = jobs.huey.periodic_task(crontab(minute="*/5"))(
    jobs.in_app(delete_expired))
