"""The app as a server gets it: a wheel installed outside the checkout serves Spanish,
and a checkout whose compiled catalog is missing or stale refuses to start."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from intake import create_app, settings
from intake.translations.build_catalogs import compile_catalog

ROOT = settings.ROOT
#: The checkout's folders a wheel carries, and where it carries them.
SHIPPED = {"intake/": "intake/", "templates/": "intake/templates/",
           "static/": "intake/static/", "migrations/": "intake/migrations/"}
#: A patient in Spanish: the consent step saved (a draft in the migrated database), then
#: the next step and the files it links to under /static/.
VISIT_IN_SPANISH = """
import json, re
from pathlib import Path
import intake
app = intake.create_app()
client = app.test_client()
client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
consent = client.get("/intake/step/consent").get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', consent).group(1)
saved = client.post("/intake/step/consent",
                    data={"csrf_token": token, "consent_data_use": "y", "nav": "next"})
page = client.get(saved.location).get_data(as_text=True)
static = re.findall(r'"/static/([^"?]+)"', page)
print(json.dumps({
    "package": intake.__file__, "templates": app.template_folder,
    "static": app.static_folder, "saved": saved.location, "page": page,
    "static_served": {name: client.get("/static/" + name).data
                      == Path(app.static_folder, name).read_bytes() for name in static},
}))
"""


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def clone(destination: Path) -> list[str]:
    """The checkout's files as a fresh clone has them: no compiled catalogs, no build/."""
    files = run("git", "ls-files", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    names = [name for name in files.splitlines() if (ROOT / name).is_file()]
    for name in names:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name)
    return names


def in_the_wheel(names: list[str]) -> set[str]:
    """Where each shipped file of the checkout goes in a wheel, with each .po compiled."""
    members = set()
    for name in names:
        for folder, packaged in SHIPPED.items():
            if name.startswith(folder):
                members.add(packaged + name.removeprefix(folder))
    return members | {name.removesuffix(".po") + ".mo" for name in members
                      if name.endswith(".po")}


@pytest.mark.cli
def test_a_wheel_installed_outside_the_checkout_serves_spanish(tmp_path):
    source = tmp_path / "source"
    names = clone(source)
    assert not list(source.glob("intake/translations/*/LC_MESSAGES/*.mo"))
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
        tmp_path / "dist", source, cwd=source)
    (wheel,) = (tmp_path / "dist").glob("intake-*.whl")
    missing = in_the_wheel(names) - set(zipfile.ZipFile(wheel).namelist())
    assert not missing, f"the wheel lacks {sorted(missing)}"

    server = tmp_path / "server"
    run(sys.executable, "-m", "venv", "--without-pip", server, cwd=tmp_path)
    python = server / "bin" / "python"
    site_packages = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                        cwd=tmp_path).strip()
    # The server's dependencies (and pip): those of the suite's virtualenv.
    Path(site_packages, "suite.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {**os.environ, "INTAKE_SECRET_KEY": "test-secret-key",
                   "INTAKE_INSTANCE_PATH": str(tmp_path / "instance")}
    for variable in ("PYTHONPATH", "DATABASE_URL", "FLASK_APP"):
        environment.pop(variable, None)
    assert "up to date" in run(python, "-m", "flask", "--app", "intake", "init-db",
                               cwd=elsewhere, env=environment)
    visit = json.loads(run(python, "-c", VISIT_IN_SPANISH, cwd=elsewhere, env=environment))

    for installed in (visit["package"], visit["templates"], visit["static"]):
        assert installed.startswith(site_packages), installed
    assert visit["saved"] == "/intake/step/about"
    page = visit["page"]
    assert '<html lang="es"' in page
    assert "Sobre usted" in page and "Fecha de nacimiento" in page
    assert "Guardar y continuar" in page and "Save and continue" not in page
    assert visit["static_served"] and all(visit["static_served"].values())


@pytest.fixture
def translations(tmp_path) -> Path:
    """A copy of the catalogs, compiled."""
    copy = tmp_path / "translations"
    shutil.copytree(ROOT / "intake" / "translations", copy,
                    ignore=shutil.ignore_patterns("*.mo", "*.py", "__pycache__"))
    for po in copy.glob("*/LC_MESSAGES/*.po"):
        compile_catalog(po, po.with_suffix(".mo"))
    return copy


def start(translations: Path, tmp_path: Path):
    return create_app({"SECRET_KEY": "test-secret-key",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'intake.sqlite'}",
                       "BABEL_TRANSLATION_DIRECTORIES": str(translations)})


def test_a_missing_catalog_stops_the_start_up(translations, tmp_path):
    mo = translations / "es" / "LC_MESSAGES" / "messages.mo"
    mo.unlink()
    with pytest.raises(settings.SettingsError) as stopped:
        start(translations, tmp_path)
    message = str(stopped.value)
    assert "\n" not in message
    assert f"{mo} is missing: compile it with `pybabel compile" in message


def test_a_stale_catalog_stops_the_start_up(translations, tmp_path):
    po = translations / "es" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    os.utime(po, (mo.stat().st_mtime + 60, mo.stat().st_mtime + 60))
    with pytest.raises(settings.SettingsError) as stopped:
        start(translations, tmp_path)
    message = str(stopped.value)
    assert "\n" not in message
    assert f"{mo} is older than its .po: compile it with `pybabel compile" in message
    assert "es pages would be in English" in message


def test_a_compiled_catalog_starts(translations, tmp_path):
    app = start(translations, tmp_path)
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == str(translations)
