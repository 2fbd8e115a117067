"""The exports, read back as a spreadsheet, a program and a FHIR server would read them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets
import sqlite3
import subprocess
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from helpers import (
    CASES,
    CLINIC_ZONE,
    DATA,
    Patient,
    csrf_token,
    load_case,
    pdf_text,
    staff_export,
)
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select, update

from intake import clinic, scoring
from intake import questionnaire as q
from intake.models import AuditEvent, Submission, SubmissionEvent, db, utcnow
from intake.questionnaire.followup import FOLLOWUP
from intake.reports import export as export_module
from intake.reports.export import COURSE_DRAFTS, FORMATS, Export, ExportFilter, neutralise

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
#: security.md, "Spreadsheet injection", and an XSS payload for good measure.
PAYLOADS = {
    "other_dx_suggested": "=1+1",
    "referring_physician": '=HYPERLINK("http://x","y")',
    "insurance_provider": "+1",
    "inciting_event_other": "-1+2",
    "opioid_details": "@SUM(1)",
    "comments": "\t=1",
    "allergies": "\r=1",
    "medications_list": "<script>alert(1)</script>",
}
#: What a form never stores (it trims text and refuses control characters), as data
#: imported some other way might hold it: the neutraliser must still catch it.
RAW_PAYLOADS = {"comments": "\t=1", "allergies": "\r=1"}
FIXED_COLUMNS = ["reference", "status", "language", "started_at", "submitted_at",
                 "submitted_at_local", "questionnaire_version", "rules_version", "routing",
                 "flag_codes"]
BAND_COLUMNS = ["phq9_band", "gad7_band", "dast10_band", "stop_bang_band", "audit_c_positive",
                "stop_bang_partial"]
ITEM_IDS = [item["id"] for item in json.loads((DATA / "items.json").read_text())["items"]]
OFFSET = re.compile(r"T\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def submit(patient_client, clock, answers: dict[str, Any], day: str = "2025-06-01") -> str:
    """Walk the patient flow with these answers; return the stored reference."""
    clock(day)
    assert patient_client.walk(answers) in ("/intake/done", "/intake/adults-only")
    with patient_client.client.application.app_context():
        return db.session.scalar(select(Submission.reference).order_by(Submission.id.desc()))


FOLLOWUP_CASES = sorted((DATA / "followup").glob("F*.json"))
FOLLOWUP_LINK = re.compile(r'<textarea id="followup-link"[^>]*>([^<]+)</textarea>')


def posted(client, page_url: str, action: str, data: dict[str, Any]):
    """Post a form of a staff page, with the page's CSRF token."""
    token = csrf_token(client.get(page_url).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def patient_of(app, reference: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Submission.patient_id)
                                 .where(Submission.reference == reference))


def followup_sent(app, staff, clock, patient_id: int, answers: dict[str, Any], day: str,
                  dob: str = "1980-03-15", infused_on: str | None = None) -> str:
    """The patient answers a follow-up on ``day`` from the link staff made on their page
    (an infusion recorded first when given); its reference."""
    clock(day)
    page = f"/staff/patients/{patient_id}"
    if infused_on:
        assert posted(staff, page, f"{page}/infusions",
                      {"given_on": infused_on, "kind": "series"}).status_code == 302
    shown = posted(staff, page, f"{page}/followup", {}).get_data(as_text=True)
    link = FOLLOWUP_LINK.search(shown).group(1).replace("http://localhost", "")
    patient = Patient(app.test_client())
    year, month, date = dob.split("-")
    opened = patient.post(link, data={"dob-month": month, "dob-day": date, "dob-year": year})
    assert opened.status_code == 302, opened.get_data(as_text=True)
    assert patient.walk(answers, url=opened.location) == "/intake/done"
    with app.app_context():
        return db.session.scalar(select(Submission.reference).where(
            Submission.questionnaire == FOLLOWUP.key).order_by(Submission.id.desc()))


def submit_profiles(patient_client, clock) -> list[str]:
    """Every public case, submitted on its own date."""
    return [submit(patient_client, clock, case["answers"], case["submitted_on"])
            for case in map(load_case, CASES)]


def export(runner, tmp_path: Path, export_format: str, *options: str) -> Path:
    out = tmp_path / f"export-{secrets.token_hex(4)}{FORMATS[export_format].extension}"
    result = runner.invoke(args=["export", "--format", export_format, *options, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    return out


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def stored_submissions(app) -> list[Submission]:
    with app.app_context():
        rows = db.session.scalars(select(Submission).order_by(Submission.id)).all()
        db.session.expunge_all()
        return rows


def audit_rows(app, action: str = "export") -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def expected_header(score: dict[str, Any]) -> list[str]:
    """contract.md's column list, built from a real score output and items.json."""
    return (FIXED_COLUMNS + [f"ind_{key}" for key in score["indicators"]]
            + [f"{key}_total" for key in score["instruments"]] + BAND_COLUMNS + ITEM_IDS)


# --- the neutraliser ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+13055550100", "-1+2", "@SUM(1)", "\t=1", "\r=1",
                                  "\0=1"])
def test_a_cell_that_could_start_a_formula_gets_a_leading_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Maria", "1980-03-15", "<script>alert(1)</script>", "",
                                  "a=1", " =1", "'=1"])
def test_other_cells_are_left_alone(text):
    assert neutralise(text) == text


# --- each format, for the public profiles ----------------------------------------------


def test_excel_csv_has_a_bom_crlf_the_contract_columns_and_no_live_cell(
        app, runner, patient_client, clock, tmp_path):
    references = submit_profiles(patient_client, clock)
    out = export(runner, tmp_path, "excel-csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == len(CASES) + 1  # a line break inside a cell stays LF
    header, *rows = read_csv(out, "utf-8-sig")
    assert header == expected_header(stored_submissions(app)[0].score)
    assert [row[0] for row in rows] == references
    for row in [header, *rows]:
        for cell in row:
            assert not cell.startswith(TRIGGERS), repr(cell)
    p01 = dict(zip(header, rows[0], strict=True))
    assert p01["phone"] == "'+13055550100"
    assert p01["routing"] == "REVIEW-NO-FLAGS" and p01["pain_regions"] == "r_hand"
    assert p01["treatments_tried"] == ("pt;ot_gmi;gabapentinoid;tca_snri;oral_steroid;"
                                       "sympathetic_block")
    assert OFFSET.search(p01["submitted_at"]) and p01["submitted_at_local"].endswith("-04:00")
    assert p01["submitted_at_local"].startswith("2025-06-01T10:00")


def test_csv_round_trips_the_stored_values(app, runner, patient_client, clock, tmp_path):
    submit_profiles(patient_client, clock)
    out = export(runner, tmp_path, "csv")
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    header, *rows = read_csv(out)
    submissions = stored_submissions(app)
    assert len(rows) == len(submissions) == len(CASES)
    for row, submission in zip(rows, submissions, strict=True):
        values = dict(zip(header, row, strict=True))
        for item_id in ITEM_IDS:
            answer = submission.answers.get(item_id)
            if isinstance(answer, list):
                assert values[item_id].split(";") == answer
            elif isinstance(answer, bool):
                assert values[item_id] == "true"
            else:
                assert values[item_id] == ("" if answer is None else str(answer)), item_id
        score = submission.score
        assert values["flag_codes"] == ";".join(f["code"] for f in score["flags"])
        assert values["ind_peg"] == str(score["indicators"]["peg"] or "")
        assert values["phq9_total"] == str(score["instruments"]["phq9"]["total"] or "")
    assert "medications_list" in header
    p01 = dict(zip(header, rows[0], strict=True))
    assert p01["phone"] == "+13055550100"
    assert p01["medications_list"] == ("gabapentin 600 mg three times a day\n"
                                       "amitriptyline 25 mg at night")


def assert_text_stays_text(sheet: Worksheet) -> None:
    """No formula; text as it was typed, a formula-like start kept text by the quote
    prefix (Excel and LibreOffice keep such a cell text when it is edited)."""
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str) and cell.value.startswith(TRIGGERS):
                assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate


def test_xlsx_holds_numbers_and_text_never_a_formula(app, runner, patient_client, clock,
                                                     tmp_path):
    submit_profiles(patient_client, clock)
    workbook = openpyxl.load_workbook(export(runner, tmp_path, "xlsx"))
    assert workbook.sheetnames == ["submissions", "dictionary"]
    sheet = workbook["submissions"]
    header = [cell.value for cell in sheet[1]]
    assert header == expected_header(stored_submissions(app)[0].score)
    assert sheet.max_row == len(CASES) + 1
    for book_sheet in workbook:
        assert_text_stays_text(book_sheet)
        # The header row is a filter and each column as wide as its header (10 to 30).
        assert book_sheet.auto_filter.ref.startswith("A1:")
        assert 10 <= book_sheet.column_dimensions["B"].width <= 31
    p01 = dict(zip(header, (cell.value for cell in sheet[2]), strict=True))
    phone = sheet.cell(2, header.index("phone") + 1)
    assert phone.value == "+13055550100" and phone.data_type == "s" and phone.quotePrefix
    assert p01["phq9_total"] == 8 and p01["ind_peg"] == 7.3 and p01["height_cm"] == 165
    assert p01["consent_data_use"] == "true"
    dictionary_ids = [row[0].value for row in workbook["dictionary"].iter_rows(min_row=2)]
    assert set(ITEM_IDS) <= set(dictionary_ids)


def test_fhir_bundle_validates_and_maps_each_item_type(app, runner, patient_client, clock,
                                                       tmp_path):
    references = submit_profiles(patient_client, clock)
    data = json.loads(export(runner, tmp_path, "fhir").read_text(encoding="utf-8"))
    bundle = Bundle.model_validate(data)
    base = app.config["FHIR_BASE_URL"]
    responses = [entry["resource"] for entry in data["entry"]
                 if entry["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert bundle.type == "collection" and len(responses) == len(CASES)
    assert [r["id"] for r in responses] == references
    for response in responses:
        assert response["resourceType"] == "QuestionnaireResponse"
        assert response["questionnaire"] == f"{base}/Questionnaire/intake|2025.1"
        assert response["status"] == "completed" and OFFSET.search(response["authored"])
        for group in response["item"]:
            assert group["linkId"] in q.STEP_BY_SLUG
            assert all(answer["linkId"] in q.ITEMS for answer in group["item"])
    answers = {item["linkId"]: item["answer"]
               for group in responses[0]["item"] for item in group["item"]}
    assert answers["consent_data_use"] == [{"valueBoolean": True}]
    assert answers["dob"] == [{"valueDate": "1980-03-15"}]
    assert answers["onset"] == [{"valueDate": "2022-09"}]
    assert answers["nrs_avg_week"] == [{"valueInteger": 7}]
    assert answers["phq9_3"] == [{"valueInteger": 2}]
    assert answers["height_cm"] == [{"valueDecimal": 165}]
    assert answers["first_name"] == [{"valueString": "Maria"}]
    assert answers["sex_at_birth"] == [{"valueCoding": {
        "system": f"{base}/CodeSystem/sex_at_birth", "code": "female", "display": "Female"}}]
    assert [a["valueCoding"]["code"] for a in answers["treatments_tried"]] == [
        "pt", "ot_gmi", "gabapentinoid", "tca_snri", "oral_steroid", "sympathetic_block"]


def expected_enable_when(rule: Any) -> int | None:
    """How many enableWhen entries a rule needs; None where only FHIRPath can say it."""
    if isinstance(rule, (q.Equals, q.Ticked)):
        return 1
    if isinstance(rule, q.NotEquals):
        return 2  # exists, and !=: FHIR's != alone holds for an unanswered question
    if isinstance(rule, q.OneOf):
        return len(rule.values)
    if isinstance(rule, q.AtLeast):
        return len(rule.item_ids)
    return None


def walk_items(items: list[dict[str, Any]]):
    for item in items:
        yield item
        yield from walk_items(item.get("item", []))


def test_the_pregnancy_age_a_clinic_sets_moves_the_step_in_every_output(app, runner, tmp_path):
    """The FHIR expression and the data dictionary say the age the clinic chose."""
    app.config["PREGNANCY_MAX_AGE"] = 60
    data = json.loads(export(runner, tmp_path, "fhir-questionnaire").read_text())
    pregnancy = next(group for group in data["item"] if group["linkId"] == "pregnancy")
    assert "today() - 61 years" in pregnancy["extension"][0]["valueExpression"]["expression"]
    rows = read_csv(export(runner, tmp_path, "dictionary"))
    assert next(row for row in rows if row[0] == "pregnant")[-1].endswith("and age <= 60")


def test_fhir_questionnaire_validates_and_follows_the_definition(app, runner, tmp_path):
    data = json.loads(export(runner, tmp_path, "fhir-questionnaire").read_text())
    Questionnaire.model_validate(data)
    base = app.config["FHIR_BASE_URL"]
    assert data["url"] == f"{base}/Questionnaire/intake" and data["version"] == "2025.1"
    assert data["status"] == "active"
    assert [group["linkId"] for group in data["item"]] == [step.slug for step in q.STEPS]
    items = {item["linkId"]: item for item in walk_items(data["item"])}
    assert set(items) == set(q.ITEMS) | set(q.STEP_BY_SLUG)
    expression_url = ("http://hl7.org/fhir/uv/sdc/StructureDefinition/"
                      "sdc-questionnaire-enableWhenExpression")

    def expression(entry: dict[str, Any]) -> str | None:
        found = [e["valueExpression"]["expression"] for e in entry.get("extension", [])
                 if e["url"] == expression_url]
        return found[0] if found else None

    total = 0
    for item in q.ITEMS.values():
        entry = items[item.id]
        expected = expected_enable_when(item.shown_when)
        assert len(entry.get("enableWhen", [])) == (expected or 0), item.id
        total += expected or 0
        if expected and expected > 1:
            assert entry["enableBehavior"] == (
                "any" if isinstance(item.shown_when, (q.OneOf, q.AtLeast)) else "all")
        if item.shown_when is not None and expected is None:
            assert "today() - 56 years" in expression(entry), item.id
        else:
            assert expression(entry) is None, item.id
        assert entry.get("required", False) == item.required
        assert entry.get("repeats", False) == (item.type == "multi")
    assert sum(len(i.get("enableWhen", [])) for i in items.values()) == total > 40
    adult = "answer.value.all($this <= today() - 18 years)"
    after_about = [s.slug for s in q.STEPS][2:]
    for slug in after_about:
        assert adult in expression(items[slug]), slug
    assert expression(items["about"]) is None and expression(items["consent"]) is None
    assert "code in ('female' | 'intersex' | 'prefer_not')" in expression(items["pregnancy"])
    assert items["auditc_2"]["enableWhen"][1]["operator"] == "!="
    assert items["benefit_scs"]["enableWhen"] == [{
        "question": "treatments_tried", "operator": "=",
        "answerCoding": {"system": f"{base}/CodeSystem/treatments_tried", "code": "scs"}}]


def test_dictionary_covers_every_item_of_items_json(runner, tmp_path):
    header, *rows = read_csv(export(runner, tmp_path, "dictionary"), "utf-8-sig")
    assert header == ["id", "step", "question", "type", "choices", "shown-when"]
    by_id = {row[0]: row for row in rows}
    assert set(ITEM_IDS) <= set(by_id)
    assert by_id["sex_at_birth"][1:5] == ["about", "Sex assigned at birth", "single",
                                          "female=Female;male=Male;intersex=Intersex;"
                                          "prefer_not=I prefer not to say"]
    assert by_id["crps_type"][5] == "clinician_dx_crps = yes"
    assert by_id["pregnant"][5] == "sex_at_birth in [female, intersex, prefer_not] and age <= 55"
    assert by_id["ind_peg"][2] == "PEG (pain, enjoyment, general activity)"
    for row in rows:
        for cell in row:
            assert not cell.startswith(TRIGGERS)


def test_pdf_zip_holds_one_named_pdf_per_submission(app, runner, patient_client, clock,
                                                    tmp_path):
    first = submit(patient_client, clock, load_case(CASES[0])["answers"], "2025-06-01")
    second = submit(patient_client, clock, load_case(CASES[1])["answers"], "2025-06-03")
    with zipfile.ZipFile(export(runner, tmp_path, "pdf-zip")) as archive:
        assert archive.namelist() == [f"intake_{first}_20250601.pdf",
                                      f"intake_{second}_20250603.pdf"]
        assert all(archive.read(name).startswith(b"%PDF-") for name in archive.namelist())
    refused = runner.invoke(args=["export", "--format", "pdf-zip", "--status", "draft",
                                  "-o", str(tmp_path / "drafts.zip")])
    assert refused.exit_code != 0 and "Drafts have no PDF" in refused.output


GENERATED = re.compile(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d \(UTC[^)]*\)")


def pdf_zip(app, processes: int, path: Path) -> tuple[zipfile.ZipFile, int]:
    """A PDF export drawn on that many processes into a file, and this process's peak
    memory while it was made."""
    app.config["EXPORT_PDF_PROCESSES"] = processes
    with app.app_context(), path.open("wb") as out:
        tracemalloc.start()
        try:
            for chunk in Export("pdf-zip", ExportFilter(), app.config, via="cli").chunks():
                out.write(chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return zipfile.ZipFile(path), peak


def test_pdf_zip_on_every_core_holds_the_same_pdfs_in_flat_memory(app, runner, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(export_module, "BATCH", 4)  # rows read a batch at a time: a few
    app.config["ALLOW_DEMO_DATA"] = True
    assert runner.invoke(args=["demo-data", "8", "--seed", "3"]).exit_code == 0
    alone, _ = pdf_zip(app, 1, tmp_path / "alone.zip")
    pooled, small_peak = pdf_zip(app, 2, tmp_path / "pooled.zip")
    assert pooled.namelist() == alone.namelist() and len(alone.namelist()) == 8
    def read(archive: zipfile.ZipFile, name: str) -> str:  # the same but for when
        return GENERATED.sub("", pdf_text(archive.read(name)))  # each was made

    for name in alone.namelist():
        assert read(pooled, name) == read(alone, name), name
    assert runner.invoke(args=["demo-data", "32", "--seed", "4"]).exit_code == 0
    larger, large_peak = pdf_zip(app, 2, tmp_path / "larger.zip")
    assert len(larger.namelist()) == 40 and larger.testzip() is None
    # Four times the PDFs, the same few in flight: memory does not grow with the count.
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


def test_the_readme_lists_the_formats_the_command_and_the_page_offer():
    """The README's export table is the one list of formats the code cannot read for itself."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Exports\n", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| `([a-z-]+)` \|", section, re.MULTILINE) == list(FORMATS)


# --- spreadsheet injection, opened by LibreOffice ------------------------------------------


def libreoffice_sheet(tmp_path: Path, csv_bytes: bytes) -> Worksheet:
    """A CSV's first sheet as LibreOffice headless converts it to xlsx, beside a positive
    control: an un-neutralised ``=1+1`` converted the same way comes back a formula."""
    work = tmp_path / f"lo-{secrets.token_hex(4)}"
    work.mkdir()
    (work / "export.csv").write_bytes(csv_bytes)
    (work / "control.csv").write_text("control\r\n=1+1\r\n", encoding="utf-8")
    profile = (tmp_path / "lo-profile").as_uri()  # private: parallel runs never clash
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation={profile}",
         "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "--outdir", str(work),
         str(work / "export.csv"), str(work / "control.csv")],
        check=True, capture_output=True, timeout=120)
    control = openpyxl.load_workbook(work / "control.xlsx").active["A2"]
    assert control.data_type == "f" or str(control.value).startswith("=")
    return openpyxl.load_workbook(work / "export.xlsx").active


def payload_answers() -> dict[str, Any]:
    answers = dict(load_case(CASES[0])["answers"])
    answers.update(inciting_event="other", med_classes=["opioid"], **PAYLOADS)
    return answers


def test_injection_payloads_arrive_as_text_in_libreoffice_beside_a_live_control(
        app, runner, patient_client, clock, tmp_path):
    reference = submit(patient_client, clock, payload_answers())
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        submission.answers = {**submission.answers, **RAW_PAYLOADS}
        db.session.commit()
        answers = submission.answers
    out = export(runner, tmp_path, "excel-csv")
    header, row = read_csv(out, "utf-8-sig")
    cells = dict(zip(header, row, strict=True))
    assert cells["reference"] == reference
    for item_id in PAYLOADS:
        assert cells[item_id] == neutralise(answers[item_id]), item_id
        assert not cells[item_id].startswith(TRIGGERS)

    sheet = libreoffice_sheet(tmp_path, out.read_bytes())
    header = [cell.value for cell in sheet[1]]
    converted = dict(zip(header, sheet[2], strict=True))
    for converted_row in sheet.iter_rows():
        for cell in converted_row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    for item_id in PAYLOADS:
        cell = converted[item_id]
        # LibreOffice reads a CR inside a cell as a line break.
        expected = neutralise(answers[item_id]).replace("\r", "\n")
        assert cell.data_type == "s" and cell.value == expected, (item_id, cell.value)
    assert converted["phone"].value == "'+13055550100"


# --- filters, drafts and the audit row --------------------------------------------------------


def test_filters_use_clinic_dates_inclusively_and_drafts_only_on_request(
        app, runner, patient_client, clock, tmp_path):
    answers = load_case(CASES[0])["answers"]
    first = submit(patient_client, clock, answers, "2025-06-01")
    second = submit(patient_client, clock, answers, "2025-06-02")
    third = submit(patient_client, clock, answers, "2025-06-03")
    clock("2025-06-03")
    patient_client.walk(answers, submit=False)
    with app.app_context():
        late = dt.datetime(2025, 6, 1, 23, 30, tzinfo=CLINIC_ZONE)
        db.session.execute(update(Submission).where(Submission.reference == first)
                           .values(submitted_at=late))
        db.session.execute(update(Submission).where(Submission.reference == third)
                           .values(status="reviewed"))
        db.session.commit()

    def references(*options: str) -> list[str]:
        return [row[0] for row in read_csv(export(runner, tmp_path, "csv", *options))[1:]]

    assert references() == [first, second, third]
    assert references("--until", "2025-06-01") == [first]  # 03:30 UTC on 2 June
    assert references("--since", "2025-06-02") == [second, third]
    assert references("--since", "2025-06-02", "--until", "2025-06-02") == [second]
    assert references("--since", "0001-01-01", "--until", "9999-12-31") == [first, second, third]
    assert references("--status", "reviewed") == [third]
    assert references("--status", "draft") == []  # a draft staff do not see
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.submitted_at.is_(None))
                           .values(urgent=True))
        db.session.commit()
    drafts = read_csv(export(runner, tmp_path, "csv", "--status", "draft"))
    assert len(drafts) == 2 and drafts[1][1] == "draft" and drafts[1][4] == ""
    bundle = json.loads(export(runner, tmp_path, "fhir", "--status", "draft").read_text())
    assert bundle["entry"][0]["resource"]["status"] == "in-progress"
    Bundle.model_validate(bundle)
    empty = json.loads(export(runner, tmp_path, "fhir", "--since", "2030-01-01").read_text())
    assert "entry" not in empty
    Bundle.model_validate(empty)
    bad = runner.invoke(args=["export", "--format", "csv", "--since", "2025-06-03", "--until",
                              "2025-06-01", "-o", str(tmp_path / "bad.csv")])
    assert bad.exit_code != 0 and "start date is after the end date" in bad.output


def test_every_export_writes_one_audit_row_without_patient_data(
        app, runner, patient_client, clock, tmp_path):
    submit(patient_client, clock, load_case(CASES[0])["answers"])
    before = len(audit_rows(app))
    export(runner, tmp_path, "excel-csv", "--since", "2025-06-01", "--status", "new")
    export(runner, tmp_path, "dictionary")
    rows = audit_rows(app)
    assert len(rows) == before + 2
    assert rows[-2].detail == {"format": "excel-csv", "rows": 1, "via": "cli", "filter": {
        "since": "2025-06-01", "until": None, "status": "new"}}
    assert rows[-2].actor.startswith("os:") and rows[-2].outcome == "ok"
    assert rows[-1].detail["format"] == "dictionary" and rows[-1].detail["rows"] == 0
    for row in rows:
        assert "Maria" not in json.dumps(row.detail) and "Alvarez" not in json.dumps(row.detail)


def test_an_export_stopped_midway_is_audited_as_incomplete(app, patient_client, clock):
    submit(patient_client, clock, load_case(CASES[0])["answers"])
    with app.test_request_context():
        run = Export("csv", ExportFilter(), app.config, via="web")
        chunks = run.chunks()
        next(chunks)
        chunks.close()
    row = audit_rows(app)[-1]
    assert row.outcome == "incomplete" and row.detail["format"] == "csv"


# --- the staff page ---------------------------------------------------------------------------


def test_the_export_page_is_for_physicians_and_admins(app, staff_client, patient_client,
                                                      clock):
    reference = submit(patient_client, clock, load_case(CASES[0])["answers"])
    assert staff_client("staff").get("/staff/export").status_code == 403
    physician = staff_client("physician")
    page = physician.get("/staff/export")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<legend>Format</legend>" in html and 'value="excel-csv"' in html
    response = staff_export(physician, {
        "csrf_token": csrf_token(html), "format": "excel-csv", "since": "2025-06-01",
        "until": "2025-06-01", "status": ""})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r"attachment; filename=intake_export_\d{8}\.csv",
                        response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbfreference,") and reference.encode() in body
    row = audit_rows(app)[-1]
    assert row.actor == physician.email and re.fullmatch(r"job \d+", row.detail["via"])
    assert row.detail["rows"] == 1 and row.detail["filter"]["since"] == "2025-06-01"
    assert [r.actor for r in audit_rows(app, "export_download")] == [physician.email]
    drafts = staff_export(physician, {"csrf_token": csrf_token(html), "format": "excel-csv",
                                      "status": "draft"})
    assert re.fullmatch(r"attachment; filename=intake_export_\d{8}_urgent_drafts\.csv",
                        drafts.headers["Content-Disposition"])
    refused = physician.post("/staff/export", data={
        "csrf_token": csrf_token(html), "format": "pdf-zip", "status": "draft"})
    assert refused.status_code == 200 and "Drafts have no PDF" in refused.get_data(as_text=True)
    reversed_dates = physician.post("/staff/export", data={
        "csrf_token": csrf_token(html), "format": "csv", "since": "2025-06-02",
        "until": "2025-06-01"})
    assert "The start date is after the end date." in reversed_dates.get_data(as_text=True)
    admin = staff_client("admin")
    zipped = staff_export(admin, {
        "csrf_token": csrf_token(admin.get("/staff/export").get_data(as_text=True)),
        "format": "pdf-zip"})
    assert zipped.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.get_data())) as archive:
        assert archive.namelist() == [f"intake_{reference}_20250601.pdf"]


# --- purge-drafts, demo-data, backup ------------------------------------------------------------


def draft_row(name: str, updated_at: dt.datetime, **fields: Any) -> Submission:
    """A draft last saved at ``updated_at``, added to the session (an app context's)."""
    row = Submission(reference=name, draft_key=secrets.token_urlsafe(32),
                     questionnaire_version="2025.1", answers={}, completed_steps=[],
                     updated_at=updated_at, **fields)
    db.session.add(row)
    return row


def test_purge_drafts_keeps_urgent_drafts_no_one_has_acted_on(app, runner):
    with app.app_context():
        old = utcnow() - dt.timedelta(days=61)
        draft_row("AAA-AAA-AA1", old)
        draft_row("AAA-AAA-AA2", old, urgent=True)
        acted = draft_row("AAA-AAA-AA3", old, urgent=True, status="contacted")
        draft_row("AAA-AAA-AA4", utcnow() - dt.timedelta(days=59))
        draft_row("AAA-AAA-AA5", old, submitted_at=old, status="new")
        db.session.flush()
        db.session.add(SubmissionEvent(submission_id=acted.id, kind="status",
                                       from_status="draft", to_status="contacted"))
        db.session.commit()
    result = runner.invoke(args=["purge-drafts"])
    assert result.exit_code == 0 and "Deleted 2 draft(s)" in result.output
    with app.app_context():
        left = db.session.scalars(select(Submission.reference).order_by(Submission.id)).all()
        assert left == ["AAA-AAA-AA2", "AAA-AAA-AA4", "AAA-AAA-AA5"]
    assert audit_rows(app, "purge_drafts")[-1].detail == {"older_than_days": 60, "deleted": 2}
    assert "Deleted 1 draft(s)" in runner.invoke(args=["purge-drafts", "--older-than",
                                                       "30"]).output


def test_purge_drafts_counts_days_on_the_clinic_clock(app, runner, clock):
    with app.app_context():
        draft_row("AAA-AAA-AA1", dt.datetime(2025, 6, 1, 14, tzinfo=dt.UTC))
        db.session.commit()
    clock("2025-07-30")  # 59 days after the last save
    assert "Deleted 0 draft(s)" in runner.invoke(args=["purge-drafts"]).output
    clock("2025-08-01")
    assert "Deleted 1 draft(s)" in runner.invoke(args=["purge-drafts"]).output
    assert [row.at.date() for row in audit_rows(app, "purge_drafts")] == [
        dt.date(2025, 7, 30), dt.date(2025, 8, 1)]


def test_demo_data_is_refused_without_the_flag(app, runner):
    result = runner.invoke(args=["demo-data", "5"])
    assert result.exit_code != 0 and "INTAKE_ALLOW_DEMO_DATA=1" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    assert audit_rows(app, "demo_data")[-1].outcome == "denied"


def test_demo_data_is_fictional_scored_and_spread_over_sixty_days(app, runner):
    app.config["ALLOW_DEMO_DATA"] = True
    result = runner.invoke(args=["demo-data", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        now = utcnow()
    zone = app.config["CLINIC_TIMEZONE"]
    for submission in stored_submissions(app):
        assert submission.is_demo and submission.status == "new"
        assert submission.answers["first_name"] == "Demo"
        assert re.fullmatch(r"Patient \d{5}", submission.answers["last_name"])
        assert submission.last_name_key == submission.answers["last_name"].lower()
        assert now - dt.timedelta(days=60) <= submission.submitted_at <= now
        assert submission.score == scoring.score(submission.answers,
                                                 clinic.day_of(submission.submitted_at, zone))
        assert submission.queue_rank == ("URGENT", "HOLD", "REVIEW-FLAGS",
                                         "REVIEW-NO-FLAGS").index(submission.routing)
    assert audit_rows(app, "demo_data")[-1].detail == {"count": 300}


def test_backup_is_a_private_copy_that_passes_integrity_check(app, runner, patient_client,
                                                             clock, tmp_path):
    reference = submit(patient_client, clock, load_case(CASES[0])["answers"])
    out = tmp_path / "backup.sqlite"
    result = runner.invoke(args=["backup", str(out)])
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "postgresql":
        assert result.exit_code == 1 and "pg_dump" in result.output
        return
    assert result.exit_code == 0 and "integrity_check: ok" in result.output
    assert out.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(out) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("SELECT reference FROM submission").fetchall() == [(reference,)]
    assert runner.invoke(args=["backup", str(out)]).exit_code != 0
    assert audit_rows(app, "backup")[-1].detail == {"integrity_check": "ok"}


# --- memory stays flat ----------------------------------------------------------------------------


def test_a_large_export_streams_in_flat_memory(app, runner, tmp_path):
    app.config["ALLOW_DEMO_DATA"] = True
    assert runner.invoke(args=["demo-data", "20000"]).exit_code == 0
    with app.app_context():
        run = Export("csv", ExportFilter(), app.config, via="cli")
        tracemalloc.start()
        try:
            size = sum(len(chunk) for chunk in run.chunks())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert run.rows == 20000 and size > 20000 * 500
    assert peak < 30 * 2**20, f"peak {peak / 2**20:.1f} MiB for 20 000 rows"


# --- the course, and the follow-up's dictionary and Questionnaire -------------------------------


def a_course(app, patient_client, staff, clock) -> dict[str, str]:
    """Maria's two intakes (the second typing her name in capitals, with less pain) and a
    follow-up a week after an infusion; another patient's intake between them. The
    references by name."""
    p01, p02 = load_case(CASES[0])["answers"], load_case(CASES[1])["answers"]
    sent = {"first": submit(patient_client, clock, p01, "2025-06-01"),
            "other": submit(patient_client, clock, p02, "2025-06-02"),
            "second": submit(patient_client, clock, {**p01, "first_name": "MARÍA",
                                                     "nrs_avg_week": 6}, "2025-07-01")}
    case = load_case(FOLLOWUP_CASES[0])
    sent["followup"] = followup_sent(app, staff, clock, patient_of(app, sent["first"]),
                                     case["answers"], case["submitted_on"],
                                     infused_on=case["last_infusion_on"])
    assert patient_of(app, sent["second"]) == patient_of(app, sent["first"])
    return sent


COURSE_HEADER = ["patient_key", "reference", "questionnaire", "submitted_on", "baseline",
                 "days_since_infusion", "nrs_avg_week", "peg", "phq9_total", "routing", "status"]


def test_the_course_export_opened_in_libreoffice_reads_a_row_per_submission(
        app, runner, patient_client, staff_client, clock, tmp_path):
    sent = a_course(app, patient_client, staff_client("staff", "physician"), clock)
    maria, other = patient_of(app, sent["first"]), patient_of(app, sent["other"])
    second = {s.reference: s for s in stored_submissions(app)}[sent["second"]].score
    out = export(runner, tmp_path, "excel-csv", "--dataset", "course")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    sheet = libreoffice_sheet(tmp_path, out.read_bytes())
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == COURSE_HEADER
    # A patient's rows together, oldest first; the day as a date, the numbers as numbers.
    assert [row[:6] for row in rows[1:]] == [
        [maria, sent["first"], "intake", dt.datetime(2025, 6, 1), "yes", None],
        [maria, sent["second"], "intake", dt.datetime(2025, 7, 1), "no", None],
        [maria, sent["followup"], "followup", dt.datetime(2025, 8, 15), "no", 7],
        [other, sent["other"], "intake", dt.datetime(2025, 6, 2), "yes", None]]
    assert [row[6:9] for row in rows[1:4]] == [
        [7, 7.3, 8], [6, second["indicators"]["peg"], second["instruments"]["phq9"]["total"]],
        [3, 3.3, 2]]
    assert [row[9:] for row in rows[1:3]] == [["REVIEW-NO-FLAGS", "new"]] * 2
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"

    header, *plain = read_csv(export(runner, tmp_path, "csv", "--dataset", "course"))
    assert header == COURSE_HEADER and plain[2][3:9] == ["2025-08-15", "no", "7", "3", "3.3",
                                                         "2"]
    workbook = openpyxl.load_workbook(export(runner, tmp_path, "xlsx", "--dataset", "course"))
    assert workbook.sheetnames == ["course", "dictionary"]
    assert [c.value for c in workbook["course"][4]][5:9] == [7, 3, 3.3, 2]
    assert_text_stays_text(workbook["course"])
    described = {row[0].value: row[2].value for row in workbook["dictionary"].iter_rows(2)}
    assert list(described) == COURSE_HEADER
    assert described["days_since_infusion"] == "Days from the latest infusion to this follow-up"
    # A filter picks the submissions; each keeps its place in its patient's course.
    _, *july = read_csv(export(runner, tmp_path, "csv", "--dataset", "course", "--since",
                               "2025-06-15", "--until", "2025-07-31"))
    assert [row[1] for row in july] == [sent["second"]] and july[0][4] == "no"
    assert audit_rows(app)[-1].detail["filter"] == {
        "since": "2025-06-15", "until": "2025-07-31", "status": None, "dataset": "course"}


@pytest.mark.parametrize(("options", "refusal"), [
    (("--format", "fhir"), "The course is one table: choose the excel-csv, csv, xlsx or "
                           "dictionary format."),
    (("--format", "pdf-zip"), "The course is one table"),
    (("--format", "csv", "--status", "draft"), COURSE_DRAFTS),
])
def test_the_course_is_a_table_of_sent_submissions(runner, tmp_path, options, refusal):
    refused = runner.invoke(args=["export", "--dataset", "course", *options,
                                  "-o", str(tmp_path / "course.out")])
    assert refused.exit_code != 0 and refusal in " ".join(refused.output.split())


def test_the_course_and_the_follow_up_from_the_export_page(app, staff_client, patient_client,
                                                          clock):
    physician = staff_client("staff", "physician")
    sent = a_course(app, patient_client, physician, clock)
    html = physician.get("/staff/export").get_data(as_text=True)
    assert "<legend>What each row is</legend>" in html and 'value="course"' in html
    assert '<option value="followup">' in html

    def asked(**data: str):
        token = csrf_token(physician.get("/staff/export").get_data(as_text=True))
        return staff_export(physician, {"csrf_token": token, **data})

    course = asked(dataset="course", format="xlsx")
    assert re.fullmatch(r"attachment; filename=course_export_\d{8}\.xlsx",
                        course.headers["Content-Disposition"])
    sheet = openpyxl.load_workbook(io.BytesIO(course.get_data()))["course"]
    assert [row[1].value for row in sheet.iter_rows(2)] == [
        sent["first"], sent["second"], sent["followup"], sent["other"]]
    assert [row[4].value for row in sheet.iter_rows(2)] == ["yes", "no", "no", "yes"]
    row = audit_rows(app)[-1]
    assert row.actor == physician.email and row.detail["filter"]["dataset"] == "course"
    job_page = physician.get("/staff/export").get_data(as_text=True)
    assert "The course, Excel workbook (.xlsx)" in job_page
    for refused, words in ((asked(dataset="course", format="fhir"), "The course is one table"),
                           (asked(dataset="course", format="csv", status="draft"),
                            COURSE_DRAFTS)):
        assert refused.status_code == 200 and words in refused.get_data(as_text=True)

    questionnaire = asked(format="fhir-questionnaire", questionnaire="followup")
    assert re.fullmatch(r"attachment; filename=followup_export_\d{8}_questionnaire_fhir\.json",
                        questionnaire.headers["Content-Disposition"])
    assert json.loads(questionnaire.get_data())["url"].endswith("/Questionnaire/followup")
    dictionary = asked(format="dictionary", questionnaire="followup").get_data(as_text=True)
    ids = [row[0] for row in csv.reader(io.StringIO(dictionary.lstrip("\ufeff")))]
    assert set(FOLLOWUP.items) <= set(ids) and "patient_key" in ids


def test_the_follow_ups_dictionary_and_questionnaire_follow_its_definition(app, runner,
                                                                           tmp_path):
    header, *rows = read_csv(export(runner, tmp_path, "dictionary", "--questionnaire",
                                    "followup"), "utf-8-sig")
    by_id = {row[0]: row for row in rows}
    assert [row[0] for row in rows if row[0] in FOLLOWUP.items] == list(FOLLOWUP.items)
    assert by_id["nrs_avg_week"][1] == "fu_pain"  # the intake's item, in the follow-up's step
    assert by_id["side_effects_other"][5] == "other in side_effects"
    assert by_id["out_days_since_infusion"][2:4] == [
        "Days from the latest infusion to this follow-up", "integer"]
    assert "dob" not in by_id and "ind_peg" not in by_id

    data = json.loads(export(runner, tmp_path, "fhir-questionnaire", "--questionnaire",
                             "followup").read_text())
    Questionnaire.model_validate(data)
    base = app.config["FHIR_BASE_URL"]
    assert (data["url"], data["version"]) == (f"{base}/Questionnaire/followup",
                                              FOLLOWUP.version)
    assert [group["linkId"] for group in data["item"]] == [step.slug for step in FOLLOWUP.steps]
    items = {item["linkId"]: item for item in walk_items(data["item"])}
    assert set(items) == set(FOLLOWUP.items) | {step.slug for step in FOLLOWUP.steps}
    assert items["side_effects_other"]["enableWhen"] == [{
        "question": "side_effects", "operator": "=",
        "answerCoding": {"system": f"{base}/CodeSystem/side_effects", "code": "other"}}]
