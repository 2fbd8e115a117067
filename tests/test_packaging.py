"""The app as a server gets it: a wheel installed outside the checkout serves Spanish,
and a checkout whose compiled catalog is missing or stale refuses to start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from intake import create_app, settings

ROOT = settings.ROOT
SERVE_SPANISH = """
import intake
from intake import create_app
app = create_app()
page = app.test_client().get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
print(intake.__file__)
print(app.template_folder)
print(page)
"""


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.cli
def test_a_wheel_installed_outside_the_checkout_serves_spanish(tmp_path):
    source = tmp_path / "source"
    files = run("git", "ls-files", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in files.splitlines():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    assert not list(source.glob("intake/translations/*/LC_MESSAGES/*.mo"))  # as git has it
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
        tmp_path / "dist", source, cwd=source)
    (wheel,) = (tmp_path / "dist").glob("intake-*.whl")

    server = tmp_path / "server"
    run(sys.executable, "-m", "venv", "--without-pip", server, cwd=tmp_path)
    python = server / "bin" / "python"
    site_packages = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                        cwd=tmp_path).strip()
    # The server's own packages: those of the suite's virtualenv (pip included).
    Path(site_packages, "suite.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {**os.environ, "INTAKE_SECRET_KEY": "k",
                   "INTAKE_INSTANCE_PATH": str(tmp_path / "instance")}
    environment.pop("PYTHONPATH", None)
    package, templates, page = run(python, "-c", SERVE_SPANISH, cwd=elsewhere,
                                   env=environment).split("\n", 2)
    assert package.startswith(site_packages) and templates.startswith(site_packages)
    assert '<html lang="es"' in page
    assert "Este cuestionario ayuda a los médicos" in page
    assert "Empezar" in page or "Comenzar" in page


@pytest.fixture
def translations(tmp_path) -> Path:
    """A copy of the catalogs, compiled as `make` leaves them."""
    copy = tmp_path / "translations"
    shutil.copytree(ROOT / "intake" / "translations", copy)
    return copy


def test_a_missing_catalog_stops_the_start_up(translations):
    (translations / "es" / "LC_MESSAGES" / "messages.mo").unlink()
    with pytest.raises(settings.SettingsError, match=r"messages.mo is missing: compile it"):
        create_app({"SECRET_KEY": "k", "BABEL_TRANSLATION_DIRECTORIES": str(translations)})


def test_a_stale_catalog_stops_the_start_up(translations):
    po = translations / "es" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    os.utime(po, (mo.stat().st_mtime + 60, mo.stat().st_mtime + 60))
    with pytest.raises(settings.SettingsError, match=r"is older than its \.po.*es pages would"):
        create_app({"SECRET_KEY": "k", "BABEL_TRANSLATION_DIRECTORIES": str(translations)})


def test_a_compiled_catalog_starts(translations):
    app = create_app({"SECRET_KEY": "k", "BABEL_TRANSLATION_DIRECTORIES": str(translations)})
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == str(translations)
