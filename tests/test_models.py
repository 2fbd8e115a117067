"""The database: init-db upgrades in place, SQLite runs with its safety settings."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from intake import create_app
from intake.models import MIGRATIONS, Submission, db


def test_upgrading_keeps_earlier_rows_and_indexes_them(app):
    with app.app_context():
        downgrade(directory=str(MIGRATIONS), revision="0001")
        db.session.execute(text(
            "INSERT INTO submission (reference, draft_key, status, language, "
            "questionnaire_version, answers, completed_steps, started_at, updated_at, "
            "urgent, resume_failures, score_history, is_demo, routing) VALUES ('AAA-AAA-AAA', "
            "'k', 'new', 'en', '2025.1', :answers, '[]', '2025-06-01 10:00:00', "
            "'2025-06-01 10:00:00', false, 0, '[]', false, 'HOLD')"),
            {"answers": json.dumps({"first_name": "Zoë", "last_name": "Ñúñez"})})
        db.session.commit()
        upgrade(directory=str(MIGRATIONS))
        row = db.session.scalar(select(Submission))
        assert (row.queue_rank, row.first_name_key, row.last_name_key) == (1, "zoe", "nunez")
        assert row.answers["first_name"] == "Zoë"


def test_init_db_makes_private_files_and_is_idempotent(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "instance"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'intake.sqlite'}"})
    app.instance_path = str(instance)
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
    mode = lambda path: stat.S_IMODE(Path(path).stat().st_mode)  # noqa: E731
    assert mode(instance) == 0o700
    for name in ("secret_key", "audit_key", "intake.sqlite"):
        assert mode(instance / name) == 0o600, name
    with app.app_context():
        pragmas = {name: db.session.execute(text(f"PRAGMA {name}")).scalar()
                   for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 2,
                       "busy_timeout": 5000}



def test_the_migrations_build_the_schema_the_models_describe(app):
    """Alembic's compare (what `flask db check` runs): a model changed without its
    migration, or a migration without its model, fails here."""
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []
