"""gunicorn settings for production.

    gunicorn -c python:intake.gunicorn_conf 'intake:create_app()'

The access log names the path without its query string, and a resume link's token never
reaches it: a log line shows where a request went, not what it carried.
"""

from gunicorn.glogging import Logger

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
