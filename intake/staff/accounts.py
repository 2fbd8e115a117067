"""Staff accounts (admin): list, create, deactivate, reactivate, reset, unlock; the audit
log; the CLI."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, abort, flash, redirect, render_template, request, url_for
from flask.cli import with_appcontext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from intake import audit
from intake.models import MAX_ID, AuditEvent, StaffUser, begin_write, db
from intake.staff.access import ROLES, bp, roles_required, user_by_email
from intake.staff.auth import hash_password, new_setup_token, no_accounts
from intake.staff.passwords import NewPassword, password_problem

AUDIT_PAGE = 100
#: An account in a URL: a number a row id can be, else 404 (never an overflow).
ACCOUNT = f"/users/<int(min=1, max={MAX_ID}):user_id>"


class RolesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NewUserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    roles = RolesField("Roles", choices=[SelectChoice(r) for r in ROLES],
                       validators=[DataRequired()])
    password = PasswordField("Temporary password (they choose a new one at first sign-in)",
                             validators=[DataRequired(), NewPassword()])

    def password_owner(self) -> str:
        return self.email.data or ""


class ResetForm(FlaskForm):
    password = PasswordField("Temporary password", validators=[DataRequired(), NewPassword()])

    def __init__(self, account: StaffUser | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.account = account

    def password_owner(self) -> str:
        return self.account.email if self.account else ""


class ActionForm(FlaskForm):
    """A button that changes an account: CSRF only."""


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField("Action", validators=[Optional(), Length(max=48)])
    actor = StringField("Who", validators=[Optional(), Length(max=254)])
    outcome = SelectField("Outcome", validators=[Optional()], choices=[
        SelectChoice("", "any"), *(SelectChoice(o) for o in ("ok", "failure", "denied", "locked"))])
    #: The page's "Older events" link: events before this id.
    before = IntegerField("Before event", validators=[Optional(), NumberRange(1, MAX_ID)])


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    form = NewUserForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if user_by_email(email):
            form.email.errors = ["An account with this email exists."]
        else:
            begin_write()
            db.session.add(StaffUser(email=email, roles=form.roles.data,
                                     password_hash=hash_password(form.password.data),
                                     must_change_password=True))
            audit.record("user_create", email, detail={"roles": form.roles.data})
            db.session.commit()
            flash(f"Account {email} created.", "success")
            return redirect(url_for("staff.users"))
    accounts = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return render_template("staff/users.html", form=form, accounts=accounts,
                           reset=ResetForm(), action=ActionForm())


def _change(user_id: int, action: str, change: Callable[[StaffUser], str | None]) -> None:
    """Change one account under the write lock; `change` may refuse, saying why.

    Every active account is locked first, in one order: the last-admin rule reads them
    all, so two admins deactivating each other at once on PostgreSQL take turns.
    """
    begin_write()
    db.session.scalars(select(StaffUser).where(StaffUser.active).order_by(StaffUser.id)
                       .with_for_update()).all()
    user = db.session.get(StaffUser, user_id, with_for_update=True)
    if user is None:
        abort(404)
    refusal = change(user)
    if refusal:
        audit.record(action, user.email, outcome="denied", detail={"reason": refusal})
        db.session.commit()
        flash(refusal, "error")
        return
    audit.record(action, user.email)
    db.session.commit()
    flash(f"{user.email}: {action.replace('user_', '').replace('_', ' ')} done.", "success")


def active_admins() -> list[StaffUser]:
    accounts = db.session.scalars(select(StaffUser).where(StaffUser.active))
    return [account for account in accounts if account.has_role("admin")]


def switch_off(user: StaffUser) -> str | None:
    """Deactivate an account, unless that would leave nobody to manage accounts."""
    if user.active and active_admins() == [user]:
        return (f"{user.email} is the last active administrator: without one, nobody could "
                "manage accounts or reactivate anyone. Create another administrator account "
                "first.")
    if user.id == current_user.id:
        return ("You cannot deactivate your own account, as you could not undo it. Ask "
                "another administrator to do it.")
    user.active = False
    user.session_version += 1
    return None


def switch_on(user: StaffUser) -> None:
    """Let a deactivated account sign in again (its sessions from before stay ended)."""
    user.active = True


@bp.post(f"{ACCOUNT}/deactivate")
@roles_required("admin")
def deactivate(user_id: int):
    if ActionForm().validate_on_submit():
        _change(user_id, "user_deactivate", switch_off)
    return redirect(url_for("staff.users"))


@bp.post(f"{ACCOUNT}/reactivate")
@roles_required("admin")
def reactivate(user_id: int):
    if ActionForm().validate_on_submit():
        _change(user_id, "user_reactivate", switch_on)
    return redirect(url_for("staff.users"))


@bp.post(f"{ACCOUNT}/unlock")
@roles_required("admin")
def unlock(user_id: int):
    if ActionForm().validate_on_submit():
        def clear(user: StaffUser) -> None:
            user.locked_until, user.failed_logins = None, []
        _change(user_id, "user_unlock", clear)
    return redirect(url_for("staff.users"))


@bp.post(f"{ACCOUNT}/reset")
@roles_required("admin")
def reset(user_id: int):
    account = db.session.get(StaffUser, user_id)
    if account is None:
        abort(404)
    form = ResetForm(account)
    if form.validate_on_submit():
        def new_password(user: StaffUser) -> None:
            user.password_hash = hash_password(form.password.data)
            user.must_change_password = True
            user.session_version += 1
        _change(user_id, "user_password_reset", new_password)
    else:
        flash(f"The password of {account.email} is unchanged. "
              + (" ".join(form.password.errors) or "The new one was not accepted."), "error")
    return redirect(url_for("staff.users"))


@bp.get("/audit")
@roles_required("admin")
def audit_log():
    form = AuditFilterForm(request.args)
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    code = 200
    if form.validate():
        if form.action.data:
            query = query.where(AuditEvent.action == form.action.data)
        if form.actor.data:
            query = query.where(AuditEvent.actor == form.actor.data)
        if form.outcome.data:
            query = query.where(AuditEvent.outcome == form.outcome.data)
        if form.before.data:
            query = query.where(AuditEvent.id < form.before.data)
    else:
        code = 400
        flash("The filter was not used, so the newest events are shown. " + " ".join(
            f"{form[name].label.text}: {errors[0]}" for name, errors in form.errors.items()),
            "error")
    rows = db.session.scalars(query.limit(AUDIT_PAGE)).all()
    audit.log("audit_view", outcome="ok" if code == 200 else "invalid")
    return render_template("staff/audit.html", form=form, rows=rows,
                           more=len(rows) == AUDIT_PAGE), code


@click.command("create-user")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(email: str, roles: tuple[str, ...], password_stdin: bool) -> None:
    """Create a staff account (roles are not hierarchical: give each one it needs)."""
    email = email.strip().lower()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, email)
    if problem:
        raise click.ClickException(problem)
    if user_by_email(email):
        raise click.ClickException(f"An account with the email {email} exists.")
    begin_write()
    db.session.add(StaffUser(email=email, roles=sorted(set(roles)),
                             password_hash=hash_password(password)))
    audit.record("user_create", email, detail={"roles": sorted(set(roles))})
    db.session.commit()
    click.echo(f"Created {email} with roles {', '.join(sorted(set(roles)))}.")


@click.command("setup-link")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True)
@with_appcontext
def setup_link_command(base_url: str) -> None:
    """While no account exists, print a one-time link to create the first admin."""
    if not no_accounts():
        return
    token = new_setup_token()
    click.echo("No staff account exists yet. Create the first admin account here "
               "(the link works once):")
    click.echo(f"  {base_url.rstrip('/')}/staff/setup/{token}")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(setup_link_command)
