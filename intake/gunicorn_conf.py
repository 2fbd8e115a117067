"""gunicorn settings for production.

    gunicorn -c python:intake.gunicorn_conf 'intake:create_app()'

The access log names the path without its query string, and a resume link's token never
reaches it: a log line shows where a request went, not what it carried.
"""

from flask import Config
from gunicorn.glogging import Logger

from intake import settings

#: Well above SQLite's 5 s busy timeout: a busy database is an answer, never a killed worker.
timeout = 30
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class IntakeLogger(Logger):
    """Resume links carry a token in the path: the access log shows only where they lead."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        if atoms["U"].startswith("/intake/resume/"):
            atoms["U"] = "/intake/resume/…"
        return atoms


logger_class = IntakeLogger


def on_starting(server) -> None:
    """Check the settings once, in the master, before any worker starts.

    A wrong setting stops here with one line. Per-address limits (sign-in, new drafts)
    counted in each worker's memory would let through four times as many attempts with
    four workers, so several workers need RATELIMIT_STORAGE_URI to be shared (Redis).
    """
    config = Config(settings.instance_path())
    settings.load(config, settings.instance_path(), None)
    if server.cfg.workers > 1 and config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        raise RuntimeError(
            f"{server.cfg.workers} workers would each keep their own sign-in and draft limits: "
            "set RATELIMIT_STORAGE_URI to a shared store (e.g. redis://127.0.0.1:6379), "
            "or run one worker.")
