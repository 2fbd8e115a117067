"""Signing in and out, the first-account set-up link, and changing one's password."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from intake import audit, staff
from intake.extensions import limiter
from intake.models import StaffUser, begin_write, db, utcnow
from intake.staff import bp, public, roles_required, user_by_email

#: argon2id at OWASP's minimum parameters (19 MiB, 2 passes, 1 lane).
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
GENERIC_FAILURE = ("That email and password do not match an account that can sign in. "
                   "Check them and try again, or ask an administrator.")


def hash_password(password: str) -> str:
    return hasher.hash(password)


@cache
def _decoy_hash() -> str:
    """A hash to check against when the email is unknown, so both take as long."""
    return hasher.hash("not a password anyone has")


def password_matches(user: StaffUser | None, password: str) -> bool:
    try:
        return hasher.verify(user.password_hash if user else _decoy_hash(), password) \
            and user is not None
    except (VerifyMismatchError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and line[0] != "#")


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is refused, or None (length, and not a common one)."""
    config = current_app.config
    low, high = config["PASSWORD_MIN_LENGTH"], config["PASSWORD_MAX_LENGTH"]
    if not low <= len(password) <= high:
        return f"Use between {low} and {high} characters."
    lowered = password.lower()
    if lowered in common_passwords() or (email and lowered == email.lower()):
        return "That password is too common. Choose a longer, less predictable one."
    if len(set(password)) < 4:
        return "That password repeats too few characters. Choose a less predictable one."
    return None


class NewPassword:
    """A WTForms validator for a new password."""

    def __call__(self, form: FlaskForm, field: Any) -> None:
        email = form.email.data if hasattr(form, "email") else current_user.email
        problem = password_problem(field.data or "", email or "")
        if problem:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class SetupForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), NewPassword()])
    confirm = PasswordField("Password again", validators=[EqualTo("password")])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=128)])
    password = PasswordField("New password", validators=[DataRequired(), NewPassword()])
    confirm = PasswordField("New password again",
                            validators=[EqualTo("password", "The passwords differ.")])


def no_accounts() -> bool:
    return db.session.scalar(select(StaffUser.id).limit(1)) is None


def setup_token_file() -> Path:
    return Path(current_app.instance_path) / "setup_token"


def new_setup_token() -> str:
    """A one-time token for the set-up page, kept hashed in instance/ (mode 0600)."""
    token = secrets.token_urlsafe(32)
    path = setup_token_file()
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(hashlib.sha256(token.encode()).hexdigest())
    return token


def setup_token_matches(token: str) -> bool:
    path = setup_token_file()
    if not path.exists():
        return False
    expected = path.read_text().strip()
    return hmac.compare_digest(expected, hashlib.sha256(token.encode()).hexdigest())


def safe_next(target: str | None) -> str:
    """Only ever a page of this site: no scheme, no host, no backslash tricks."""
    if target:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/")
                and not target.startswith("//") and "\\" not in target):
            return target
    return url_for("staff.worklist")


def start_session(user: StaffUser) -> None:
    """A new session at sign-in: nothing from before it survives."""
    session.clear()
    login_user(user)
    session["staff_since"] = session["staff_seen"] = staff.now()


def _recent_failures(user: StaffUser, moment: dt.datetime) -> list[str]:
    window = current_app.config["LOCKOUT_WINDOW"]
    return [t for t in user.failed_logins if dt.datetime.fromisoformat(t) > moment - window]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = user_by_email(form.email.data)
        matches = password_matches(user, form.password.data)
        begin_write()
        if user is not None:
            user = db.session.get(StaffUser, user.id, with_for_update=True)
        moment = utcnow()
        locked = user is not None and user.locked_until and user.locked_until > moment
        if matches and user.active and not locked:
            user.failed_logins, user.locked_until = [], None
            start_session(user)
            audit.record("login", user.email, who=user.email)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        if user is not None and not locked:
            user.failed_logins = [*_recent_failures(user, moment), moment.isoformat()]
            if len(user.failed_logins) >= current_app.config["LOCKOUT_FAILURES"]:
                user.locked_until = moment + current_app.config["LOCKOUT_DURATION"]
                audit.record("lockout", user.email, outcome="locked", who=user.email)
        audit.record("login_failure", outcome="failure",
                     detail={"locked": bool(locked)}, who=form.email.data[:254])
        db.session.commit()
        flash(GENERIC_FAILURE, "error")
    return render_template("staff/login.html", form=form)


@bp.post("/logout")
@roles_required("staff", "physician", "admin")
def logout():
    """Sign out everywhere: the session version moves on, so copied cookies die too."""
    begin_write()
    user = db.session.get(StaffUser, current_user.id)
    user.session_version += 1
    audit.record("logout", user.email)
    db.session.commit()
    logout_user()
    session.clear()
    return render_template("staff/signed_out.html", reason="logout")


@bp.route("/password", methods=["GET", "POST"])
@roles_required("staff", "physician", "admin")
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not password_matches(current_user, form.current.data):
            form.current.errors = ["That is not your current password."]
        else:
            begin_write()
            user = db.session.get(StaffUser, current_user.id)
            user.password_hash = hash_password(form.password.data)
            user.must_change_password = False
            user.session_version += 1
            audit.record("password_change", user.email)
            db.session.commit()
            start_session(user)
            flash("Your password is changed. Other sessions are signed out.", "success")
            return redirect(url_for("staff.worklist"))
    return render_template("staff/password.html", form=form,
                           forced=current_user.must_change_password)


@bp.route("/setup/<token>", methods=["GET", "POST"])
@public
def setup(token: str):
    """Create the first admin account with the one-time link `make run` printed."""
    if not no_accounts() or not setup_token_matches(token):
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        begin_write()
        if not no_accounts():
            abort(404)
        user = StaffUser(email=form.email.data.strip().lower(),
                         password_hash=hash_password(form.password.data), roles=["admin"])
        db.session.add(user)
        audit.record("user_create", user.email, detail={"roles": ["admin"], "via": "setup"},
                     who=user.email)
        db.session.commit()
        setup_token_file().unlink(missing_ok=True)
        start_session(user)
        return redirect(url_for("staff.users"))
    return render_template("staff/setup.html", form=form)
