"""Where sign-in leads: `next` with control characters or any other text lands on a page of
this site, never on a server error or another site."""

from __future__ import annotations

import pytest
from helpers import STAFF_PASSWORD, add_staff, csrf_token
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz import FUZZ


def sign_in_to(app, email: str, target: str):
    client = app.test_client()
    page = client.get("/staff/login", query_string={"next": target})
    assert page.status_code == 200
    return client.post("/staff/login", query_string={"next": target}, data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "email": email,
        "password": STAFF_PASSWORD})


def local(location: str) -> bool:
    """A page of this site, however a browser reads the header."""
    return (location.startswith("/") and not location.startswith("//") and "\\" not in location
            and location.isprintable())


@pytest.mark.parametrize("target", [
    "/staff/\r\nSet-Cookie: session=stolen", "/staff/\n", "/staff/\r", "/\t/evil.example",
    "/\r\n/evil.example", "/staff/\x00", "/staff/\x7f", "/staff/\u2028", "//[evil.example",
    "https://[evil.example",
])
def test_control_characters_in_next_land_on_the_worklist(app, target):
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    response = sign_in_to(app, add_staff(app, "staff"), target)
    assert response.status_code == 302 and response.location == "/staff/"


#: Line breaks, tabs and other control or invisible characters.
CONTROLS = ["\r", "\n", "\r\n", "\t", "\x00", "\x0b", "\x1b", "\x7f", "\x85", "\u200b",
            "\u2028", "\u3000"]
#: Such characters where a browser looks for another host, amid any text.
targets = st.tuples(
    st.one_of(st.sampled_from(["/", "/staff/", "//", "/\\", "https:"]), st.text(max_size=10)),
    st.lists(st.sampled_from(CONTROLS), min_size=1, max_size=3).map("".join),
    st.one_of(st.sampled_from(["evil.example", "/evil.example", "staff/", "["]),
              st.text(max_size=10)),
).map("".join)


def test_no_next_makes_a_server_error_or_leaves_the_site(app):
    app.config["LOGIN_RATE_LIMIT"] = "100000 per minute"
    email = add_staff(app, "staff")

    @FUZZ
    @given(targets)
    def sign_in(target):
        response = sign_in_to(app, email, target)
        assert response.status_code == 302, response.status_code
        assert local(response.location), response.location

    sign_in()
