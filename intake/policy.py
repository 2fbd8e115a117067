"""The clinic's choices that change the rules, and the version that names a rule set.

Both the questionnaire (which items a patient sees) and the scorer read the policy, so
it sits below them both and imports nothing of ours.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from functools import cache, cached_property

RULES_VERSION_BASE = "2025.1"

#: *policy*: the skip a clinic may switch off: a "no" to DAST-10 item 1 skips items 2-10.
DAST_SKIP = "dast_skip"


@dataclass(frozen=True)
class Policy:
    """The clinic's choices that change the rules; the defaults are the spec's."""

    stop_bang_enabled: bool = True
    dast10_enabled: bool = True
    #: A "no" to DAST-10 item 1 scores 0 and skips items 2-10.
    dast_skip: bool = True
    #: A DAST-10 answered sum at or above this holds (SUD_ACTIVE); below it, from 3, is
    #: for review (DRUG_USE_HISTORY).
    sud_dast_threshold: int = 6
    #: A blood pressure at or above these holds (BP_UNCONTROLLED): one step stricter than
    #: the label's "above 180/100".
    bp_systolic_hold: int = 180
    bp_diastolic_hold: int = 100
    #: The pregnancy questions are asked up to and including this age.
    pregnancy_max_age: int = 55

    @cached_property
    def switched_off(self) -> frozenset[str]:
        """The instruments and the skip this clinic has turned off, as items name them."""
        return frozenset(
            key for key, enabled in (("stop_bang", self.stop_bang_enabled),
                                     ("dast10", self.dast10_enabled),
                                     (DAST_SKIP, self.dast_skip))
            if not enabled
        )


DEFAULT_POLICY = Policy()

#: The setting (intake/config.py) that sets each field of the policy.
SETTINGS = {
    "STOP_BANG_ENABLED": "stop_bang_enabled",
    "DAST10_ENABLED": "dast10_enabled",
    "DAST_SKIP": "dast_skip",
    "SUD_DAST_THRESHOLD": "sud_dast_threshold",
    "BP_HOLD_SYSTOLIC": "bp_systolic_hold",
    "BP_HOLD_DIASTOLIC": "bp_diastolic_hold",
    "PREGNANCY_MAX_AGE": "pregnancy_max_age",
}


@cache
def rules_version(policy: Policy = DEFAULT_POLICY, base: str = RULES_VERSION_BASE) -> str:
    """Name the effective rule set, so a stored score says which rules made it: the
    rules' own version (``base``, the intake's unless told) and the clinic's policy."""
    changed = {
        f.name: getattr(policy, f.name) for f in fields(policy)
        if getattr(policy, f.name) != f.default
    }
    if not changed:
        return base
    digest = hashlib.sha256(json.dumps(changed, sort_keys=True).encode()).hexdigest()
    return f"{base}+{digest[:8]}"
