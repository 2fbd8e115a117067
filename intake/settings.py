"""Loading the settings once, at start-up: defaults, instance/config.py, then INTAKE_*.

Every value is checked against the type its default declares (intake/config.py), so a
wrong one stops the start-up with one line naming it, never a request. Durations may be
given in seconds (``INTAKE_STAFF_IDLE_TIMEOUT=900``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Config, Flask
from flask_limiter.constants import ConfigVars
from limits import parse as parse_limit

from intake import config as defaults

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
#: Run from a checkout (development, `pip install -e .`), not from an installed wheel.
CHECKOUT = (ROOT / "setup.cfg").is_file()
PREFIX = "INTAKE_"
#: INTAKE_* environment variables that choose where settings are, not settings.
NOT_SETTINGS = frozenset({"INSTANCE_PATH"})

#: The extensions' documented settings a clinic may set beside ours and Flask's.
EXTENSION_SETTINGS = frozenset({
    # Flask-WTF
    "WTF_CSRF_ENABLED", "WTF_CSRF_CHECK_DEFAULT", "WTF_CSRF_SECRET_KEY", "WTF_CSRF_METHODS",
    "WTF_CSRF_FIELD_NAME", "WTF_CSRF_HEADERS", "WTF_CSRF_TIME_LIMIT", "WTF_CSRF_SSL_STRICT",
    "WTF_I18N_ENABLED",
    # Flask-SQLAlchemy
    "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "SQLALCHEMY_ECHO",
    "SQLALCHEMY_BINDS", "SQLALCHEMY_RECORD_QUERIES", "SQLALCHEMY_TRACK_MODIFICATIONS",
    # Flask-Babel
    "BABEL_DEFAULT_LOCALE", "BABEL_DEFAULT_TIMEZONE", "BABEL_TRANSLATION_DIRECTORIES",
    "BABEL_DOMAIN",
    # Flask-Login
    "REMEMBER_COOKIE_NAME", "REMEMBER_COOKIE_DURATION", "REMEMBER_COOKIE_DOMAIN",
    "REMEMBER_COOKIE_PATH", "REMEMBER_COOKIE_SECURE", "REMEMBER_COOKIE_HTTPONLY",
    "REMEMBER_COOKIE_SAMESITE", "REMEMBER_COOKIE_REFRESH_EACH_REQUEST", "USE_SESSION_FOR_NEXT",
    "LOGIN_DISABLED",
}) | {value for name, value in vars(ConfigVars).items() if name.isupper()}  # Flask-Limiter

#: Settings that follow another unless a clinic sets them itself.
DERIVED: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    # The browser keeps the patient's cookie no longer than a patient session may idle,
    "PERMANENT_SESSION_LIFETIME": lambda c: c["PATIENT_IDLE_TIMEOUT"],
    # and the patient's CSRF token lives as long (expiry re-renders the page as posted).
    "WTF_CSRF_TIME_LIMIT": lambda c: int(c["PATIENT_IDLE_TIMEOUT"].total_seconds()),
}
DERIVED_TYPES = {"PERMANENT_SESSION_LIFETIME": dt.timedelta, "WTF_CSRF_TIME_LIMIT": int | None}


class SettingsError(SystemExit):
    """A setting that cannot work: the start-up stops with this one line."""


def instance_path() -> str:
    """INTAKE_INSTANCE_PATH, else the checkout's instance/ folder (installed: Flask's
    default, <prefix>/var/intake-instance)."""
    default = ROOT / "instance" if CHECKOUT else Path(sys.prefix) / "var" / "intake-instance"
    return os.environ.get(PREFIX + "INSTANCE_PATH") or str(default)


def shipped(folder: str) -> str:
    """A top-level folder of the checkout (templates, static, migrations), else the copy
    a wheel carries inside the package."""
    return str(ROOT / folder if CHECKOUT else PACKAGE / folder)


def check_catalogs(translations: Path, languages: tuple[str, ...]) -> None:
    """Every language but the first has a compiled catalog, in a checkout no older than
    its .po: without it Flask-Babel would show that language's pages in English, silently.
    (A wheel compiles its catalogs when it is built; installing sets no meaningful times.)"""
    for language in languages[1:]:
        po = translations / language / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if not mo.is_file():
            problem = "is missing"
        elif CHECKOUT and po.is_file() and mo.stat().st_mtime < po.stat().st_mtime:
            problem = "is older than its .po"
        else:
            continue
        raise SettingsError(f"The compiled catalog {mo} {problem}: compile it with "
                            f"`pybabel compile -d {translations}` (`make run` and `make test` "
                            f"do), or its {language} pages would be in English.")


def declared_types() -> dict[str, Any]:
    """Each default's type: its annotation, else the type of its value."""
    hints = typing.get_type_hints(defaults)
    names = [name for name in vars(defaults) if name.isupper()]
    return {name: hints.get(name, type(getattr(defaults, name))) for name in names}


def accepts_text(expected: Any) -> bool:
    return expected is str or (isinstance(expected, types.UnionType)
                                and str in typing.get_args(expected))


def known_names() -> frozenset[str]:
    return frozenset(declared_types()) | frozenset(Flask.default_config) | EXTENSION_SETTINGS


def read_overrides(instance: str, environ: Mapping[str, str]) -> tuple[Config, dict[str, str]]:
    """What the clinic set, and where each came from (for the message if it is wrong)."""
    overrides = Config(instance)
    sources: dict[str, str] = {}
    path = Path(instance) / "config.py"
    overrides.from_pyfile(str(path), silent=True)
    for name in overrides:
        sources[name] = f"{name} in {path}"
    known = known_names()
    for variable in sorted(environ):
        if not variable.startswith(PREFIX) or variable[len(PREFIX):] in NOT_SETTINGS:
            continue
        name = variable[len(PREFIX):].split("__")[0]
        if name not in known:
            raise SettingsError(f"Unknown setting {variable}: no setting is called {name} "
                                "(README, Configuration, lists them).")
        sources[name] = variable
    overrides.from_prefixed_env(PREFIX[:-1])
    for name in NOT_SETTINGS:
        overrides.pop(name, None)
    for name, expected in declared_types().items():  # a phone number stays text
        variable = PREFIX + name
        if variable in environ and accepts_text(expected) and overrides[name] is not None:
            overrides[name] = environ[variable]
    for name in overrides:
        if name not in known:
            raise SettingsError(f"Unknown setting {sources[name]}: no setting is called "
                                f"{name} (README, Configuration, lists them).")
    return overrides, sources


def load(config: Config, instance: str, test_config: Mapping[str, Any] | None,
         environ: Mapping[str, str] = os.environ) -> None:
    """Fill ``config`` and check it; a value that cannot work raises SettingsError."""
    config.from_object(defaults)
    if test_config is None:
        overrides, sources = read_overrides(instance, environ)
    else:
        overrides, sources = test_config, {name: name for name in test_config}
    config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = database_url(config, instance, environ)
    for name, expected in declared_types().items():
        config[name] = coerce(config[name], expected, sources.get(name, name))
    for name, follow in DERIVED.items():
        config[name] = (coerce(overrides[name], DERIVED_TYPES[name], sources[name])
                        if name in overrides else follow(config))
    check_values(config)


def database_url(config: Mapping[str, Any], instance: str, environ: Mapping[str, str]) -> str:
    """DATABASE_URL (contract.md) wins, also over a test's database, so the suite can run
    on PostgreSQL; then SQLALCHEMY_DATABASE_URI; else a SQLite file in the instance folder."""
    url = environ.get("DATABASE_URL") or config.get("SQLALCHEMY_DATABASE_URI")
    return url or f"sqlite:///{Path(instance) / 'intake.sqlite'}"


def check_values(config: Mapping[str, Any]) -> None:
    """Values a type cannot check: production's addresses, limits, networks."""
    base = config["PUBLIC_BASE_URL"]
    if base is not None and (urlsplit(base).scheme not in ("http", "https")
                             or not urlsplit(base).netloc):
        raise SettingsError(f"PUBLIC_BASE_URL expects the site's address, e.g. "
                            f"https://intake.clinic.example; got {base!r}.")
    if base is None and (config["MAIL_SERVER"] or config["FORCE_HTTPS"]):
        raise SettingsError("PUBLIC_BASE_URL is required with MAIL_SERVER or FORCE_HTTPS: "
                            "links in emails are built from it, never from a request's Host.")
    if config["FORCE_HTTPS"] and not config["TRUSTED_HOSTS"]:
        raise SettingsError("TRUSTED_HOSTS is required with FORCE_HTTPS: name the host names "
                            'this site answers to, e.g. ["intake.clinic.example"].')
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", config["FOLLOWUP_SEND_AT"]):
        raise SettingsError("FOLLOWUP_SEND_AT expects a clinic time such as \"09:00\"; got "
                            f"{config['FOLLOWUP_SEND_AT']!r}.")
    if any(days < 1 for days in config["FOLLOWUP_AFTER_DAYS"]):
        raise SettingsError("FOLLOWUP_AFTER_DAYS expects whole numbers of days of 1 or more, "
                            f"e.g. [7, 28]; got {config['FOLLOWUP_AFTER_DAYS']!r}.")
    for name in ("LOGIN_RATE_LIMIT", "NEW_DRAFT_LIMIT"):
        try:
            parse_limit(config[name])
        except ValueError:
            raise SettingsError(f"{name} expects a limit such as \"10 per hour\"; got "
                                f"{config[name]!r}.") from None
    for network in config["NEW_DRAFT_LIMIT_EXEMPT"]:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise SettingsError("NEW_DRAFT_LIMIT_EXEMPT expects networks such as "
                                f'"192.0.2.0/24"; got {network!r}.') from None


def coerce(value: Any, expected: Any, source: str) -> Any:
    """``value`` as ``expected`` (a type or an annotation), or SettingsError naming it."""
    options = typing.get_args(expected) if isinstance(expected, types.UnionType) else (expected,)
    if value is None and type(None) in options:
        return None
    for option in options:
        converted = convert(value, option)
        if converted is not INVALID:
            return converted
    wanted = " or ".join(describe(option) for option in options)
    raise SettingsError(f"Setting {source} expects {wanted}; got {value!r}.")


INVALID = object()


def convert(value: Any, expected: Any) -> Any:
    kind = typing.get_origin(expected) or expected
    if kind is dt.timedelta:
        if isinstance(value, dt.timedelta):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return dt.timedelta(seconds=value)
        return INVALID
    if kind is bool:
        if isinstance(value, bool):
            return value
        return bool(value) if value in (0, 1) and not isinstance(value, float) else INVALID
    if kind is float:
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
            else INVALID
    if kind is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else INVALID
    if kind in (list, tuple):
        if not isinstance(value, list | tuple):
            return INVALID
        (item_type, *_) = typing.get_args(expected) or (object,)
        if item_type is not object and not all(isinstance(item, item_type) for item in value):
            return INVALID
        return kind(value)
    if kind is type(None):
        return INVALID
    return value if isinstance(value, kind) else INVALID


def describe(expected: Any) -> str:
    kind = typing.get_origin(expected) or expected
    return {
        dt.timedelta: "a duration in seconds (e.g. 900)",
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        list: 'a list, e.g. ["a", "b"]',
        tuple: 'a list, e.g. ["a", "b"]',
        dict: "a mapping",
        type(None): "nothing (null)",
    }.get(kind, getattr(kind, "__name__", str(kind)))
