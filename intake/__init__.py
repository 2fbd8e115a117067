"""The intake application: create_app() wires configuration, extensions and blueprints."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request, session
from flask_babel import Babel, get_locale
from flask_mail import Mail
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text

from intake import models

ROOT = Path(__file__).resolve().parent.parent

csrf = CSRFProtect()
babel = Babel()
mail = Mail()
talisman = Talisman()

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def select_locale() -> str:
    """The patient's choice, else the browser's preference among our languages."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object("intake.config")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("INTAKE")
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = models.read_secret_key(app)

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["get_locale"] = get_locale
    models.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    mail.init_app(app)
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

    from intake import patient, reports

    app.register_blueprint(patient.bp)
    reports.init_app(app)

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

    for code in (400, 403, 404, 405, 413, 429, 500, 503):
        app.register_error_handler(code, _error_page)
    return app


def _error_page(error: Any):
    code = getattr(error, "code", 500) or 500
    return render_template("error.html", code=code), code
