"""The build backend: setuptools', with the message catalogs (.po) compiled into .mo.

Compiled catalogs are build products that git ignores, so a wheel built from a checkout
would lack them. pyproject.toml names this module as the backend (setuptools' hooks,
unchanged) and setup.cfg its BuildPy as the build_py command. It imports only setuptools
and Babel, which the build declares.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools.build_meta import *  # noqa: F403  (the PEP 517 hooks themselves)
from setuptools.command.build_py import build_py


def compile_catalog(po: Path, mo: Path) -> None:
    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parent.parent.name)
    with mo.open("wb") as target:
        write_mo(target, catalog)


class BuildPy(build_py):
    """Copy the package as usual, then compile every catalog beside its .po."""

    def run(self) -> None:
        super().run()
        for po in Path(self.build_lib, "intake", "translations").glob("*/LC_MESSAGES/*.po"):
            compile_catalog(po, po.with_suffix(".mo"))
