"""The corpora every output is tried with: injection payloads, the world's scripts, long text.

The payloads are security.md's, as test data. ``submissions()`` spreads them over a public
profile so that, across a few submissions, every payload is typed into every free-text item.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from intake import questionnaire as q

CASE = Path(__file__).parent.parent / "data" / "cases" / "P01.json"

#: Markup for the staff pages (security.md, "Output encoding").
XSS_PAYLOADS = (
    "<script>alert(1)</script>",
    '" autofocus onfocus=alert(1) x="',
    "javascript:alert(1)",
    "{{7*7}}",
    "</textarea><img src=x onerror=alert(1)>",
)
#: reportlab's Paragraph markup (security.md, "PDF injection"), after the page payloads.
PDF_PAYLOADS = (
    *XSS_PAYLOADS,
    '<img src="/etc/hostname"/>',
    '<a href="javascript:alert(1)">x</a>',
    "a<b",
    '<font color="red">',
)
#: Cells a spreadsheet would run as a formula (security.md, "Spreadsheet injection"). A
#: leading tab, CR or NUL never comes through a form (it trims text and refuses control
#: characters); test_export stores those directly.
FORMULA_PAYLOADS = (
    "=1+1",
    '=HYPERLINK("http://x","y")',
    "+1",
    "-1+2",
    "@SUM(1)",
    "=cmd|' /C calc'!A0",
)
#: What a search box or a filter must take as plain text (security.md, "SQL injection").
SQL_PAYLOADS = ("' OR 1=1 --", "'); DROP TABLE submission; --", "%", "_", "a%", "\\")
#: ``next`` targets that must land on a local page (security.md, "Open redirects");
#: typed as answers, they must never become links.
REDIRECT_PAYLOADS = (
    "//evil.example",
    "/\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "https://evil.example/staff/",
    "\\\\evil.example",
)
#: Accented, Greek and Cyrillic names (first, last).
NAMES = (("Zoë", "Ångström-Ñúñez"), ("Αλέξανδρος", "Παπαδόπουλος"), ("Анна", "Кузнецова"))
#: Right-to-left text: a PDF's text comes back in visual order, that is reversed.
RIGHT_TO_LEFT = ("محمد الأحمد", "שרה כהן")
#: Outside the Basic Multilingual Plane: the PDF's font draws a placeholder glyph.
EMOJI = ("pain 😖 since the fall 🦴", "👩‍👩‍👧 family")
#: A letter written with a combining accent; the PDF's text gives it composed.
COMBINING = ("Zoe\u0301 Ñun\u0303ez",)
WORLD_TEXT = (*(f"{first} {last}" for first, last in NAMES), *RIGHT_TO_LEFT, *EMOJI,
              *COMBINING)

#: Every short payload, each once.
PAYLOADS = tuple(dict.fromkeys((*PDF_PAYLOADS, *FORMULA_PAYLOADS, *SQL_PAYLOADS,
                                *REDIRECT_PAYLOADS, *WORLD_TEXT)))

#: A sentence of everything above, repeated to fill the longest answers.
#: Each right-to-left word stands between left-to-right ones, so it reads the same in
#: any line a PDF breaks it into.
MIXED = "<script>alert(1)</script> a<b =1+1 Zoë שרה Αλέξανδρος محمد Анна 😖 "
#: A 20 000-character answer (the most a long answer holds), its end told apart.
LONG_TEXT = (MIXED * (q.MULTILINE_MAX // len(MIXED) + 1))[:q.MULTILINE_MAX - 8] + "the end."
#: A 5 000-line answer (the most lines a long answer holds), within its length.
MANY_LINES = "\n".join(("a<b", "=1", "Zoë", "Ωμ", "Юя", "שר", "😖")[n % 7]
                       for n in range(q.MULTILINE_MAX_LINES))

#: The free-text items a patient can fill with any text (the phone takes only a number).
FREE_TEXT = tuple(item for item in q.ITEMS.values()
                  if item.type in ("text", "text_multiline") and item.id != "phone")
EMAIL_DOMAIN = "@example.org"


def groups() -> list[list[str]]:
    """The payloads in consecutive groups, each short enough for the shortest item (a name)."""
    found: list[list[str]] = [[]]
    for payload in PAYLOADS:
        if len(" ".join([*found[-1], payload])) > q.NAME_MAX:
            found.append([])
        found[-1].append(payload)
    return found


def carried(item: q.Item, payloads: list[str]) -> str | None:
    """The answer that brings these payloads into the item, within its length.

    A long answer takes one a line; others one after another. The email holds them before
    its "@" (less those with an "@" of their own); None when nothing fits.
    """
    if item.id == "email":
        payloads = [p for p in payloads if "@" not in p and "\n" not in p]
        if not payloads:
            return None
        local = " ".join(payloads)[:item.max_length - len(EMAIL_DOMAIN)].strip()
        return local + EMAIL_DOMAIN
    if item.type == "text_multiline":
        return "\n".join(payloads)[:item.max_length].strip()
    if any("\n" in p for p in payloads):
        return None
    return " ".join(payloads)[:item.max_length].strip()


def profile() -> dict[str, Any]:
    """A public profile (P01) whose answers open every free-text item."""
    answers = json.loads(CASE.read_text(encoding="utf-8"))["answers"]
    return {**answers, "inciting_event": "other", "med_classes": ["opioid"]}


def submissions() -> list[dict[str, Any]]:
    """Answer sets that put every payload into every free-text item, then the longest text.

    A set carries one group of payloads in each item, turned round by the item's place
    so that each payload of the group also starts some answer (where a formula would).
    """
    sets = []
    for group in groups():
        answers = profile()
        for place, item in enumerate(FREE_TEXT):
            turn = place % len(group)
            answers[item.id] = carried(item, group[turn:] + group[:turn]) or answers.get(item.id)
        sets.append(answers)
    for text in (LONG_TEXT, MANY_LINES):
        answers = profile()
        for item in FREE_TEXT:
            answers[item.id] = carried(item, [text]) or answers.get(item.id)
        sets.append(answers)
    return [{k: v for k, v in answers.items() if v is not None} for answers in sets]


def typed(answers: dict[str, Any]) -> dict[str, str]:
    """The free-text answers of a set as the site stores them."""
    return {item.id: q.normalise_text(answers[item.id])
            for item in FREE_TEXT if item.id in answers}
