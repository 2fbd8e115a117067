"""The PDF's font: DejaVu Sans (wide Unicode coverage) from the system, never a download."""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf"}
#: Where Debian (fonts-dejavu-core) and other systems keep DejaVu Sans.
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts/dejavu",
    "/usr/local/share/fonts",
)
FONT_PACKAGE = "fonts-dejavu-core"


class FontMissing(RuntimeError):
    """DejaVu Sans is not installed where we look for it."""


def find_fonts(font_dir: str | None = None) -> dict[str, Path]:
    """The DejaVu Sans files in ``font_dir``, else in the first known directory holding them."""
    directories = (font_dir,) if font_dir else FONT_DIRS
    for directory in directories:
        paths = {name: Path(directory) / file for name, file in FONT_FILES.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    raise FontMissing(
        f"DejaVu Sans ({', '.join(FONT_FILES.values())}) was not found in "
        f"{', '.join(directories)}. Install the Debian package {FONT_PACKAGE} "
        f"(apt-get install {FONT_PACKAGE}) or set INTAKE_PDF_FONT_DIR to a directory "
        "holding these files."
    )


def register_fonts(font_dir: str | None = None) -> None:
    """Register DejaVu Sans (wide Unicode coverage) from the system, never a download."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name, path in find_fonts(font_dir).items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                  boldItalic=FONT_BOLD)
