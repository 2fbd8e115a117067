"""A real HTTP client and a gunicorn server, for tests that go over the network."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from http.client import HTTPMessage
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

from intake import ROOT


class Page:
    """What a server answered, read the way tests read the Flask test client's responses."""

    def __init__(self, status_code: int, headers: HTTPMessage, body: bytes):
        self.status_code, self.headers, self.body = status_code, headers, body
        self.location = headers.get("Location")

    @property
    def text(self) -> str:
        return self.body.decode()

    def get_data(self, as_text: bool = False) -> str | bytes:
        return self.text if as_text else self.body


class KeepRedirects(HTTPRedirectHandler):
    """A redirect comes back as the page, unfollowed, as the test client's does."""

    def redirect_request(self, *args: Any) -> None:
        return None


class Client:
    """A browser over real HTTP, shaped like Flask's test client so conftest's Patient
    can drive it: its own cookies, and the same headers on every request."""

    def __init__(self, base: str, headers: dict[str, str] | None = None, timeout: float = 30):
        self.base, self.headers, self.timeout = base, headers or {}, timeout
        self.cookies = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.cookies), KeepRedirects())

    def get(self, url: str) -> Page:
        return self.open(url)

    def post(self, url: str, data: dict[str, Any] | None = None) -> Page:
        return self.open(url, urlencode(data or {}, doseq=True).encode())

    def open(self, url: str, body: bytes | None = None) -> Page:
        """GET, or POST when there is a body; a 4xx or 5xx is a page like any other."""
        request = Request(self.base + url, data=body,  # noqa: S310 (always http://127.0.0.1)
                          headers=self.headers)
        try:
            response = self.opener.open(request, timeout=self.timeout)
        except HTTPError as error_response:
            response = error_response
        with response:
            return Page(response.status, response.headers, response.read())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving the app from ``root`` as in production, configured by ``env``, on a
    free port, in a process group of its own."""

    def __init__(self, env: dict[str, str], log: Path, root: Path = ROOT, workers: int = 1,
                 timeout: int = 30):
        self.env, self.log, self.root = env, log, root
        self.options = ["--config", "python:intake.gunicorn_conf", "--workers", str(workers),
                        "--timeout", str(timeout)]
        self.base = f"http://127.0.0.1:{free_port()}"
        self.process: subprocess.Popen | None = None

    def flask(self, *args: str, stdin: str = "") -> str:
        """Run a ``flask`` command as this server's operator would; return what it printed."""
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "intake", *args],
                                cwd=self.root, env=self.env, input=stdin, text=True,
                                capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self) -> None:
        """Serve, and return once a worker answers (the master listens before they boot)."""
        command = [sys.executable, "-m", "gunicorn", *self.options,
                   "--bind", self.base.removeprefix("http://"), "intake:create_app()"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, cwd=self.root, env=self.env, stdout=log,
                                            stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while not self.answers():
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn is silent:\n{self.log.read_text()}"
            time.sleep(0.1)

    def answers(self) -> bool:
        try:
            return Client(self.base, timeout=5).get("/healthz").status_code == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL the master and every worker: nothing is flushed or finished."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class Consumer:
    """A job consumer (``flask --app intake jobs``) as the README runs it, configured by
    ``env``, in a process group of its own."""

    def __init__(self, env: dict[str, str], log: Path, root: Path = ROOT):
        self.env, self.log, self.root = env, log, root
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "flask", "--app", "intake", "jobs"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, cwd=self.root, env=self.env, stdout=log,
                                            stderr=log, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL it mid-work: nothing is finished, nothing let go."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Ctrl-C, as `make run` stops it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
