"""Random, huge, missing, duplicated and wrong-typed values sent to every step and staff form."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from helpers import (
    CASES,
    PAGES,
    STAFF_PASSWORD,
    add_staff,
    csrf_token,
    in_ci,
    load_case,
    page_at,
    page_path,
    stored,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from intake import questionnaire as q
from intake.models import StaffUser, db
from intake.staff.auth import new_setup_token

#: 100 examples a form in CI, fewer on a laptop; function-scoped fixtures are shared on
#: purpose (one app, one database, many posts).
settings.register_profile("ci", max_examples=100, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile("dev", settings.get_profile("ci"), max_examples=25)
FUZZ = settings.get_profile("ci" if in_ci() else "dev")
P01 = load_case(next(p for p in CASES if p.stem == "P01"))["answers"]
CASE_P04 = load_case(next(p for p in CASES if p.stem == "P04"))["answers"]


def field_names(page: q.Page) -> list[str]:
    """Every name a browser could post on this page, composite parts included."""
    names = []
    for item in page.items:
        parts = {"date": ("month", "day", "year"), "month": ("month", "year")}.get(item.type)
        if item.id == "height_cm":
            parts = ("ft", "in", "cm")
        elif item.id == "weight_kg":
            parts = ("lb", "kg")
        names += [f"{item.id}-{p}" for p in parts] if parts else [item.id]
    return names + ["nav", "unknown_field"]


values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=10).map(lambda s: s * 300),
    st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "12", "yes", "none", "\x00", "\r\n",
                     "2025-06-01", "13", "９", "<script>alert(1)</script>"]),
)


def postings(page: q.Page):
    names = field_names(page)
    return st.lists(st.tuples(st.sampled_from(names), values), max_size=25)


@pytest.mark.parametrize("url", [page_path(page) for page in PAGES])
def test_no_posted_value_makes_a_server_error(app, patient_client, clock, url):
    clock("2025-06-01")
    # Every page shown: a woman who has tried every treatment and answered yes to drug use.
    tried = [c.code for c in q.ITEMS["treatments_tried"].choices if c.code != "none"]
    answers = {**P01, "sex_at_birth": "female", "treatments_tried": tried, "dast_1": "yes"}
    patient_client.save_pages_before(url, answers)
    token = csrf_token(patient_client.get(url).get_data(as_text=True))

    @FUZZ
    @given(postings(page_at(url)))
    def post(pairs):
        form = MultiDict([("csrf_token", token), *pairs])
        response = patient_client.client.post(url, data=form)
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 200:
            page = response.get_data(as_text=True)
            assert 'class="error-summary"' in page, "refused without saying why"
        # Whatever was posted, the step itself still opens.
        assert patient_client.get(url).status_code in (200, 302)

    post()


# --- every staff form ------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffForm:
    """A staff form, its fields, and what a user would have typed in it."""

    url: str
    roles: tuple[str, ...]
    fields: tuple[str, ...]
    #: Values a user typed; those the fuzzer leaves alone must come back on a refusal.
    typed: dict[str, str] = field(default_factory=dict)
    #: Which of the typed values the page shows again (never a password).
    shown: tuple[str, ...] = ()
    #: The statuses that mean "refused; here is the page again".
    refused: frozenset[int] = frozenset({200})
    method: str = "POST"


PASSWORD = "a new passphrase nobody guesses"
STAFF_FORMS = {
    "login": StaffForm("/staff/login", (), ("email", "password"),
                       {"email": "x@clinic.example", "password": PASSWORD}, ("email",)),
    "password": StaffForm("/staff/password", ("staff",), ("current", "password", "confirm"),
                          {"current": STAFF_PASSWORD, "password": PASSWORD,
                           "confirm": PASSWORD}),
    "setup": StaffForm("/staff/setup/{token}", (), ("email", "password", "confirm"),
                       {"email": "first@clinic.example"}, ("email",)),
    "user create": StaffForm("/staff/users", ("admin",), ("email", "roles", "password"),
                             {"email": "new@clinic.example", "roles": "physician",
                              "password": PASSWORD}, ("email",)),
    "user deactivate": StaffForm("/staff/users/{user_id}/deactivate", ("admin",), (),
                                 refused=frozenset()),
    "user unlock": StaffForm("/staff/users/{user_id}/unlock", ("admin",), (),
                             refused=frozenset()),
    "user reset": StaffForm("/staff/users/{user_id}/reset", ("admin",), ("password",),
                            {"password": PASSWORD}, refused=frozenset()),
    "worklist filter": StaffForm(
        "/staff/", ("physician",),
        ("routing", "status", "since", "until", "sort", "reference", "after"),
        {"routing": "HOLD", "since": "2025-05-01", "until": "2025-06-30", "sort": "oldest"},
        ("since", "until"), frozenset({400}), method="GET"),
    "name search": StaffForm("/staff/", ("physician",), ("name",), refused=frozenset({400})),
    "status change": StaffForm("/staff/submissions/{reference}/status", ("physician",),
                               ("action", "seen", "note"),
                               {"action": "contacted", "seen": "new",
                                "note": "Rang twice and left a message"},
                               ("note",), frozenset({400, 409})),
    "override": StaffForm("/staff/submissions/{reference}/override", ("physician",),
                          ("flag", "reason"),
                          {"flag": "PREGNANT", "reason": "Negative test seen at the clinic"},
                          ("reason",), frozenset({400, 409})),
    "export": StaffForm("/staff/export", ("physician",), ("format", "since", "until", "status"),
                        {"format": "csv", "since": "2025-05-01", "until": "2025-06-30"},
                        ("since", "until")),
    "audit filter": StaffForm("/staff/audit", ("admin",),
                              ("action", "actor", "outcome", "before"),
                              {"action": "login", "actor": "someone@clinic.example"},
                              ("action", "actor"), frozenset({400}), method="GET"),
}


#: Staff forms also take numbers, ids and dates: any size, any sign, any shape.
staff_values = st.one_of(
    values, st.integers(min_value=-2**80, max_value=2**80).map(str),
    st.sampled_from(["9223372036854775808", "2147483648", "0x10", "1_000", "2025-02-30",
                     "2025-13-01", "0001-01-01", "9999-12-31", "2025/06/01"]),
)


def staff_postings(form: StaffForm):
    """Random values for any field (or an unknown one), and typed values left out."""
    names = [*form.fields, "unknown_field"]
    return st.tuples(st.lists(st.tuples(st.sampled_from(names), staff_values), max_size=20),
                     st.sets(st.sampled_from(sorted(form.typed)) if form.typed
                             else st.nothing()))


def says_why(page: str) -> bool:
    """A message beside a field or above the form."""
    return 'class="error-message"' in page or 'class="notice error"' in page


#: The site's page for a request no form of it sends (a tampered hidden field).
BAD_REQUEST = "Something went wrong with that request"


@pytest.mark.parametrize("name", list(STAFF_FORMS))
def test_no_staff_form_value_makes_a_server_error_or_loses_typing(app, staff_client,
                                                                   patient_client, clock,
                                                                   name):
    form = STAFF_FORMS[name]
    app.config["LOGIN_RATE_LIMIT"] = "100000 per minute"
    clock("2025-06-01")
    assert patient_client.walk(CASE_P04) == "/intake/done"
    with app.app_context():
        token = new_setup_token() if name == "setup" else ""
        if name != "setup":
            add_staff(app, "staff", email="x@clinic.example")
        user_id = db.session.scalar(select(StaffUser.id).limit(1))
    client = staff_client(*form.roles) if form.roles else app.test_client()
    url = form.url.format(token=token, user_id=user_id, reference=stored(app).reference)

    @FUZZ
    @given(staff_postings(form))
    def post(drawn):
        pairs, left_out = drawn
        fuzzed = {key for key, _ in pairs}
        typed = {key: value for key, value in form.typed.items()
                 if key not in fuzzed and key not in left_out}
        data = MultiDict([*pairs, *typed.items()])
        if form.method == "GET":
            response = client.get(url, query_string=data)
        else:
            token = csrf_token(client.get("/staff/login").get_data(as_text=True))
            response = client.post(url, data=MultiDict([("csrf_token", token),
                                                        *data.items(multi=True)]))
        assert response.status_code in {200, 302, 404, 413, *form.refused}, \
            response.status_code
        page = response.get_data(as_text=True)
        if response.status_code in form.refused and "Content-Disposition" not in response.headers:
            assert says_why(page) or BAD_REQUEST in page, "refused without saying why"
            for key in form.shown:
                if key in typed and BAD_REQUEST not in page:
                    assert str(escape(typed[key])) in page, f"lost the typed {key}"
        elif response.status_code == 302 and name == "user reset":
            assert 'class="notice' in client.get(response.location).get_data(as_text=True)
        # Whatever was sent, the form's page still opens.
        assert client.get(url if form.method == "GET" else "/staff/login").status_code != 500

    post()


@pytest.mark.parametrize("action", ["deactivate", "unlock", "reset"])
@pytest.mark.parametrize("user_id", [0, 99, 2**31, 2**63, 10**30])
def test_an_account_number_no_row_can_have_is_not_found(staff_client, action, user_id):
    admin = staff_client("admin")
    token = csrf_token(admin.get("/staff/users").get_data(as_text=True))
    response = admin.post(f"/staff/users/{user_id}/{action}",
                          data={"csrf_token": token, "password": PASSWORD})
    assert response.status_code == 404
