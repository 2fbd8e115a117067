"""Blueprint "staff": accounts, sign-in, the worklist, one submission, exports.

The blueprint and its access rules live in ``access``; each module below adds its routes.
"""

from __future__ import annotations

from flask import Flask

from intake.extensions import login_manager
from intake.staff import (  # noqa: F401  (routes on bp)
    accounts,
    auth,
    exports,
    patients,
    submissions,
    work,
)
from intake.staff.access import bp


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # the session version does this job

    app.register_blueprint(bp)
    accounts.init_app(app)
