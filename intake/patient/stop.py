"""The stop link of a follow-up invitation: a page with one button, and the one-click
POST of RFC 8058 that mail programs send (List-Unsubscribe-Post). Opening the link (as
a mail scanner does) changes nothing; the stop is recorded, audited and honoured for
every later invitation."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from intake import audit, course
from intake.extensions import csrf
from intake.models import begin_write, db

bp = Blueprint("stop", __name__)

#: The body a one-click client posts (RFC 8058 §3.1).
ONE_CLICK = "One-Click"


@bp.route("/followup/stop/<int:invitation_id>/<token>", methods=["GET", "POST"])
@csrf.exempt  # the one-click POST carries no token: the link's own secret is the check
def page(invitation_id: int, token: str):
    posting = request.method == "POST"
    if posting:
        begin_write()
    patient = course.stop_link_patient(invitation_id, token)
    if patient is None:
        abort(404)
    one_click = posting and request.form.get("List-Unsubscribe") == ONE_CLICK
    form = FlaskForm()
    if posting and not one_click:
        try:
            csrf.protect()
        except CSRFError:
            db.session.rollback()
            return render_template("patient/stop.html", form=form, done=False,
                                   again=True), 400
    if posting:
        if course.stop_invitations(patient):
            audit.record("invitations_stop", f"patient {patient.id}", who="patient",
                         detail={"how": "one-click" if one_click else "page",
                                 "invitation": invitation_id})
        db.session.commit()
    done = course.invitations_stopped(patient)  # by this record or one merged into it
    return render_template("patient/stop.html", form=form, done=done, again=False)
