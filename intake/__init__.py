"""The intake application: create_app() wires configuration, extensions and blueprints."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, current_app, render_template, request, session
from flask_babel import get_locale
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from intake import audit, bench, invitations, jobs, models, patient, settings, staff
from intake.extensions import babel, csrf, limiter, talisman
from intake.patient import stop
from intake.reports import commands

ROOT = settings.ROOT

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def select_locale() -> str:
    """Staff pages are in English; a patient gets their choice, else their browser's."""
    if request.blueprint == "staff":
        return "en"
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def refuse_debug_in_production(app: Flask) -> None:
    """Debug mode shows code and data to whoever triggers an error: development only.

    A site that forces HTTPS is a production site (the README's settings), so debug
    mode there, whether from FLASK_DEBUG, ``--debug`` or a setting, stops the start-up.
    """
    if app.debug and app.config["FORCE_HTTPS"]:
        raise settings.SettingsError("Debug mode is for development only: it is refused "
                                     "with FORCE_HTTPS. Unset FLASK_DEBUG and DEBUG.")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=settings.instance_path(),
        template_folder=settings.shipped("templates"),
        static_folder=settings.shipped("static"),
    )
    settings.load(app.config, app.instance_path, test_config)
    refuse_debug_in_production(app)
    settings.check_catalogs(Path(app.root_path, app.config["BABEL_TRANSLATION_DIRECTORIES"]),
                            app.config["LANGUAGES"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = models.read_secret_key(app)

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["get_locale"] = get_locale
    models.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=True,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="no-referrer",
        frame_options="DENY",
    )
    logging.basicConfig(level=logging.INFO)

    app.register_blueprint(patient.bp)
    app.register_blueprint(stop.bp)
    app.cli.add_command(invitations.invitations_command)
    staff.init_app(app)
    commands.init_app(app)
    audit.init_app(app)
    jobs.init_app(app)
    if app.config["BENCHMARK_ROUTES"]:  # bare baselines for `make bench`; never in production
        bench.init_app(app)

    @app.after_request
    def no_store(response):
        """Pages carry patient data: never cached by a browser or a proxy."""
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/healthz")
    def healthz():
        models.db.session.execute(text("SELECT 1"))
        return {"status": "ok"}

    if app.config["PROXY_FIX_X_FOR"] or app.config["PROXY_FIX_X_PROTO"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"],
                                x_proto=app.config["PROXY_FIX_X_PROTO"])
    for code in (400, 403, 404, 405, 413, 429, 503):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(500, _server_error)
    app.register_error_handler(OperationalError, _database_error)
    return app


def error_template() -> str:
    """Staff see errors in the staff layout (unknown /staff addresses too), patients in theirs."""
    staff_address = request.blueprint == "staff" or request.path.startswith("/staff/")
    return "staff/error.html" if staff_address else "error.html"


def _error_page(error: Any):
    code = getattr(error, "code", 500) or 500
    if isinstance(error, SecurityError):  # a Host this site does not answer to: no links
        return "Bad request: unknown host.", 400, {"Content-Type": "text/plain"}
    return render_template(error_template(), code=code), code


def _server_error(error: Any):
    """Say nothing internal: an error id the logs can be searched by."""
    error_id = uuid.uuid4().hex[:12]
    current_app.logger.error("Unhandled error %s on %s %s", error_id, request.method,
                             request.endpoint, exc_info=getattr(error, "original_exception", None))
    return render_template(error_template(), code=500, error_id=error_id), 500


def _database_error(error: OperationalError):
    """A database that is busy (or gone) is a message to try again, not a crash."""
    models.db.session.rollback()
    current_app.logger.warning("Database unavailable on %s %s: %s", request.method,
                               request.endpoint, error.orig)
    response = current_app.make_response((render_template(error_template(), code=503), 503))
    response.headers["Retry-After"] = "5"
    return response
