"""Where each rule comes from: the references a flag or an indicator cites, and the words
generated text must never contain (questionnaire.md, "What the product is")."""

from __future__ import annotations

FORBIDDEN_PHRASES = (
    "has crps",
    "probable crps",
    "no crps",
    "meets budapest criteria",
    "does not meet budapest criteria",
    "crps confirmed",
    "crps excluded",
    "crps severity score total",
    "eligible",
    "ineligible",
    "approved",
    "rejected",
    "candidate for ketamine",
    # followup.md: the course of treatment is reported, never judged.
    "responder",
    "treatment failed",
    "continue treatment",
    "stop treatment",
)

CITATIONS = {
    "B1": "Harden RN et al. Validation of the Budapest criteria for CRPS, Pain 2010",
    "B3": "Budapest criteria tables (PMC8970239; BMC Surg 2020)",
    "C1": "Harden RN et al. Development of a severity score for CRPS, Pain 2010",
    "C2": "Harden RN et al. Validation of the CRPS Severity Score, Pain 2017",
    "K2": "Cohen SP et al. ASRA/AAPM/ASA consensus guidelines on IV ketamine for chronic "
          "pain, Reg Anesth Pain Med 2018",
    "K4": "Schwartzman RJ et al. Outpatient IV ketamine for CRPS, Pain 2009",
    "K6": "Ketalar (ketamine) US prescribing information",
    "K7": "Ketalar UK SmPC",
    "K8": "Swiss ketamine/esketamine SmPC",
    "K9": "Ketamine drug interactions (thyroid hormone; CYP3A4)",
    "K10": "Andrade C. J Clin Psychiatry 2017 (benzodiazepines, lamotrigine)",
    "K11": "UKCPA perioperative handbook, irreversible MAOIs",
    "K12": "Ludwig VM et al. CNS Drugs 2021",
    "K13": "Lahti AC et al. Neuropsychopharmacology 1995",
    "K14": "Ketamine monograph (porphyria)",
    "I1": "Numeric rating scale; IMMPACT entry threshold of 4/10",
    "I3": "PHQ-9 and GAD-7 (Kroenke, Spitzer, Williams)",
    "I4": "Krebs EE et al. The PEG, J Gen Intern Med 2009",
    "I9": "Chung F et al. STOP questionnaire, Anesthesiology 2008",
    "I10": "Bradley KA et al. AUDIT-C, 2003/2007",
    "I11": "Skinner HA. DAST-10",
    "I12": "IASP/ICD-11 chronic pain definition (3 months or more)",
    "O1": "Dworkin RH et al. Interpreting the clinical importance of treatment outcomes in "
          "chronic pain clinical trials: IMMPACT recommendations, J Pain 2008",
    "O2": "Farrar JT et al. Clinical importance of changes in chronic pain intensity measured "
          "on an 11-point numerical pain rating scale, Pain 2001",
    "O3": "Löwe B et al. Monitoring depression treatment outcomes with the Patient Health "
          "Questionnaire-9, Med Care 2004",
}
CLINIC_POLICY = "clinic policy"

LABEL = "drug label"
GUIDELINE = "consensus guideline"
SCREEN = "validated screening instrument"
TRIAL = "placebo-controlled trial, entry criterion"


def cite(*sources: tuple[str, str] | str) -> str:
    """Sources as readable text: (tag, strength) pairs become "citation [tag], strength"."""
    return "; ".join(
        s if isinstance(s, str) else f"{CITATIONS[s[0]]} [{s[0]}], {s[1]}" for s in sources
    )
