"""Random, huge, missing, duplicated and wrong-typed values posted to every step."""

from __future__ import annotations

import os

import pytest
from conftest import CASES, csrf_token, load_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from intake import questionnaire as q

EXAMPLES = 100 if os.environ.get("CI") == "true" else 25
P01 = load_case(next(p for p in CASES if p.stem == "P01"))["answers"]


def field_names(step: q.Step) -> list[str]:
    """Every name a browser could post on this step, composite parts included."""
    names = []
    for item in step.items:
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


def postings(step: q.Step):
    names = field_names(step)
    return st.lists(st.tuples(st.sampled_from(names), values), max_size=25)


@pytest.mark.parametrize("slug", [s.slug for s in q.STEPS])
def test_no_posted_value_makes_a_server_error(app, patient_client, clock, slug):
    clock("2025-06-01")
    order = [s.slug for s in q.STEPS]
    answers = {**P01, "sex_at_birth": "female"}
    for earlier in order[: order.index(slug)]:
        patient_client.save_step(earlier, answers)
    url = f"/intake/step/{slug}"
    token = csrf_token(patient_client.get(url).get_data(as_text=True))
    step = q.STEP_BY_SLUG[slug]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(postings(step))
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
