"""The physician PDF, read back as a physician's viewer and a text extractor see it."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CASES, DATA, load_case
from PIL import Image
from pypdf import PdfReader
from support.payloads import NAMES, PDF_PAYLOADS

from intake import bodymap, scoring
from intake.clinic import policy as policy_from_config
from intake.models import Submission, db
from intake.policy import Policy
from intake.questionnaire import (
    INTAKE,
    QUESTIONNAIRE_VERSION,
    STEPS,
    clean_answers,
    item_shown,
)
from intake.reports.fonts import FontMissing, find_fonts
from intake.reports.pdf import render_pdf, text
from intake.reports.summary import DISCLAIMER, TRIAL_MATCH, StaffAction, build_summary

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "K7Q-4MZ-9TX"
CLINIC = "Riverside Pain Clinic"
GENERATED = dt.datetime(2025, 6, 2, 13, 5, tzinfo=dt.UTC)


def build(answers: dict, submitted_on: str = "2025-06-01", policy: Policy | None = None,
          **options) -> tuple[bytes, dict]:
    """Score the answers and render their PDF, as a stored submission would be."""
    policy = policy or Policy()
    reference_date = dt.date.fromisoformat(submitted_on)
    score = scoring.score(answers, reference_date, policy)
    cleaned = clean_answers(INTAKE, answers, reference_date, policy)
    summary = build_summary(
        answers=cleaned, score=score, reference=REFERENCE,
        submitted_at=dt.datetime(2025, 6, 1, 18, 32, tzinfo=dt.UTC),
        reference_date=reference_date, clinic_name=CLINIC, timezone="America/New_York",
        questionnaire_version=QUESTIONNAIRE_VERSION, policy=policy, generated_at=GENERATED,
        **options,
    )
    return render_pdf(summary), score


def extract(pdf: bytes, tmp_path: Path, *args: str) -> str:
    """The PDF's text as pdftotext gives it."""
    path = tmp_path / "summary.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", *args, str(path), "-"],
                          check=True, capture_output=True, text=True).stdout


def flat(value: str) -> str:
    """Whitespace collapsed, so text wrapped across lines compares as written."""
    return " ".join(value.split())


def words(pdf: bytes, tmp_path: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes (xMin, yMin, xMax, yMax, text), top-down."""
    pages = []
    for page in re.findall(r"<page .*?</page>", extract(pdf, tmp_path, "-bbox"), re.S):
        pages.append([
            (float(a), float(b), float(c), float(d), word)
            for a, b, c, d, word in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                r"(.*?)</word>", page)
        ])
    return pages


def standalone_dashes(pdf: bytes, tmp_path: Path) -> int:
    """How many "—" stand alone in their cell: no word within 12 pt on the same line."""
    count = 0
    for page in words(pdf, tmp_path):
        for dash in (w for w in page if w[4] == "—"):
            x0, y0, x1 = dash[0], dash[1], dash[2]
            near = [w for w in page if w is not dash and abs(w[1] - y0) < 2
                    and (abs(w[0] - x1) < 12 or abs(x0 - w[2]) < 12)]
            count += not near
    return count


def unanswered_shown(answers: dict, submitted_on: str) -> int:
    """Items shown to this patient and left unanswered, as the questionnaire defines them."""
    reference_date = dt.date.fromisoformat(submitted_on)
    cleaned = clean_answers(INTAKE, answers, reference_date)
    return sum(
        1 for step in STEPS for item in step.items
        if not item.system and item_shown(INTAKE, item, cleaned, reference_date)
        and item.id not in cleaned
    )


def p01() -> dict:
    return load_case(DATA / "cases" / "P01.json")["answers"]


def urgent() -> dict:
    """P02 with item 9 endorsed, a very high blood pressure and a half-answered DAST-10."""
    answers = load_case(DATA / "cases" / "P02.json")["answers"]
    return {**answers, "phq9_9": 2, "bp_systolic": 186, "bp_diastolic": 104,
            **{f"dast_{n}": "yes" for n in range(1, 6)}}


def summary_of(answers: dict, submitted_on: str = "2025-06-01"):
    reference_date = dt.date.fromisoformat(submitted_on)
    return build_summary(
        answers=clean_answers(INTAKE, answers, reference_date),
        score=scoring.score(answers, reference_date), reference=REFERENCE,
        submitted_at=reference_date, reference_date=reference_date, clinic_name=CLINIC,
        timezone="America/New_York", questionnaire_version=QUESTIONNAIRE_VERSION,
        generated_at=GENERATED,
    )


def test_summary_words_triggers_indicators_and_instruments():
    summary = summary_of(urgent())
    assert summary.routing == "URGENT"
    assert [f.tier for f in summary.flags] == sorted(
        (f.tier for f in summary.flags), key=("urgent", "hold", "review").index)
    triggers = {f.code: [str(t) for t in f.triggers] for f in summary.flags}
    assert triggers["BP_UNCONTROLLED"] == [
        "Your most recent blood pressure: top number: 186 mmHg",
        "Your most recent blood pressure: bottom number: 104 mmHg",
    ]
    assert triggers["SUICIDE_ITEM"] == [
        "PHQ-9: Thoughts that you would be better off dead or of hurting yourself in some way: "
        "now: More than half the days (2); earlier in this questionnaire: none"
    ]
    assert triggers["DRUG_USE_HISTORY"] == ["DAST-10 answered sum: 4 (instrument incomplete)"]
    indicators = {line.name: line for line in summary.indicators}
    assert indicators["CSS symptoms (self-reported)"].value == (
        "3/8 self-reported symptoms — the examination signs are not included")
    assert indicators["Treatments tried"].note == TRIAL_MATCH
    assert dict((f.label, f.value) for f in summary.instruments)["DAST-10"] == (
        "incomplete — not scored")
    assert summary.submitted_at == "2025-06-01"


def test_peg_and_bmi_always_print_one_decimal(tmp_path):
    """A variant of P01 whose PEG and BMI come out whole: 8.0 and 23.0, never 8 and 23."""
    answers = {**p01(), "nrs_avg_week": 8, "peg_enjoyment": 8, "peg_activity": 8,
               "height_cm": 170, "weight_kg": 66.5}
    pdf, score = build(answers)
    assert score["indicators"]["peg"] == 8.0 and score["indicators"]["bmi"] == 23.0
    values = {line.name: line.value for line in summary_of(answers).indicators}
    assert values["PEG (pain, enjoyment, general activity)"] == "8.0"
    assert values["BMI"] == "23.0"
    page_text = flat(extract(pdf, tmp_path))
    assert "8.0" in page_text and "23.0" in page_text


def test_summary_of_a_minor_lists_only_what_was_asked():
    data = load_case(DATA / "cases" / "P09.json")
    summary = summary_of(data["answers"], data["submitted_on"])
    assert [step.title for step in summary.steps] == ["Before you start", "About you"]
    assert {f.value for f in summary.instruments} == {"not asked (under 18)"}
    assert [f.code for f in summary.flags] == ["AGE_UNDER_18"]


def test_urgent_page_one_lists_flags_by_tier(tmp_path):
    pdf, score = build(urgent())
    first = flat(extract(pdf, tmp_path, "-f", "1", "-l", "1"))
    assert "Routing: URGENT — contact the patient the same day" in first
    positions = [first.index(flag["title"]) for flag in score["flags"]]
    assert positions == sorted(positions)
    assert first.index("URGENT Thoughts of death") < first.index("HOLD Blood pressure")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_each_case_prints_its_header_flags_and_every_unanswered_item(case, tmp_path):
    data = load_case(case)
    pdf, score = build(data["answers"], data["submitted_on"])
    page_text = flat(extract(pdf, tmp_path))

    assert CLINIC in page_text
    assert flat(DISCLAIMER) in page_text
    assert f"Routing: {score['routing']}" in page_text
    assert score["routing"] == data["expected"]["routing"]
    for flag in score["flags"]:
        assert flat(flag["title"]) in page_text
        assert flat(flag["source"]) in page_text
        assert flag["tier"].upper() in page_text
    assert standalone_dashes(pdf, tmp_path) == unanswered_shown(data["answers"],
                                                                data["submitted_on"])


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_no_forbidden_phrase_in_any_case(case, tmp_path):
    data = load_case(case)
    pdf, _ = build(data["answers"], data["submitted_on"])
    page_text = flat(extract(pdf, tmp_path)).lower()
    assert [p for p in scoring.FORBIDDEN_PHRASES if p in page_text] == []


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_every_page_is_numbered_referenced_and_confidential(case):
    data = load_case(case)
    pdf, _ = build(data["answers"], data["submitted_on"])
    pages = PdfReader(io.BytesIO(pdf)).pages
    for number, page in enumerate(pages, start=1):
        page_text = page.extract_text()
        assert f"Page {number} of {len(pages)}" in page_text
        assert REFERENCE in page_text
        assert "Confidential — contains protected health information" in page_text
    last = pages[-1].extract_text()
    assert f"Questionnaire {QUESTIONNAIRE_VERSION}" in last
    assert "Rules 2025.1" in last and "Generated 2025-06-02 09:05 (UTC−04:00)" in last
    assert "Generated " not in pages[0].extract_text() or len(pages) == 1


def test_metadata_names_the_reference_never_the_patient():
    pdf, _ = build(p01())
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata.title == f"Intake summary {REFERENCE}"
    for value in metadata.values():
        assert "Maria" not in str(value) and "Alvarez" not in str(value)


def test_page_one_shows_the_patient_and_submission_in_clinic_time(tmp_path):
    pdf, _ = build(p01())
    first = flat(extract(pdf, tmp_path, "-f", "1", "-l", "1"))
    for expected in ("Maria Alvarez", "1980-03-15", "45", "Female", "(305) 555-0100", REFERENCE,
                     "2025-06-01 14:32 (UTC−04:00)", "Indicators", "Questionnaire scores"):
        assert expected in first
    assert "in the range the 2009 outpatient trial enrolled [K4]" in first
    assert "+13055550100" not in extract(pdf, tmp_path), "a person reads the national format"
    assert "8/8 self-reported symptoms — the examination signs are not included" in first


@pytest.mark.parametrize("first_name,last_name", NAMES)
def test_accented_greek_and_cyrillic_names_render_as_text(first_name, last_name, tmp_path):
    pdf, _ = build({**p01(), "first_name": first_name, "last_name": last_name})
    assert f"{first_name} {last_name}" in extract(pdf, tmp_path)
    assert f"{first_name} {last_name}" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_injection_payloads_print_literally_and_add_no_link_or_image(tmp_path):
    answers = {
        **p01(),
        "first_name": PDF_PAYLOADS[0], "last_name": PDF_PAYLOADS[7],
        "other_dx_suggested": PDF_PAYLOADS[4], "inciting_event": "other",
        "inciting_event_other": PDF_PAYLOADS[5],
        "comments": "\n".join(PDF_PAYLOADS), "allergies": PDF_PAYLOADS[6],
        "medications_list": " ".join(PDF_PAYLOADS),
    }
    pdf, _ = build(answers)
    page_text = flat(extract(pdf, tmp_path))
    for payload in PDF_PAYLOADS:
        assert flat(payload) in page_text

    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert "/Annots" not in page
        xobjects = page["/Resources"].get("/XObject", {})
        assert [n for n, x in xobjects.items() if x.get_object()["/Subtype"] == "/Image"] == []
    assert b"/URI" not in pdf and b"/JavaScript" not in pdf
    assert not re.search(rb"/Subtype\s*/Image", pdf)


def test_escaping_happens_in_one_function():
    assert text('a<b & "c"\nd') == 'a&lt;b &amp; "c"<br/>d'


@pytest.mark.parametrize("long_text", [
    ("lorem ipsum dolor " * 1200)[:20_000],
    "x" * 20_000,
    "\n".join(["ok"] * 4_999 + ["the last line"]),
], ids=["20000 characters", "one 20000-character word", "5000 lines"])
def test_long_answers_flow_across_pages(long_text, tmp_path):
    answers = {**p01(), "comments": long_text, "medications_list": long_text,
               "allergies": long_text}
    pdf, _ = build(answers)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 8
    page_text = flat(extract(pdf, tmp_path))
    assert flat(long_text)[-12:] in page_text
    printed = len(page_text.replace(" ", ""))
    assert printed > 3 * len(long_text.replace(" ", "").replace("\n", ""))


def test_switched_off_and_incomplete_instruments_say_so(tmp_path):
    policy = policy_from_config({"DAST10_ENABLED": False, "STOP_BANG_ENABLED": True})
    answers = {k: v for k, v in p01().items() if k != "gad7_3"}
    pdf, score = build(answers, policy=policy)
    page_text = flat(extract(pdf, tmp_path))
    assert score["instruments"]["dast10"] == {"total": None, "administered": False}
    instruments = page_text.split("Questionnaire scores")[1].split("Pain")[0]
    assert "PHQ-9 GAD-7 AUDIT-C DAST-10 STOP-Bang" in instruments
    assert "8/27 · mild incomplete — not scored" in instruments
    assert "not administered" in instruments


def test_each_flag_prints_the_rule_that_raised_it_as_the_clinic_set_it(tmp_path):
    answers = {**p01(), "bp_systolic": 175}
    pdf, score = build(answers, policy=Policy(bp_systolic_hold=170))
    assert "BP_UNCONTROLLED" in [flag["code"] for flag in score["flags"]]
    page_text = flat(extract(pdf, tmp_path))
    assert ("Rule: Top blood pressure number (bp_systolic) 170 or more; or bottom blood "
            "pressure number (bp_diastolic) 100 or more; or high blood pressure (htn) yes and "
            "well controlled (htn_controlled) no") in page_text
    default_pdf, _ = build(answers)
    assert "Rule: Top blood pressure number (bp_systolic) 170" not in flat(
        extract(default_pdf, tmp_path))


def test_spanish_answers_and_staff_actions_are_shown(tmp_path):
    action = StaffAction("Dr Ana Chen", dt.datetime(2025, 6, 2, 13, 5, tzinfo=dt.UTC),
                         "Status: contacted", "Called <b>the patient</b>; safe")
    pdf, _ = build(p01(), language="es", actions=[action])
    page_text = flat(extract(pdf, tmp_path))
    assert "Answered in Spanish" in page_text
    staff = page_text.split("Staff actions")[-1]
    for expected in ("Dr Ana Chen", "2025-06-02 09:05 (UTC−04:00)", "Status: contacted",
                     "Called <b>the patient</b>; safe"):
        assert expected in staff


def test_body_map_shades_the_painful_regions(tmp_path):
    pdf, _ = build(p01())
    assert p01()["pain_regions"] == ["r_hand"]
    for number, page in enumerate(words(pdf, tmp_path), start=1):  # noqa: B007 - used below
        front = [w for w in page if w[4] == "Front"]
        back = [w for w in page if w[4] == "Back" and front and abs(w[1] - front[0][1]) < 1]
        if front and back:
            break
    else:
        pytest.fail("no page shows the body map's Front and Back captions")
    # The captions sit at known points of the map, which fixes its scale and position.
    captions = {c.text: c for c in bodymap.CAPTIONS if c.kind == "view"}
    centre = [((w[0] + w[2]) / 2, (w[1] + w[3]) / 2) for w in (front[0], back[0])]
    scale = (centre[1][0] - centre[0][0]) / (captions["Back"].x - captions["Front"].x)

    def on_page(region: str) -> tuple[float, float]:
        points = bodymap.REGION_SHAPES[region][0].points
        x = sum(p[0] for p in points) / len(points)
        y = sum(p[1] for p in points) / len(points)
        return (centre[0][0] + (x - captions["Front"].x) * scale,
                centre[0][1] + (y - captions["Front"].y) * scale)

    path = tmp_path / "summary.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(number), "-l", str(number),
                    str(path), str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")

    def colour(region: str) -> tuple[int, int, int]:
        x, y = on_page(region)
        return image.getpixel((round(x * 60 / 72), round(y * 60 / 72)))

    selected, unselected = colour("r_hand"), colour("l_hand")
    assert selected != unselected
    assert selected[0] - selected[1] > 60, selected  # the red shading
    assert min(unselected) > 200, unselected  # the pale fill


def test_a_missing_font_names_the_debian_package(tmp_path):
    with pytest.raises(FontMissing, match="fonts-dejavu-core"):
        find_fonts(str(tmp_path))


@pytest.mark.cli
def test_score_command_prints_the_score_and_writes_the_pdf(tmp_path):
    case = DATA / "cases" / "P01.json"
    out = tmp_path / "out.pdf"
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "intake", "score", str(case), "--pdf", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == scoring.score_file(load_case(case))
    page_text = flat(extract(out.read_bytes(), tmp_path))
    assert "not stored" in page_text and "Maria Alvarez" in page_text

    bad = tmp_path / "bad.json"
    bad.write_text('{"submitted_on": "2025-06-01", "answers": {"shoe_size": 9}}')
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "intake", "score", str(bad)],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.strip() == "error: shoe_size: unknown item id"



def submit_p01(patient_client, clock) -> str:
    clock("2025-06-01")
    assert patient_client.walk(load_case(CASES[0])["answers"]) == "/intake/done"
    page = patient_client.get("/intake/done").get_data(as_text=True)
    code = r'<span class="reference-code">([A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3})</span>'
    return re.search(code, page).group(1)


def test_pdf_command_writes_a_stored_submissions_pdf(app, runner, patient_client, clock,
                                                     tmp_path):
    reference = submit_p01(patient_client, clock)
    out = tmp_path / "summary.pdf"
    result = runner.invoke(args=["pdf", reference.lower(), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    reader = PdfReader(out)
    assert reader.metadata.title == f"Intake summary {reference}"
    first_page = reader.pages[0].extract_text()
    assert "Maria Alvarez" in first_page and "REVIEW-NO-FLAGS" in first_page
    missing = runner.invoke(args=["pdf", "AAA-AAA-AAA", "-o", str(tmp_path / "x.pdf")])
    assert missing.exit_code == 1 and "no submitted intake" in missing.output


def test_rescore_keeps_the_old_score_and_the_pdf_says_so(app, runner, patient_client, clock,
                                                         tmp_path):
    reference = submit_p01(patient_client, clock)
    assert runner.invoke(args=["rescore"]).output.startswith("Rescored 0 submission(s)")
    app.config["STOP_BANG_ENABLED"] = False
    clock("2025-06-03", "09:30")
    result = runner.invoke(args=["rescore", "--since", "2025-06-01"])
    assert result.exit_code == 0 and "Rescored 1 submission(s)" in result.output
    with app.app_context():
        submission = db.session.query(Submission).one()
        assert submission.score["instruments"]["stop_bang"] == {"total": None,
                                                                "administered": False}
        assert submission.score_history[0]["score"]["instruments"]["stop_bang"]["total"] == 1
        assert submission.rules_version != submission.score_history[0]["rules_version"]
        assert submission.score_history[0]["replaced_at"] == "2025-06-03T13:30:00+00:00"
    out = tmp_path / "rescored.pdf"
    runner.invoke(args=["pdf", reference, "-o", str(out)])
    words = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "rescored under rules" in " ".join(words.split())
    assert "routing was REVIEW-NO-FLAGS" in " ".join(words.split())
    assert "Generated 2025-06-03 09:30 (UTC−04:00)" in words  # on the clinic's clock


def test_each_benefit_answer_names_its_treatment(tmp_path):
    pdf, _ = build(p01())
    words = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
                     .split())
    assert "How much did physical therapy help?" in words
    assert "How much did gabapentin or pregabalin help?" in words


def case_answers(case: str) -> tuple[dict, str]:
    data = load_case(DATA / "cases" / f"{case}.json")
    return data["answers"], data["submitted_on"]


def test_page_one_reads_flags_then_at_a_glance_then_results_with_their_source_tags(tmp_path):
    pdf, _ = build(p01())
    first = flat(extract(pdf, tmp_path, "-f", "1", "-l", "1"))
    order = ["Flags", "At a glance", "Indicators (self-reported)", "Questionnaire scores"]
    assert [first.index(heading) for heading in order] == sorted(
        first.index(heading) for heading in order)
    for line in ("Pain, where and since Right hand; since 2022-09 (33 months)",
                 "Average pain, last week 7/10",
                 "Blood pressure —; high blood pressure: No",
                 "Heart, stroke, seizures none reported",
                 "Pregnancy, breastfeeding pregnant: No; breastfeeding: No",
                 "Weight, BMI 66 kg; BMI 24.2", "Ketamine before No"):
        assert line in first, line
    glance = first[first.index("At a glance"):first.index("Indicators (self-reported)")]
    assert len(INTAKE_GLANCE_LABELS) <= 10
    assert [label for label in INTAKE_GLANCE_LABELS if label in glance] == INTAKE_GLANCE_LABELS
    # Results carry their tags only; the rules and the sources in full close the document.
    assert "Rule:" not in first and "Schwartzman" not in first and "[I1] [K4]" in first
    assert "✓" not in extract(pdf, tmp_path)
    closing = flat(extract(pdf, tmp_path))
    closing = closing[closing.index("How each result is computed"):]
    assert "Average pain in the past week (0-10) Rule: " in closing
    for tag in ("B1", "B3", "C1", "C2", "K4", "I1", "I4", "I12"):
        assert f"[{tag}] {scoring.CITATIONS[tag]}" in closing, tag


INTAKE_GLANCE_LABELS = ["Pain, where and since", "Average pain, last week", "Blood pressure",
                        "Heart, stroke, seizures", "Medicines", "Allergies",
                        "Pregnancy, breastfeeding", "Escort home", "Weight, BMI",
                        "Ketamine before"]


def test_the_2009_trial_is_context_in_the_words_of_the_spec(tmp_path):
    pdf, _ = build(p01())
    first = flat(extract(pdf, tmp_path, "-f", "1", "-l", "1"))
    assert ("4 of 4 are in the range the 2009 outpatient trial enrolled [K4]. That trial also "
            "required CRPS found on examination and at least three treatments that had failed. "
            "Context for the physician, not a decision about treatment.") in first
    assert "7 · in the range the 2009 outpatient trial enrolled [K4]" in first
    assert "entry criterion" not in first


def test_a_hold_flag_names_what_it_outranks_and_item_9_shows_now_and_earlier(tmp_path):
    """P12: the psychosis hold keeps the schizophrenia diagnosis on page 1, the cardiac hold
    the heart attack; item 9 answered 0 now after a 1 earlier shows both."""
    answers, submitted_on = case_answers("P12")
    pdf, score = build(answers, submitted_on)
    first = flat(extract(pdf, tmp_path, "-f", "1", "-l", "1"))
    assert ("Also reported: Has a doctor ever told you that you have: Schizophrenia"
            in first)
    assert "Also reported: Have you ever had a heart attack? Yes" in first
    assert ("PHQ-9: Thoughts that you would be better off dead or of hurting yourself in some "
            "way: now: Not at all (0); earlier in this questionnaire: Several days (1)") in first
    # Presentation only: the review flags stay out of the score.
    assert {"PSYCH_HISTORY", "CARDIAC"}.isdisjoint(f["code"] for f in score["flags"])


def test_under_18_what_was_never_shown_reads_not_asked(tmp_path):
    answers, submitted_on = case_answers("P09")
    pdf, _ = build(answers, submitted_on)
    text = flat(extract(pdf, tmp_path))
    assert "not answered" not in text
    first = flat(extract(pdf, tmp_path, "-f", "1", "-l", "1"))
    for line in ("Average pain, last week not asked (under 18)",
                 "Blood pressure not asked (under 18)", "Escort home not asked (under 18)",
                 "Average pain in the past week (0-10) not asked "
                 "(under 18)"):
        assert line in first, line


#: Where the page footer begins, in pdftotext's coordinates (points from the top).
FOOTER_TOP = 792 - 15 * 72 / 25.4


def page_last_lines(pdf: bytes, tmp_path: Path) -> list[str]:
    """The last line of text above the footer on each page but the last."""
    lines = []
    for page in words(pdf, tmp_path)[:-1]:
        body = [w for w in page if w[3] < FOOTER_TOP]
        bottom = max(w[3] for w in body)
        lines.append(" ".join(w[4] for w in sorted(body, key=lambda w: w[0])
                              if abs(w[3] - bottom) < 2))
    return lines


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_no_heading_is_left_alone_at_a_page_foot(path, tmp_path):
    data = load_case(path)
    pdf, _ = build(data["answers"], data["submitted_on"])
    summary = summary_of(data["answers"], data["submitted_on"])
    headings = {"Flags", "At a glance", "Indicators (self-reported)", "Questionnaire scores",
                "Pain", "Treatments tried, with benefit", "Ketamine before",
                "Medicines and allergies", "All answers, by step", "Staff actions",
                "How each result is computed", "Sources",
                *(step.title for step in summary.steps)}
    for number, line in enumerate(page_last_lines(pdf, tmp_path), start=1):
        assert line not in headings and not line.startswith("Flags ("), (
            f"page {number} ends with the heading {line!r}")


def test_a_flag_card_is_never_split_across_pages(tmp_path):
    """Each card's title and its source line are on one page, whatever the flags."""
    answers, submitted_on = case_answers("P12")
    # These medicines add flags enough that, split, a card would straddle pages 1 and 2.
    long_answers = {**answers, "allergies": "penicillin: hives\n" * 400,
                    "med_classes": ["benzodiazepine", "opioid", "lamotrigine", "maoi_14d"]}
    pdf, score = build(long_answers, submitted_on)
    pages = [flat(extract(pdf, tmp_path, "-f", str(n), "-l", str(n)))
             for n in range(1, len(PdfReader(io.BytesIO(pdf)).pages) + 1)]
    for flag in score["flags"]:
        holding = [n for n, text in enumerate(pages) if flag["title"] in text]
        assert holding, flag["code"]
        after = pages[holding[0]][pages[holding[0]].index(flag["title"]):]
        assert "Source: [" in after or "Source: clinic" in after, flag["code"]
    first = pages[0] + pages[1]
    assert "other: penicillin: hives… (in full below)" in first
