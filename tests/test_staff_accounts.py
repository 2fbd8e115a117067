"""Deactivating and reactivating staff accounts: someone can always manage accounts."""

from __future__ import annotations

import html
import threading

import pytest
from helpers import add_staff, csrf_token, sign_in
from sqlalchemy import select

from intake.models import AuditEvent, StaffUser, db
from intake.staff import accounts

LAST_ADMIN = "is the last active administrator: without one, nobody could manage accounts"
OWN_ACCOUNT = "You cannot deactivate your own account, as you could not undo it."


def account(app, email: str) -> StaffUser:
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        db.session.expunge(user)
        return user


def post_action(client, email_or_id, action: str):
    """Press an account's button on the accounts page; return the page it leads back to."""
    page = client.get("/staff/users").get_data(as_text=True)
    response = client.post(f"/staff/users/{email_or_id}/{action}",
                           data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.location == "/staff/users"
    return html.unescape(client.get(response.location).get_data(as_text=True))


def audit_rows(app, action: str) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        return [(row.actor, row.object, row.outcome) for row in rows]


def test_the_last_active_admin_cannot_be_deactivated(app, staff_client):
    admin = staff_client("admin")
    own = account(app, admin.email)
    page = post_action(admin, own.id, "deactivate")
    assert f"{admin.email} {LAST_ADMIN}" in page
    assert account(app, admin.email).active
    assert admin.get("/staff/users").status_code == 200
    assert audit_rows(app, "user_deactivate") == [(admin.email, admin.email, "denied")]


def test_an_admin_cannot_deactivate_their_own_account(app, staff_client):
    admin, other = staff_client("admin"), staff_client("admin")
    page = html.unescape(admin.get("/staff/users").get_data(as_text=True))
    own = account(app, admin.email)
    assert f"/staff/users/{own.id}/deactivate" not in page
    assert "Your own account: another administrator can deactivate it." in page
    assert f"/staff/users/{account(app, other.email).id}/deactivate" in page
    assert OWN_ACCOUNT in post_action(admin, own.id, "deactivate")
    assert account(app, admin.email).active
    assert audit_rows(app, "user_deactivate") == [(admin.email, admin.email, "denied")]


def test_two_admins_deactivating_each_other_at_once_leave_one(app, staff_client, monkeypatch):
    first, second = staff_client("admin"), staff_client("admin")
    tokens = {client: csrf_token(client.get("/staff/users").get_data(as_text=True))
              for client in (first, second)}
    # Both requests are past the role check before either takes the write lock.
    together = threading.Barrier(2)
    write = accounts.begin_write
    monkeypatch.setattr(accounts, "begin_write", lambda: (together.wait(5), write()))

    def deactivate(client, other):
        client.post(f"/staff/users/{account(app, other.email).id}/deactivate",
                    data={"csrf_token": tokens[client]})

    threads = [threading.Thread(target=deactivate, args=pair)
               for pair in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    still_active = [client.email for client in (first, second)
                    if account(app, client.email).active]
    assert len(still_active) == 1
    assert sorted(outcome for *_, outcome in audit_rows(app, "user_deactivate")) == [
        "denied", "ok"]


def test_an_admin_reactivates_an_account_and_its_old_sessions_stay_ended(app, staff_client):
    admin, user = staff_client("admin"), staff_client("staff")
    user_id = account(app, user.email).id
    with user.session_transaction() as session:
        copied = dict(session)
    assert f"{user.email}: deactivate done." in post_action(admin, user_id, "deactivate")
    page = admin.get("/staff/users").get_data(as_text=True)
    assert f'action="/staff/users/{user_id}/reactivate"' in page
    assert f"{user.email}: reactivate done." in post_action(admin, user_id, "reactivate")
    assert account(app, user.email).active
    with user.session_transaction() as session:
        session.update(copied)
    assert user.get("/staff/").status_code == 401
    assert sign_in(app.test_client(), user.email).status_code == 302
    assert audit_rows(app, "user_reactivate") == [(admin.email, user.email, "ok")]


def test_reactivation_needs_the_forms_csrf_token(app, staff_client):
    admin = staff_client("admin")
    email = add_staff(app, "staff", active=False)
    response = admin.post(f"/staff/users/{account(app, email).id}/reactivate")
    assert response.status_code == 400
    assert not account(app, email).active
    assert admin.get(f"/staff/users/{account(app, email).id}/reactivate").status_code == 405


@pytest.mark.parametrize("user_id", [0, 99, 2**31, 2**63, 10**30])
def test_reactivating_an_account_number_no_row_can_have_is_not_found(staff_client, user_id):
    admin = staff_client("admin")
    token = csrf_token(admin.get("/staff/users").get_data(as_text=True))
    response = admin.post(f"/staff/users/{user_id}/reactivate", data={"csrf_token": token})
    assert response.status_code == 404
