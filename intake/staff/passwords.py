"""Which new staff passwords are refused, and the plain words that say why (ASVS 6.2).

A new password is refused when it is too short or too long; when, lower-cased and with
the digits, years and symbols people add at the end taken off, it is one of the 30 000
commonest passwords (the list zxcvbn ships: Mark Burnett's ten million passwords as
ranked by zxcvbn, MIT licence); when its letters are nothing but words of the account's
email and the clinic's name; or when zxcvbn, told those words, scores it below 3 of 4
(fewer than 10^8 guesses).
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any, Protocol

from flask import current_app
from wtforms.validators import ValidationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS
from zxcvbn.matching import L33T_TABLE, enumerate_l33t_subs, relevant_l33t_subtable

COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
#: zxcvbn's 3: "safely unguessable", at least 10^8 guesses.
MIN_SCORE = 3
#: What people add at the end of a common word to pass a rule: digits, years, symbols.
ADDED_AT_END = re.compile(r"[\W\d_]+$")
LETTERS = re.compile(r"[^\W\d_]+")
FROM_KNOWN_WORDS = ("This password is built from your email address or the clinic's name, "
                    "which anyone guessing would try first. Choose words that have nothing to "
                    "do with you or the clinic.")
#: zxcvbn's matching costs about length² × (8 + the ways it can read the password's
#: symbols as letters): a symbol-dense 128-character password took 10 s. Beyond this
#: much work only the password's start is scored (100 characters of words, 11 of the
#: densest symbols), so a check stays near a tenth of a second.
SCORING_BUDGET = 100_000
#: zxcvbn keeps the words it is told about in a module-level table while it scores.
_scoring = threading.Lock()


class PasswordOwner(Protocol):
    """A form with a new password says whose it is (the email zxcvbn is told about)."""

    def password_owner(self) -> str: ...


def normalised(password: str) -> str:
    """The password as a list of common passwords would hold it."""
    return ADDED_AT_END.sub("", password.lower())


def known_words(email: str) -> list[str]:
    """What a guesser knows about an account: its email and the clinic's name, each whole,
    run together and word by word (words of three letters or more: "j" tells nothing)."""
    words = []
    for text in (email, current_app.config["CLINIC_NAME"]):
        parts = LETTERS.findall(text.lower())
        words += [text.lower(), "".join(parts), *(part for part in parts if len(part) > 2)]
    return words


def only_known_words(password: str, words: list[str]) -> bool:
    """Whether the password's letters are these words run together and nothing else
    (zxcvbn lets any three pieces pass, so "Pain-Clinic-2024" would)."""
    letters = "".join(LETTERS.findall(password.lower()))
    vocabulary = set(words)
    ends = {0}
    for end in range(1, len(letters) + 1):
        if any(letters[start:end] in vocabulary for start in ends):
            ends.add(end)
    return bool(letters) and len(letters) in ends


def guessability(password: str, words: list[str]) -> dict[str, Any]:
    """zxcvbn's verdict on as much of the password as it can score quickly."""
    readings = len(enumerate_l33t_subs(relevant_l33t_subtable(password, L33T_TABLE)))
    scored = password[: math.isqrt(SCORING_BUDGET // (readings + 8))]
    with _scoring:
        return zxcvbn(scored, user_inputs=words, max_length=len(scored))


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is refused and what to do instead, or None."""
    config = current_app.config
    low, high = config["PASSWORD_MIN_LENGTH"], config["PASSWORD_MAX_LENGTH"]
    if len(password) < low:
        return (f"This password is too short. Use at least {low} characters: a few "
                "unrelated words are long enough and easy to remember.")
    if len(password) > high:
        return f"This password is too long. Use at most {high} characters."
    if password.lower() in COMMON_PASSWORDS or normalised(password) in COMMON_PASSWORDS:
        return (f"This password is too common: leaving aside capitals and the digits or "
                f"symbols at its end, it is one of the {len(COMMON_PASSWORDS):,} passwords "
                "people use most, which attackers try first. Choose a few unrelated words "
                "instead.")
    words = known_words(email)
    if only_known_words(password, words):
        return FROM_KNOWN_WORDS
    verdict = guessability(password, words)
    if verdict["score"] >= MIN_SCORE:
        return None
    if any(match.get("dictionary_name") == "user_inputs" for match in verdict["sequence"]):
        return FROM_KNOWN_WORDS
    warning = verdict["feedback"]["warning"]
    return " ".join(filter(None, (
        "This password is too easy to guess.", warning,
        "Add more words that have nothing to do with each other.")))


class NewPassword:
    """A WTForms validator for a password being set, on a form that says whose it is."""

    def __call__(self, form: PasswordOwner, field: Any) -> None:
        problem = password_problem(field.data or "", form.password_owner())
        if problem:
            raise ValidationError(problem)
