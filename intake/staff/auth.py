"""Signing in and out, the first-account set-up link, and changing one's password."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from intake import audit, clinic
from intake.extensions import limiter
from intake.models import StaffUser, begin_write, db, utcnow
from intake.staff.access import bp, home, landing, public, roles_required, user_by_email
from intake.staff.passwords import NewPassword

#: argon2id at OWASP's minimum parameters (19 MiB, 2 passes, 1 lane).
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
GENERIC_FAILURE = ("That email and password do not match an account that can sign in. "
                   "Check them and try again, or ask an administrator.")
#: Who a failed sign-in names when the email is no account's: never what was typed.
UNKNOWN_ACCOUNT = "unknown account"


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


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class SetupForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), NewPassword()])
    confirm = PasswordField("Password again", validators=[EqualTo("password")])

    def password_owner(self) -> str:
        return self.email.data or ""


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=128)])
    password = PasswordField("New password", validators=[DataRequired(), NewPassword()])
    confirm = PasswordField("New password again",
                            validators=[EqualTo("password", "The passwords differ.")])

    def password_owner(self) -> str:
        return current_user.email


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
    """Only ever a page of this site: a path from its root, with nothing a browser drops or
    turns into a slash (tab, CR, LF, backslash) and nothing a header cannot carry."""
    if (target and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and target.isprintable()):
        return target
    return url_for("staff.worklist")


def start_session(user: StaffUser) -> None:
    """A new session at sign-in: nothing from before it survives."""
    session.clear()
    login_user(user)
    session["staff_since"] = session["staff_seen"] = clinic.now().timestamp()


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
            return redirect(landing(user, safe_next(request.args.get("next"))))
        if user is not None and not locked:
            user.failed_logins = [*_recent_failures(user, moment), moment.isoformat()]
            if len(user.failed_logins) >= current_app.config["LOCKOUT_FAILURES"]:
                user.locked_until = moment + current_app.config["LOCKOUT_DURATION"]
                audit.record("lockout", user.email, outcome="locked", who=user.email)
        if user is None:
            audit.record("login_failure", outcome="failure", who=UNKNOWN_ACCOUNT,
                         detail={"locked": False, "typed_hmac": audit.fingerprint(form.email.data)})
        else:
            audit.record("login_failure", outcome="failure", who=user.email,
                         detail={"locked": bool(locked)})
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
        elif form.password.data == form.current.data:
            form.password.errors = [
                "This is the password you have now. Choose a new one that only you know."]
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
            return redirect(home(user)[0])
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
