"""Where the patient's links and redirects point: a sent link on PUBLIC_BASE_URL whatever
the Host, and the language switch never redirects off the site or breaks on CR/LF."""

from __future__ import annotations

import re
from email import message_from_bytes

import pytest
from helpers import Patient, csrf_token
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz import FUZZ
from test_patient import P01, dob_parts, link_from, start_draft

BASE = "https://intake.clinic.example"
EMAILED = {**P01["answers"], "email": "maria@example.com"}


def emailed_link(message) -> str:
    email = message_from_bytes(message.content)
    body = email.get_payload(decode=True).decode(email.get_content_charset())
    return re.search(r"https?://\S+", body).group(0)


def forged_host_walk(app, clock, base: str | None):
    """A patient whose every request names another host; the link shown once emailed."""
    app.config.update(PUBLIC_BASE_URL=base, SERVER_NAME=None)  # as in production
    served = app.wsgi_app

    def forged(environ, start_response):
        environ["HTTP_HOST"] = "evil.example"
        return served(environ, start_response)

    app.wsgi_app = forged
    patient = Patient(app.test_client())
    start_draft(patient, clock, EMAILED)
    sent = patient.post("/intake/link", {"send": "1"})
    return link_from(sent.get_data(as_text=True))


def test_a_forged_host_never_reaches_an_email_or_the_page(app, clock, mail_inbox):
    shown = forged_host_walk(app, clock, BASE)
    (message,) = mail_inbox
    link = emailed_link(message)
    assert link.startswith(f"{BASE}/intake/resume/") and shown == link
    assert "evil.example" not in message.content.decode()
    # The link it carries opens the draft (here, on the test server's own address).
    visitor = Patient(app.test_client())
    assert visitor.post(link.removeprefix(BASE), dob_parts("1980-03-15")).status_code == 302


def test_without_a_base_url_the_forged_host_would_be_used(app, clock, mail_inbox):
    """The control: the forgery does reach the link when nothing overrides it."""
    shown = forged_host_walk(app, clock, None)
    assert shown.startswith("http://evil.example/intake/resume/")
    assert emailed_link(mail_inbox[0]) == shown


def test_a_base_url_with_a_path_keeps_it(app, patient_client, clock):
    app.config["PUBLIC_BASE_URL"] = "https://clinic.example/forms/"
    start_draft(patient_client, clock)
    page = patient_client.get("/intake/link").get_data(as_text=True)
    assert re.fullmatch(r"https://clinic\.example/forms/intake/resume/[\w-]{43}", link_from(page))


# --- the language switch's "next" ----------------------------------------------------------

PAGES = ["/", "/intake/step/consent", "/intake/step/consent?return=review", "/no-such-page"]


@pytest.mark.parametrize("target", [
    "/\r\nSet-Cookie: x=1", "/intake/step/consent?x=\r\nLocation: //evil.example",
    "/intake/step/consent\n", "/?a=\x00", "/intake/step/consent?return=review\x7f",
    "/intake/step/consent\u2028",
])
def test_control_characters_in_next_go_to_the_start_page(patient_client, target):
    html = patient_client.get("/").get_data(as_text=True)
    response = patient_client.client.post("/lang", data={
        "csrf_token": csrf_token(html), "lang": "es", "next": target})
    assert response.status_code == 302 and response.location == "/"


def test_no_next_makes_a_server_error_or_leaves_the_site(patient_client):
    token = csrf_token(patient_client.get("/").get_data(as_text=True))
    controls = st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Zs"])
    noise = st.text(alphabet=st.one_of(controls, st.characters(codec="utf-8")), max_size=30)

    @FUZZ
    @given(st.sampled_from(PAGES), noise, st.sampled_from(["", "?", "?return="]), noise)
    def switch(page, before, joint, after):
        target = f"{page}{before}{joint}{after}"
        response = patient_client.client.post("/lang", data={
            "csrf_token": token, "lang": "es", "next": target})
        assert response.status_code == 302, (target, response.status_code)
        location = response.location
        assert location.startswith("/") and not location.startswith(("//", "/\\"))
        assert location.isprintable(), repr(location)

    switch()
