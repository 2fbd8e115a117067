"""Who may open a staff page: the blueprint, its roles, and the server-side session rules.

Every route states its roles, or is explicitly public (deny by default).

Sessions end on the server: 15 minutes idle, 12 hours in all, and at once on logout,
password change or deactivation (the login id carries a session version).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from intake import audit, clinic
from intake.extensions import login_manager
from intake.models import StaffUser, db

bp = Blueprint("staff", __name__, url_prefix="/staff")
ROLES = ("staff", "physician", "admin")
#: The pages an account may start on, first choice first, and what a link back calls them.
HOME_PAGES = (("staff.worklist", "the worklist"), ("staff.users", "the accounts"))


def roles_required(*roles: str) -> Callable:
    """Allow a view to signed-in users holding any of these roles (roles are not ranked)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _unauthenticated()
            if not current_user.has_role(*roles):
                audit.log("denied", request.path, outcome="denied")
                abort(403)
            return view(*args, **kwargs)

        guarded.roles = roles
        return guarded

    return decorate


def public(view: Callable) -> Callable:
    """Mark a staff view as open to anyone (the sign-in and set-up pages)."""
    view.public = True
    return view


def _unauthenticated() -> Any:
    if request.accept_mimetypes.accept_html and request.method == "GET":
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    abort(401)


@login_manager.user_loader
def load_user(login_id: str) -> StaffUser | None:
    """The user of this session, if the session's version is still the current one."""
    user_id, _, version = login_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@bp.before_request
def staff_session() -> Any:
    """Deny by default; end revoked, idle and too-old sessions on the server."""
    view = current_app.view_functions.get(request.endpoint)
    if view is None or not (getattr(view, "roles", None) or getattr(view, "public", False)):
        abort(403)
    if "_user_id" in session and not current_user.is_authenticated:
        session.clear()
        return signed_out("revoked", status=401)
    if not current_user.is_authenticated:
        return None
    moment = clinic.now().timestamp()
    config = current_app.config
    idle = moment - session.get("staff_seen", moment)
    age = moment - session.get("staff_since", moment)
    if idle > config["STAFF_IDLE_TIMEOUT"].total_seconds():
        return end_session("idle")
    if age > config["STAFF_ABSOLUTE_TIMEOUT"].total_seconds():
        return end_session("absolute")
    session["staff_seen"] = moment
    if current_user.must_change_password and request.endpoint not in (
        "staff.password", "staff.logout", "static",
    ):
        return redirect(url_for("staff.password"))
    return None


def end_session(reason: str) -> Any:
    """Time a session out: logged, the user signed out, a friendly page."""
    audit.log("timeout", detail={"reason": reason})
    logout_user()
    session.clear()
    return signed_out(reason, status=401)


def signed_out(reason: str, status: int = 200) -> Any:
    return render_template("staff/signed_out.html", reason=reason), status


@bp.app_context_processor
def staff_helpers() -> dict[str, Any]:
    return {"idle_minutes": int(current_app.config["STAFF_IDLE_TIMEOUT"].total_seconds() // 60),
            "home": lambda: home(current_user)}


def may_open(user: Any, endpoint: str) -> bool:
    """Whether this account holds a role the page asks for."""
    roles = getattr(current_app.view_functions.get(endpoint), "roles", None)
    return roles is None or (user.is_authenticated and user.has_role(*roles))


def home(user: Any) -> tuple[str, str]:
    """The first page this account may open, and the words naming it (anyone signed out
    is sent to the worklist, which asks them to sign in)."""
    endpoint, name = next(((endpoint, name) for endpoint, name in HOME_PAGES
                           if not user.is_authenticated or may_open(user, endpoint)),
                          HOME_PAGES[0])
    return url_for(endpoint), name


def landing(user: Any, target: str | None) -> str:
    """Where a sign-in leads: the page asked for, if this account may open it; else its home."""
    path = urlsplit(target or "").path
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(path)
    except HTTPException:
        return home(user)[0]
    return target if may_open(user, endpoint) else home(user)[0]


def user_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
