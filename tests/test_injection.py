"""Every payload in every free-text item, sent through the patient pages, then read back
from the physician's PDF and from every export: shown as typed, never live. The
follow-up's free text goes through every export of the follow-up the same way."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from fhir.resources.R4B.bundle import Bundle
from helpers import load_case, stored
from openpyxl.cell.cell import Cell
from pypdf import PdfReader
from support.payloads import FORMULA_PAYLOADS, LONG_TEXT, carried, groups, submissions, typed
from test_export import (
    FOLLOWUP_CASES,
    TRIGGERS,
    assert_text_stays_text,
    export,
    followup_sent,
    libreoffice_sheet,
    patient_of,
    read_csv,
    submit,
)
from test_pdf import extract, flat

from intake.questionnaire import normalise_text
from intake.questionnaire.followup import FOLLOWUP
from intake.reports.export import neutralise

#: pdftotext's marks around a right-to-left word.
BIDI_MARKS = re.compile("[\u202a-\u202e]")
RIGHT_TO_LEFT_LETTERS = "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]+"
#: A run of right-to-left letters (Hebrew, Arabic).
RIGHT_TO_LEFT = re.compile(RIGHT_TO_LEFT_LETTERS)
#: The same with the punctuation touching it, which a PDF's text may put on either side.
RIGHT_TO_LEFT_WORD = re.compile(rf"[^\w\s]*{RIGHT_TO_LEFT_LETTERS}[^\w\s]*")
#: What the PDF's font draws as a placeholder: beyond the Basic Multilingual Plane, and the
#: joiner inside an emoji sequence.
PLACEHOLDER = re.compile("[\U00010000-\U0010ffff\u200d]+")


@pytest.fixture
def sent(app, patient_client, clock) -> dict[str, dict[str, str]]:
    """The corpora's answer sets, submitted; by reference, the free text each one typed."""
    sent = {}
    for answers in submissions():
        reference = submit(patient_client, clock, answers)
        text = typed(answers)
        kept = stored(app, reference).answers
        assert {item_id: kept.get(item_id) for item_id in text} == text
        sent[reference] = text
    return sent


FOLLOWUP_TEXT = [item for item in FOLLOWUP.items.values()
                 if item.type in ("text", "text_multiline")]


@pytest.fixture
def followups(app, patient_client, staff_client, clock) -> dict[str, dict[str, str]]:
    """One patient's follow-ups, each from a link staff made, that put every payload into
    every free-text item of the follow-up (each payload also starting some answer), then
    the longest text; by reference, the free text each one typed."""
    case = load_case(FOLLOWUP_CASES[0])
    baseline = submit(patient_client, clock, case["baseline"]["answers"],
                      case["baseline"]["submitted_on"])
    clock(case["submitted_on"])  # staff sign in on the day the patient answers
    staff = staff_client("staff", "physician")
    opened = {**case["answers"], "side_effects": ["headache", "other"], "er_visit": "yes",
              "med_changes": "yes"}
    sent = {}
    # The follow-up has few free-text items: a group takes as many follow-ups as it needs
    # for each of its payloads to start an answer.
    for group in [*groups(), [LONG_TEXT]]:
        for first in range(0, len(group), len(FOLLOWUP_TEXT)):
            turns = [(first + n) % len(group) for n in range(len(FOLLOWUP_TEXT))]
            answers = {**opened, **{
                item.id: carried(item, group[turn:] + group[:turn]) or "plain"
                for turn, item in zip(turns, FOLLOWUP_TEXT, strict=True)}}
            reference = followup_sent(app, staff, clock, patient_of(app, baseline), answers,
                                      case["submitted_on"])
            text = {item.id: normalise_text(answers[item.id]) for item in FOLLOWUP_TEXT}
            assert {k: stored(app, reference).answers[k] for k in text} == text
            sent[reference] = text
    return sent


def rows_by_reference(header: list, rows: list[list]) -> dict[str, dict]:
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


# --- the PDF ---------------------------------------------------------------------------


def body_text(pdf: bytes, tmp_path: Path, reference: str, clinic: str) -> str:
    """The PDF's text in drawing order, without page headers and footers, composed,
    whitespace collapsed: a value split by a page break reads whole again.

    Drawing order (pdftotext -raw) keeps a hyphen that ends a line, which the default
    layout mode takes for a word split in two and drops.
    """
    furniture = re.compile(
        rf"{re.escape(clinic)} .* · {reference}"
        r"|Confidential — contains protected health information Page \d+ of \d+"
        rf"|Reference {reference}( Questionnaire .* · Generated .*)?")
    lines = [line for line in extract(pdf, tmp_path, "-raw").splitlines()
             if not furniture.fullmatch(line)]
    return flat(unicodedata.normalize("NFC", BIDI_MARKS.sub("", "\n".join(lines))))


def left_to_right_runs(value: str) -> list[str]:
    """The parts of a value a PDF's text shows unbroken: right-to-left words taken out
    (they come back in visual order), split where a placeholder glyph stands."""
    value = RIGHT_TO_LEFT_WORD.sub(" ", unicodedata.normalize("NFC", value))
    return [flat(run) for run in PLACEHOLDER.split(value) if run.strip()]


def right_to_left_runs(value: str, reverse: bool = False) -> Counter:
    """The runs of right-to-left letters in a text; ``reverse``: as a PDF's text gives them
    back, each in visual order."""
    runs = RIGHT_TO_LEFT.findall(unicodedata.normalize("NFC", value))
    return Counter(run[::-1] if reverse else run for run in runs)


def assert_nothing_live(pdf: bytes) -> None:
    """No link, action or image: the code draws the body map as vectors and nothing else."""
    for page in PdfReader(io.BytesIO(pdf)).pages:
        assert "/Annots" not in page
        xobjects = page["/Resources"].get("/XObject", {})
        assert [n for n, x in xobjects.items() if x.get_object()["/Subtype"] == "/Image"] == []
    # The objects without their stream data: compressed bytes may hold "/URI" by chance.
    objects = re.sub(rb"stream\r?\n.*?endstream", b"", pdf, flags=re.S)
    for marker in (rb"/URI", rb"/JavaScript", rb"/Launch", rb"/Subtype\s*/Image"):
        assert not re.search(marker, objects), marker


def test_the_pdf_prints_every_payload_as_text_and_adds_no_link_or_image(
        app, sent, staff_client, tmp_path):
    physician = staff_client("physician")
    for reference, text in sent.items():
        response = physician.get(f"/staff/submissions/{reference}.pdf")
        assert response.status_code == 200
        pdf = response.get_data()
        assert_nothing_live(pdf)
        body = body_text(pdf, tmp_path, reference, app.config["CLINIC_NAME"])
        printed = flat(RIGHT_TO_LEFT_WORD.sub(" ", body))
        expected = Counter(run for value in text.values() for run in left_to_right_runs(value))
        for run, times in expected.items():
            assert printed.count(run) >= times, (reference, run)
        mirrored = sum((right_to_left_runs(value, reverse=True) for value in text.values()),
                       Counter())
        assert mirrored <= right_to_left_runs(body), reference


def opened_by_libreoffice(tmp_path, data: bytes) -> dict[str, dict[str, Cell]]:
    """An excel-csv file as LibreOffice opens it: its cells by reference, then by column
    name; no cell of it a formula."""
    sheet = libreoffice_sheet(tmp_path, data)
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    return {row[0].value: dict(zip(header, row, strict=True))
            for row in sheet.iter_rows(min_row=2)}


# --- the exports -----------------------------------------------------------------------


def test_excel_csv_neutralises_every_cell_and_libreoffice_reads_no_formula(
        app, runner, sent, tmp_path):
    answers = [value for text in sent.values() for value in text.values()]
    for formula in FORMULA_PAYLOADS:  # first in some cell, where a spreadsheet would run it
        assert any(value.startswith(formula) for value in answers), formula
    out = export(runner, tmp_path, "excel-csv")
    header, *rows = read_csv(out, "utf-8-sig")
    for row in [header, *rows]:
        for cell in row:
            assert not cell.startswith(TRIGGERS), repr(cell)
    cells = rows_by_reference(header, rows)
    for reference, text in sent.items():
        for item_id, value in text.items():
            assert cells[reference][item_id] == neutralise(value), (reference, item_id)

    converted = opened_by_libreoffice(tmp_path, out.read_bytes())
    for reference, text in sent.items():
        for item_id, value in text.items():
            cell = converted[reference][item_id]
            assert cell.data_type == "s" and cell.value == neutralise(value), (reference, item_id)


def test_xlsx_holds_every_payload_as_text_never_a_formula(app, runner, sent, tmp_path):
    sheet = openpyxl.load_workbook(export(runner, tmp_path, "xlsx"))["submissions"]
    assert_text_stays_text(sheet)
    header = [cell.value for cell in sheet[1]]
    cells = rows_by_reference(header, [[c.value for c in row] for row in sheet.iter_rows(2)])
    for reference, text in sent.items():
        for item_id, value in text.items():
            assert cells[reference][item_id] == value, (reference, item_id)


def test_csv_and_fhir_carry_every_payload_exactly(app, runner, sent, tmp_path):
    header, *rows = read_csv(export(runner, tmp_path, "csv"))
    cells = rows_by_reference(header, rows)
    assert set(cells) == set(sent)
    for reference, text in sent.items():
        for item_id, value in text.items():
            assert cells[reference][item_id] == value, (reference, item_id)

    data = json.loads(export(runner, tmp_path, "fhir").read_text(encoding="utf-8"))
    Bundle.model_validate(data)
    responses = [entry["resource"] for entry in data["entry"]
                 if entry["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert len(responses) == len(sent)
    for response in responses:
        answers = {item["linkId"]: item["answer"]
                   for group in response["item"] for item in group["item"]}
        for item_id, value in sent[response["id"]].items():
            assert answers[item_id] == [{"valueString": value}], (response["id"], item_id)


def test_a_follow_ups_payloads_come_out_of_every_export_as_typed_and_never_live(
        app, runner, followups, tmp_path):
    typed_first = [value for text in followups.values() for value in text.values()]
    for formula in FORMULA_PAYLOADS:
        assert any(value.startswith(formula) for value in typed_first), formula
    out = export(runner, tmp_path, "excel-csv", "--questionnaire", "followup")
    header, *rows = read_csv(out, "utf-8-sig")
    for row in [header, *rows]:
        for cell in row:
            assert not cell.startswith(TRIGGERS), repr(cell)
    cells = rows_by_reference(header, rows)
    converted = opened_by_libreoffice(tmp_path, out.read_bytes())
    for reference, text in followups.items():
        for item_id, value in text.items():
            assert cells[reference][item_id] == neutralise(value), (reference, item_id)
            cell = converted[reference][item_id]
            assert cell.data_type == "s" and cell.value == neutralise(value), (reference, item_id)

    workbook = openpyxl.load_workbook(export(runner, tmp_path, "xlsx", "--questionnaire",
                                             "followup"))
    assert_text_stays_text(workbook["submissions"])
    header = [cell.value for cell in workbook["submissions"][1]]
    cells = rows_by_reference(header, [[c.value for c in row]
                                       for row in workbook["submissions"].iter_rows(2)])
    plain_header, *plain_rows = read_csv(export(runner, tmp_path, "csv", "--questionnaire",
                                                "followup"))
    plain = rows_by_reference(plain_header, plain_rows)
    data = json.loads(export(runner, tmp_path, "fhir", "--questionnaire", "followup")
                      .read_text(encoding="utf-8"))
    Bundle.model_validate(data)
    responses = {entry["resource"]["id"]: entry["resource"] for entry in data["entry"]
                 if entry["resource"]["resourceType"] == "QuestionnaireResponse"}
    assert set(cells) == set(plain) == set(responses) == set(followups)
    for reference, text in followups.items():
        answers = {item["linkId"]: item["answer"]
                   for group in responses[reference]["item"] for item in group["item"]}
        for item_id, value in text.items():
            assert cells[reference][item_id] == value, (reference, item_id)
            assert plain[reference][item_id] == value, (reference, item_id)
            assert answers[item_id] == [{"valueString": value}], (reference, item_id)
