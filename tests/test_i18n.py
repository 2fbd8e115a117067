"""Spanish: every patient string translated, the instruments' published wording, /lang."""

from __future__ import annotations

import io
import re
from email import message_from_bytes
from html import unescape
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from helpers import CASES, DATA, csrf_token, load_case, stored
from pypdf import PdfReader

from intake import questionnaire as q
from intake.clinic import COPY

ROOT = Path(__file__).resolve().parent.parent
CATALOG = read_po((ROOT / "intake/translations/es/LC_MESSAGES/messages.po").open("rb"))
P01 = load_case(next(p for p in CASES if p.stem == "P01"))

#: Instruments whose published Spanish version the clinic uses (instruments.md).
PUBLISHED = {"phq9", "gad7"}
#: Instruments without one yet: every text of their items in English, with this note.
ENGLISH_ONLY = {"peg", "audit_c", "dast10", "stop_bang"}
NOTE = "(Solo en inglés: todavía no hay una versión validada en español.)"
#: Texts that are written the same in Spanish (a word, a unit, a format).
SAME_IN_SPANISH = {"No", "Error:", "Hepatitis", "%(value)s cm", "%(value)s kg",
                   "0 = %(low)s, 10 = %(high)s"}
REVIEW = "translated — awaiting clinical review"


def extracted() -> set[str]:
    """Every string the patient-facing sources mark, found as `pybabel extract` finds it."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    return {message for _, _, message, *_ in
            extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}


def shown_texts(item: q.Item) -> list[str]:
    """An item's texts: the instrument's own words, then the site's (hint, follow-up)."""
    texts = [*instrument_words(item), item.hint, item.follow_up]
    return [text for text in texts if text]


def instrument_words(item: q.Item) -> list[str]:
    """The words an instrument publishes: instructions, question, scale ends, answers."""
    texts = [item.preamble, item.label, *(item.anchors or ()), *(c.label for c in item.choices)]
    return [text for text in texts if text]


def definition_texts() -> set[str]:
    """Every text of the questionnaire a patient reads: titles, questions, hints, choices."""
    return {step.title for step in q.STEPS} | {
        text for item in q.ITEMS.values() if not item.system for text in shown_texts(item)}


def instrument_texts(instruments: set[str]) -> tuple[set[str], set[str]]:
    """The questions, and the other words, that only these instruments' items show."""
    shown_by: dict[str, set[str | None]] = {text: set() for text in definition_texts()}
    for item in q.ITEMS.values():
        for text in instrument_words(item):
            shown_by[text].add(item.instrument)
        for text in (item.hint, item.follow_up):
            if text:
                shown_by[text].add(None)
    for step in q.STEPS:
        shown_by[step.title].add(None)
    own = {text for text, users in shown_by.items() if users <= instruments}
    questions = {item.label for item in q.ITEMS.values() if item.instrument in instruments}
    return own & questions, own - questions


def spanish_section() -> str:
    return (DATA / "instruments.md").read_text(encoding="utf-8").split(
        "# Spanish (US) versions")[1]


def numbered(block: str) -> list[str]:
    """The numbered lines of a block, each joined into one line."""
    items: list[str] = []
    for line in block.splitlines():
        if re.match(r"\d+\. ", line):
            items.append(line.split(". ", 1)[1])
        elif items and line.startswith("   "):
            items[-1] += " " + line.strip()
    return [" ".join(item.split()) for item in items]


def one_line(text: str) -> str:
    return " ".join(text.split())


def rendered(response) -> str:
    """A page's text as a person reads it: tags gone, entities and spaces collapsed."""
    return as_read(response.get_data(as_text=True))


def as_read(html: str) -> str:
    return one_line(unescape(re.sub(r"<[^>]+>", " ", html)))


def in_spanish(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"


def choose(patient_client, language: str, page: str = "/"):
    """Press the language switch on a page: post its form as the browser would."""
    html = patient_client.get(page).get_data(as_text=True)
    back = unescape(re.search(r'name="next" value="([^"]*)"', html).group(1))
    return patient_client.client.post("/lang", data={
        "csrf_token": csrf_token(html), "lang": language, "next": back})


# --- the catalog ------------------------------------------------------------------


def english_only_words() -> set[str]:
    """The words only the instruments without a Spanish version show: never translated."""
    return set().union(*instrument_texts(ENGLISH_ONLY))


def test_every_patient_string_has_a_spanish_translation():
    marked = extracted() | definition_texts()
    assert len(marked) > 400
    missing = sorted(text for text in marked if CATALOG.get(text) is None)
    assert missing == []
    untranslated = sorted(text for text in marked - english_only_words()
                          if not CATALOG[text].string or CATALOG[text].fuzzy)
    assert untranslated == []


def test_no_spanish_entry_merely_repeats_the_english():
    repeats = sorted(message.id for message in CATALOG if message.id
                     and message.string == message.id and message.id not in SAME_IN_SPANISH)
    assert repeats == []
    assert {message.id for message in CATALOG} >= SAME_IN_SPANISH


def test_every_entry_says_where_its_text_comes_from():
    published = {text for pair in instrument_texts(PUBLISHED) for text in pair}
    english_only = english_only_words()
    # AUDIT-C's "Never" is also an answer of the site's own questions: that one is Spanish.
    assert "Monthly or less" in english_only and "Never" not in english_only
    for message in CATALOG:
        if not message.id:
            continue
        comment = " ".join(message.user_comments)
        if message.id in published:
            assert comment.startswith("published: "), message.id
        elif message.id in english_only:
            # Left empty: no translation of ours stands in for a validated instrument.
            assert comment.startswith("English only: no published Spanish "), message.id
            assert message.string == "", message.id
        else:
            assert comment == REVIEW or comment.startswith("reviewed: "), message.id


def test_every_default_patient_copy_text_is_translated():
    translated = {message.id for message in CATALOG if message.string}
    assert [key for key, text in COPY.items() if text not in translated] == []


def test_a_clinics_own_copy_replaces_the_default_in_every_language(app, patient_client):
    app.config["PATIENT_COPY"] = {"visit": {"en": "Visits take a morning at {clinic_name}."}}
    english = patient_client.get("/").get_data(as_text=True)
    assert "Visits take a morning at The Pain Clinic." in english
    choose(patient_client, "es")
    spanish = patient_client.get("/").get_data(as_text=True)
    assert "Visits take a morning at The Pain Clinic." in spanish
    assert "Este cuestionario ayuda a los médicos" in spanish


# --- what a Spanish-speaking patient sees -----------------------------------------


def step_html(patient_client, slug: str, answers: dict) -> str:
    """Save every page before the step; return the markup of its pages, one after another."""
    return "".join(patient_client.step_pages(slug, answers))


def questions_of(html: str) -> dict[str, str]:
    """Each question's markup by item id, with the instructions shown above it."""
    questions = {}
    for form in html.split(" novalidate")[1:]:
        form = form.split(">", 1)[1].split('<div class="buttons">', 1)[0]
        preamble = ""
        for block in re.split(r'(?=<p class="preamble")|(?=<div class="question)', form):
            if block.startswith('<p class="preamble"'):
                preamble = block
            elif block.startswith('<div class="question'):
                item_id = re.match(r'<div class="question[^"]*" id="q-(\w+)"', block).group(1)
                questions[item_id], preamble = preamble + block, ""
    return questions


def test_the_spanish_phq9_and_gad7_are_their_published_text(patient_client, clock):
    clock(P01["submitted_on"])
    in_spanish(patient_client.client)
    html = step_html(patient_client, "mood", P01["answers"])
    page = as_read(html)
    section = spanish_section()
    phq9 = numbered(section.split("PHQ-9:")[1].split("phq9_difficulty:")[0])
    gad7 = numbered(section.split("GAD-7:")[1].split("The Spanish PEG")[0])
    stem = one_line(re.search(r'Stem \(both\): "(.+?)"', section, re.S).group(1))
    answers = [re.sub(r" \(\d\)$", "", a.strip()) for a in one_line(
        re.search(r"Answers: (.+?)\.\n", section, re.S).group(1)).split(" · ")]
    difficulty, difficulty_answers = re.search(
        r'phq9_difficulty: "(.+?)" (.+?)\.\n', section, re.S).groups()
    assert (len(phq9), len(gad7), len(answers)) == (9, 7, 4)
    expected = [*phq9, *gad7, stem, *answers, one_line(difficulty),
                *one_line(difficulty_answers).split(" · ")]
    assert [text for text in expected if text not in page] == []
    assert page.count(stem) == 3  # above each of the PHQ-9's two pages and the GAD-7
    assert "Little interest or pleasure" not in page
    assert "Solo en inglés" not in page
    assert [i for i, question in questions_of(html).items() if "lang=" in question] == []


@pytest.mark.parametrize("slug, instrument", [
    ("pain_now", "peg"), ("substances", "audit_c"), ("substances", "dast10"),
    ("sleep", "stop_bang"),
])
def test_instruments_without_a_spanish_version_are_all_english_with_a_note(
        patient_client, clock, slug, instrument):
    clock(P01["submitted_on"])
    in_spanish(patient_client.client)
    html = step_html(patient_client, slug, {**P01["answers"], "dast_1": "yes"})
    assert q.STEP_BY_SLUG[slug].title not in as_read(html)  # the page itself is in Spanish
    questions = questions_of(html)
    for item in (item for item in q.ITEMS.values() if item.instrument == instrument):
        question, texts = questions[item.id], shown_texts(item)
        read = as_read(question)
        # Every text in English: question, instructions, answers, scale ends, follow-up
        # intro; none of the Spanish the catalog has for the words it shares with the site.
        assert [text for text in texts if one_line(text) not in read] == [], item.id
        spanish = {CATALOG[text].string for text in texts} - {"", *texts}
        assert [text for text in spanish if text in read] == [], item.id
        # Marked English for a screen reader, with the Spanish note once, marked Spanish.
        assert re.search(rf'<div class="question[^"]*" id="q-{item.id}"[^>]* lang="en">',
                         question), item.id
        if item.preamble:
            assert question.startswith('<p class="preamble" lang="en">'), item.id
        assert read.count(NOTE) == 1, item.id
        assert f'<p class="hint" id="{item.id}-note" lang="es">{NOTE}</p>' in question
        assert re.search(rf'aria-describedby="{item.id}-note[ "]', question), item.id


def test_the_sites_own_questions_beside_them_keep_their_spanish(patient_client, clock):
    clock(P01["submitted_on"])
    in_spanish(patient_client.client)
    pain = {i: as_read(h) for i, h in questions_of(
        step_html(patient_client, "pain_now", P01["answers"])).items()}
    assert "0 = Sin dolor, 10 = El peor dolor que se pueda imaginar" in pain["nrs_now"]
    assert "0 = No pain, 10 = Pain as bad as you can imagine" in pain["nrs_avg_week"]
    drugs = {i: as_read(h) for i, h in questions_of(
        step_html(patient_client, "substances", P01["answers"])).items()}
    assert "Nunca" in drugs["ketamine_nonmedical"]
    assert "Never" in drugs["auditc_1"] and "Nunca" not in drugs["auditc_1"]
    assert "Sí" in drugs["sud_current"] and "Yes" not in drugs["sud_current"]
    assert "Yes" in drugs["dast_1"] and "Sí" not in drugs["dast_1"]


def test_an_error_on_an_english_question_is_spanish_beside_its_english_name(
        patient_client, clock):
    clock(P01["submitted_on"])
    in_spanish(patient_client.client)
    step_html(patient_client, "substances", P01["answers"])
    response = patient_client.post("/intake/step/substances",
                                   {"auditc_1": "sometimes", "nav": "next"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ('<span lang="en">How often do you have a drink containing alcohol?</span></a>: '
            "Elija una de las respuestas.") in html
    assert '<p class="error-message" id="auditc_1-error" lang="es">' in html


def test_an_english_speaking_patient_sees_the_instruments_without_a_note(
        patient_client, clock):
    clock(P01["submitted_on"])
    html = step_html(patient_client, "substances", {**P01["answers"], "dast_1": "yes"})
    assert "English only" not in html
    assert [i for i, question in questions_of(html).items() if "lang=" in question] == []


def test_the_review_page_shows_an_english_instrument_in_english(patient_client, clock):
    clock(P01["submitted_on"])
    in_spanish(patient_client.client)
    answers = {**P01["answers"], "sb_snore": "yes", "ketamine_nonmedical": "never"}
    assert patient_client.walk(answers, submit=False) == "/intake/review"
    html = patient_client.get("/intake/review").get_data(as_text=True)
    rows = dict(re.findall(r'<div class="review-row"[^>]*>\s*<dt>([^<]*)</dt>\s*<dd>([^<]*)</dd>',
                           html))
    assert rows["¿Ha usado ketamina de una forma distinta a la recetada?"] == "Nunca"
    snoring = one_line(q.ITEMS["sb_snore"].label)
    assert rows[snoring] == "Yes"
    assert re.search(rf'<div class="review-row" lang="en">\s*<dt>{re.escape(snoring)}</dt>', html)


def test_accept_language_chooses_spanish_when_no_choice_was_made(client):
    spanish = rendered(client.get("/", headers={"Accept-Language": "es-US,es;q=0.9"}))
    assert "Antes de su visita: un cuestionario de salud" in spanish
    english = rendered(client.get("/", headers={"Accept-Language": "fr, en;q=0.5"}))
    assert "Before your visit: a health questionnaire" in english


# --- the language switch ----------------------------------------------------------


@pytest.mark.parametrize("page", ["/", "/intake/step/consent", "/no-such-page"])
def test_the_switch_names_the_other_language_in_that_language(patient_client, page):
    html = patient_client.get(page).get_data(as_text=True)
    assert re.search(r'<button type="submit" name="lang" value="es" lang="es"[^>]*>Español<',
                     html)
    assert 'aria-label="Language"' in html
    choose(patient_client, "es", page)
    html = patient_client.get(page).get_data(as_text=True)
    assert '<html lang="es">' in html
    assert re.search(r'name="lang" value="en" lang="en"[^>]*>English<', html)
    assert 'aria-label="Idioma"' in html


def test_choosing_spanish_is_remembered_and_returns_to_the_page(patient_client):
    response = choose(patient_client, "es", "/intake/step/consent")
    assert response.status_code == 302
    assert response.location == "/intake/step/consent"
    page = rendered(patient_client.get("/intake/step/consent"))
    assert "Antes de empezar" in page
    assert "Guardar y continuar" in page
    choose(patient_client, "en", "/")
    assert "Before your visit" in rendered(patient_client.get("/"))


def test_the_choice_wins_over_the_browsers_language(patient_client):
    in_spanish(patient_client.client)
    choose(patient_client, "en")
    assert "Before your visit: a health questionnaire" in rendered(patient_client.get("/"))


def test_lang_answers_only_post(client):
    assert client.get("/lang").status_code == 405


def test_lang_without_the_csrf_token_is_refused(client):
    response = client.post("/lang", data={"lang": "es", "next": "/"})
    assert response.status_code == 400
    assert "Before your visit" in rendered(client.get("/"))


@pytest.mark.parametrize("value", ["fr", "", "ES", "es; drop table", "../es"])
def test_an_unknown_language_is_ignored(patient_client, value):
    response = choose(patient_client, value)
    assert response.status_code == 302
    page = rendered(patient_client.get("/"))
    assert "Before your visit: a health questionnaire" in page


@pytest.mark.parametrize("target", [
    "//evil.example", "/\\evil.example", "https:evil.example", "https://evil.example/",
    "javascript:alert(1)", "", "/no-such-page", "/staff/", "/lang",
])
def test_the_switch_never_redirects_off_the_patient_pages(patient_client, target):
    html = patient_client.get("/").get_data(as_text=True)
    response = patient_client.client.post("/lang", data={
        "csrf_token": csrf_token(html), "lang": "es", "next": target})
    assert response.status_code == 302
    assert response.location == "/"


def test_the_switch_keeps_the_pages_query(patient_client):
    response = choose(patient_client, "es", "/intake/step/consent?return=review")
    assert response.location == "/intake/step/consent?return=review"


def test_a_draft_started_in_a_spanish_browser_is_spanish(app, patient_client, clock):
    clock(P01["submitted_on"])
    in_spanish(patient_client.client)
    patient_client.save_step("consent", P01["answers"])
    assert stored(app).language == "es"


def test_switching_mid_questionnaire_records_spanish_on_the_draft(app, patient_client, clock):
    clock(P01["submitted_on"])
    for slug in ("consent", "about"):
        patient_client.save_step(slug, P01["answers"])
    assert stored(app).language == "en"
    choose(patient_client, "es", "/intake/step/pain_history")
    assert stored(app).language == "es"
    assert "Dónde y cuándo empezó su dolor" in rendered(
        patient_client.get("/intake/step/pain_history"))


def test_a_questionnaire_answered_in_spanish_is_stored_as_spanish_to_the_end(
        app, patient_client, clock):
    clock(P01["submitted_on"])
    choose(patient_client, "es")
    done = patient_client.walk(P01["answers"])
    assert done == "/intake/done"
    page = rendered(patient_client.get(done))
    assert "Sus respuestas se enviaron" in page
    assert "Gracias. Sus respuestas se enviaron a la clínica." in page
    submission = stored(app)
    assert submission.language == "es"
    assert submission.submitted_at is not None


def number_links(html: str) -> dict[str, str]:
    """The support page's links to call or text a number: their words and addresses."""
    return {unescape(words): unescape(href) for href, words in
            re.findall(r'<a href="((?:tel|sms):[^"]*)" class="button">([^<]+)</a>', html)}


def test_the_crisis_page_is_the_specs_spanish_text(patient_client, clock):
    clock(P01["submitted_on"])
    choose(patient_client, "es")
    assert patient_client.walk({**P01["answers"], "phq9_9": 1}, submit=False)
    response = patient_client.get("/intake/support")
    assert ("llame o envíe un mensaje de texto al 988 (Línea de Prevención del Suicidio y "
            "Crisis, gratis, las 24 horas; para español, oprima 2)") in rendered(response)
    assert number_links(response.get_data(as_text=True)) == {
        "Llamar al 988": "tel:988", "Enviar un mensaje de texto al 988": "sms:988",
        "Llamar al 911": "tel:911"}


def test_the_resume_email_is_in_spanish(app, patient_client, clock, mail_inbox):
    clock(P01["submitted_on"])
    choose(patient_client, "es")
    answers = {**P01["answers"], "email": "maria@example.com"}
    for slug in ("consent", "about"):
        patient_client.save_step(slug, answers)
    page = rendered(patient_client.get("/intake/link"))
    assert re.search(r"El enlace funciona hasta el \d+ de [a-z]+ de \d{4}\.", page), page
    patient_client.post("/intake/link", {"send": "1"})
    (message,) = mail_inbox
    email = message_from_bytes(message.content)
    assert email["Subject"] == "Su enlace para continuar"
    body = email.get_payload(decode=True).decode(email.get_content_charset())
    assert "Este es su enlace privado para continuar su cuestionario" in body
    assert re.search(r"Funciona hasta el \d+ de [a-z]+ de \d{4}\.", body), body


# --- staff read it in English -----------------------------------------------------


def test_staff_see_a_spanish_submission_in_english_with_the_text_as_typed(
        app, patient_client, staff_client, clock):
    clock(P01["submitted_on"])
    typed = "gabapentina 600 mg tres veces al día\nañadir: ¿amitriptilina?"
    choose(patient_client, "es")
    patient_client.walk({**P01["answers"], "medications_list": typed})
    reference = stored(app).reference
    physician = staff_client("physician")
    page = physician.get(f"/staff/submissions/{reference}").get_data(as_text=True)
    assert "Answered in Spanish." in page
    assert "Medicines you take now" in page
    assert typed in page
    pdf = physician.get(f"/staff/submissions/{reference}.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Answered in Spanish." in text
    assert "añadir: ¿amitriptilina?" in text


def test_staff_pages_stay_in_english_whatever_the_browser_prefers(client):
    html = client.get("/staff/login", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Skip to the main content" in html
    assert "language-switch" not in html
