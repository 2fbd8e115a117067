"""The audit chain: one row per event, and every kind of tampering found."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import add_staff, sign_in
from sqlalchemy import delete, select, text, update

from intake import audit
from intake.models import AuditEvent, db


def append(app, count: int) -> None:
    with app.app_context():
        for n in range(count):
            audit.log("test_event", f"object-{n}", detail={"n": n})


def verify(runner) -> tuple[int, str]:
    result = runner.invoke(args=["verify-audit"])
    return result.exit_code, result.output


def test_an_untouched_chain_verifies(app, runner):
    append(app, 5)
    assert verify(runner) == (0, "5 rows verified\n")


def test_each_sign_in_writes_exactly_one_row(app, client):
    email = add_staff(app, "staff")
    sign_in(client, email)
    sign_in(app.test_client(), email, "a wrong but long password")
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions.count("login") == 1 and actions.count("login_failure") == 1


def test_an_edited_row_is_found(app, runner):
    append(app, 5)
    with app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.id == 3)
                           .values(object="something else"))
        db.session.commit()
    code, message = verify(runner)
    assert code == 1 and "row 3" in message


def test_a_deleted_row_is_found(app, runner):
    append(app, 5)
    with app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == 2))
        db.session.commit()
    code, message = verify(runner)
    assert code == 1 and "row 3" in message


def test_reordered_rows_are_found(app, runner):
    append(app, 5)
    with app.app_context():
        rows = {r.id: r for r in db.session.scalars(select(AuditEvent))}
        a, b = rows[2], rows[4]
        swapped = {k: getattr(b, k) for k in ("object", "detail", "hmac", "at")}
        for key in swapped:
            setattr(b, key, getattr(a, key))
            setattr(a, key, swapped[key])
        db.session.commit()
    code, message = verify(runner)
    assert code == 1 and "row 2" in message


def test_removing_the_newest_rows_is_found(app, runner):
    append(app, 5)
    with app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id >= 4))
        db.session.commit()
    code, message = verify(runner)
    assert code == 1 and "removed from the end" in message


def test_rows_hold_no_answer_text(app, patient_client, clock, staff_client):
    from conftest import CASES, load_case

    clock("2025-06-01")
    patient_client.walk(load_case(CASES[0])["answers"])
    staff_client("physician").get("/staff/")
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM audit_event")).all()
    dump = repr(rows)
    for private in ("Maria", "Alvarez", "1980-03-15", "gabapentin", "+13055550100"):
        assert private not in dump


def test_two_processes_appending_at_once_keep_one_chain(app, runner, tmp_path):
    """Two workers write 40 rows each at the same moment; the chain still verifies."""
    script = textwrap.dedent(f"""
        import sys
        from intake import audit, create_app
        app = create_app({{
            "SECRET_KEY": "k", "AUDIT_KEY": "test-audit-key",
            "AUDIT_HEAD_FILE": {str(app.config['AUDIT_HEAD_FILE'])!r},
            "SQLALCHEMY_DATABASE_URI": {app.config['SQLALCHEMY_DATABASE_URI']!r},
        }})
        with app.app_context():
            for n in range(40):
                audit.log("worker_" + sys.argv[1], str(n))
    """)
    workers = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    code, message = verify(runner)
    assert (code, message) == (0, "80 rows verified\n")
