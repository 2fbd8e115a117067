"""Zero loss under load: 16 patients, 50 submissions and a SIGKILL of gunicorn mid-load."""

from __future__ import annotations

import pytest
from helpers import service_missing
from support.loadrun import POSTGRESQL_URL, REDIS_URL, load_run, postgresql_answers, redis_answers

PATIENTS = 16
SUBMISSIONS = 50


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_every_acknowledged_submission_is_stored_once_across_a_sigkill(database):
    if not redis_answers():
        service_missing(f"Redis does not answer at {REDIS_URL}")
    if database == "postgresql" and not postgresql_answers(POSTGRESQL_URL):
        service_missing(f"PostgreSQL does not answer at {POSTGRESQL_URL}")
    outcome = load_run(database, PATIENTS, SUBMISSIONS, kill=True)
    assert outcome.errors == []
    assert outcome.acknowledged == outcome.sent == SUBMISSIONS
    assert outcome.lost == 0
    assert outcome.duplicated == 0
    assert outcome.stored == SUBMISSIONS
    assert outcome.integrity == ("ok" if database == "sqlite" else "n/a")
    # The kill came mid-load: some submissions were acknowledged before it and most after,
    # and requests in flight failed and were retried.
    assert 0 < outcome.acknowledged_at_kill < SUBMISSIONS / 2
    assert outcome.failed_requests > 0
