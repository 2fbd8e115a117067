"""The blank examination checklist the physician summary prints beside the Budapest criteria.

It is the clinician's half of the criteria, ticked at the visit; the patient's half is the
self-reported symptoms the intake asks. A summary prints it only where its score counts
the Budapest symptom categories.
"""

from __future__ import annotations

#: The blank examination checklist: the Budapest signs by category [B1][B3].
BUDAPEST_SIGNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Sensory", ("Hyperalgesia (to pinprick)",
                 "Allodynia (to light touch, temperature, deep somatic pressure or joint "
                 "movement)")),
    ("Vasomotor", ("Temperature asymmetry (> 1 °C)", "Skin color changes or asymmetry")),
    ("Sudomotor / edema", ("Edema", "Sweating changes or asymmetry")),
    ("Motor / trophic", ("Decreased range of motion",
                         "Motor dysfunction (weakness, tremor, dystonia)",
                         "Trophic changes (hair, nail, skin)")),
)
#: The CRPS Severity Score's examination signs [C1][C2], as questionnaire.md §6 lists them.
CSS_SIGNS: tuple[str, ...] = (
    "Hyperalgesia to pinprick",
    "Allodynia to light touch, temperature, deep pressure or joint movement",
    "Temperature asymmetry on palpation",
    "Skin color asymmetry",
    "Sweating asymmetry",
    "Asymmetric edema",
    "Trophic changes",
    "Motor changes including decreased active range of motion",
)
#: The clinician's part of the criteria, ticked beside the signs.
CLINICIAN_CHECKS: tuple[str, ...] = (
    "Pain disproportionate to any inciting event (clinician's judgement)",
    "No other diagnosis better explains the signs and symptoms",
)
