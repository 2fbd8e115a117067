"""Blueprint "patient": the landing page, the steps, review, submit, finish later, resume.

The draft a browser holds, and its links, are ``drafts``'s; these are the pages.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any, NamedTuple

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from intake import bodymap, clinic, course, mail, scoring, workflow
from intake import questionnaire as q
from intake.models import (
    ResumeLink,
    Submission,
    begin_write,
    create_draft,
    db,
    utcnow,
)
from intake.patient.drafts import (
    can_link,
    count_new_draft,
    current_draft,
    draft_to_link,
    email_link,
    forget_session,
    hold_session,
    journey_of,
    local_date,
    may_email_link,
    new_resume_link,
    questionnaire_of,
    save_draft,
    token_hash,
)
from intake.patient.words import answer_text
from intake.questionnaire import forms

bp = Blueprint("patient", __name__)


def page_url(page: q.Page | None, **args: str) -> str:
    """A page's address (a step's first page is at the step's); None stands for the
    review, which follows the last page."""
    if page is None:
        return url_for("patient.review")
    return url_for("patient.step", slug=page.step.slug, number=page.number, **args)


def first_unfinished(journey: q.Journey) -> str:
    """Where a patient picks up: the first page that applies and is not yet saved; with
    none left, the review (the adults-only page for a minor)."""
    page = journey.first_unfinished()
    if page is None and under_age(journey):
        return url_for("patient.adults_only")
    return page_url(page)


def next_url(page: q.Page, journey: q.Journey) -> str:
    """The page after this one. A change made from the review goes on through the rest
    of its step, then back to the review."""
    following = journey.neighbour(page, +1)
    if request.args.get("return") == "review" and journey.first_unfinished() is None:
        if following is not None and following.step is page.step:
            return page_url(following, **{"return": "review"})
        return url_for("patient.review")
    return first_unfinished(journey) if following is None else page_url(following)


@bp.context_processor
def page_helpers() -> dict[str, Any]:
    return {"answer_text": answer_text, "month_names": forms.MONTHS, "bodymap": bodymap,
            "item_text": forms.item_text, "in_english": forms.in_english}


@bp.before_request
def patient_session() -> None:
    """Every patient post saves: it takes the write lock before it reads the draft, so
    the draft it checks is the one it saves (another tab's save or send waits, or has
    happened). A step's post takes it only to write a checked page (``save_draft``):
    checking a page is most of a post's work, and SQLite has one writer at a time.
    A cookie that no longer opens its draft is forgotten (the draft stays)."""
    posting = request.method == "POST" and request.endpoint != "patient.step"
    if posting:
        begin_write()
    if "draft" in session and current_draft(lock=posting) is None:
        forget_session()


@bp.errorhandler(CSRFError)
def csrf_expired(error: CSRFError):
    """An expired form keeps what was typed: the page comes back with a fresh token."""
    notice = _("This page was open for a long time, so it was not saved yet. Your answers "
               "are still here: please check them and press the button again.")
    if request.endpoint == "patient.step":
        return show_step(**request.view_args, notice=notice, status=400, save=False)
    return render_template("error.html", code=400, message=notice), 400


@bp.errorhandler(OperationalError)
def database_busy(error: OperationalError):
    """A busy database keeps what the patient typed: the page comes back with a 503."""
    db.session.rollback()
    current_app.logger.warning("Database busy on %s: %s", request.endpoint, error.orig)
    notice = _("The clinic's system is busy, so this page was not saved yet. Your answers "
               "are still here: please wait a moment and press the button again.")
    if request.endpoint == "patient.step":
        page, status = show_step(**request.view_args, notice=notice, status=503, save=False)
    else:
        page, status = render_template("error.html", code=503), 503
    return page, status, {"Retry-After": "5"}


@bp.get("/")
def landing():
    shortest, longest = q.minutes_to_answer(q.INTAKE, clinic.policy())
    return render_template("patient/landing.html", copy=clinic.copy_text,
                           shortest=shortest, longest=longest)


@bp.route("/intake/step/<slug>", defaults={"number": 1}, methods=["GET", "POST"])
@bp.route("/intake/step/<slug>/<int:number>", methods=["GET", "POST"])
def step(slug: str, number: int):
    return show_step(slug, number)


def show_step(slug: str, number: int, notice: str | None = None, status: int = 200,
              save: bool = True):
    """Show a step's page, or check it and save it when posted."""
    today = clinic.today()
    posting = request.method == "POST"
    draft = current_draft()
    if draft is not None and draft.submitted_at is not None:
        return redirect(url_for("patient.done"))
    journey = journey_of(draft, today)
    step = journey.questionnaire.step_by_slug.get(slug) or abort(404)
    page = step.pages[number - 1] if 0 < number <= len(step.pages) else abort(404)
    if draft is None and page is not journey.questionnaire.first.pages[0]:
        if not posting:
            return redirect(url_for("patient.landing"))
        notice = _("For your privacy, your session ended after a long time without "
                   "activity, so this page was not saved. Open your private link to "
                   "continue, or start again.")
        save, status = False, 400
    answers = journey.answers
    if draft is not None and not journey.reachable(page):
        return redirect(first_unfinished(journey))

    form_class = forms.step_form_class(journey.questionnaire, step, journey.page_items(page))
    form = form_class(
        formdata=request.form if posting else None, data=None if posting else answers,
        context=answers, reference=today, policy=clinic.policy(),
    )
    if not posting and draft is not None:
        form.show_typed(draft.typed)
    if posting and save and form.validate():
        if draft is None and (wait := count_new_draft()) is not None:
            notice = _("Many questionnaires were started from this internet connection in "
                       "the last hour, so this one could not start. Please call the clinic "
                       "at %(phone)s, or try again later. Your answers are still on this "
                       "page.", phone=current_app.config["CLINIC_PHONE"])
            shown, status = show_step(slug, number, notice=notice, status=429, save=False)
            return shown, status, {"Retry-After": str(wait)}
        return save_step(page, draft, form, today)
    if posting and not save:
        form.validate()
    counted = journey.counted
    return render_template(
        "patient/step.html", step=step, page=page, form=form,
        read_elsewhere=journey.read_elsewhere(page),
        number=counted.index(page.key) + 1 if page.key in counted else 1, total=len(counted),
        draft=draft, notice=notice,
        copy=clinic.copy_text, can_finish_later=bool(draft and can_link(draft)),
        saved_at=session.pop("saved_at", None), back=journey.neighbour(page, -1),
    ), status


def save_step(page: q.Page, draft: Submission | None, form: forms.StepForm, today: dt.date):
    """Save a checked page into the draft as it is now (``save_draft``): another tab's save
    of another page since this one was read is kept."""
    if draft is None:
        begin_write()
        questionnaire = questionnaire_of(draft)
        draft = create_draft(str(get_locale()), questionnaire.key, questionnaire.version)
        hold_session(draft)
        db.session.flush()  # saved as read: the row holds its session
    draft, saved = save_draft(draft, lambda read: PageSaved.of(page, read, form, today))
    if saved is None:  # ended or sent meanwhile
        return redirect(url_for("patient.landing" if draft is None else "patient.done"))
    if saved.newly_urgent:
        mail.urgent_notice(draft.reference, questionnaire_of(draft).title.lower())
    db.session.commit()
    session["saved_at"] = clinic.now().strftime("%H:%M")
    return redirect(saved.destination)


class PageSaved(NamedTuple):
    """A page's save worked out from the draft as read: the columns it writes, where it
    leads, and whether it puts the draft at the top of the worklist."""

    values: dict[str, Any]
    destination: str
    newly_urgent: bool

    @classmethod
    def of(cls, page: q.Page, draft: Submission, form: forms.StepForm,
           today: dt.date) -> PageSaved:
        questionnaire = questionnaire_of(draft)
        new_link = page.key == questionnaire.link_after and not can_link(draft)
        rendered = {item.id for item in form.items}
        answers = {k: v for k, v in draft.answers.items() if k not in rendered}
        answers.update(form.answers())
        crisis = questionnaire.crisis is not None and questionnaire.crisis.raised(page, answers)
        if crisis:
            answers = questionnaire.crisis.kept(answers)
        completed = [key for key in draft.completed_steps if key != page.key] + [page.key]
        journey = q.Journey(questionnaire, answers, today, clinic.policy(), completed).settled()
        answers = dict(journey.answers)
        typed = {item_id: typed for item_id, typed in
                 {**draft.typed, **dict.fromkeys(rendered, None), **form.typed()}.items()
                 if typed and item_id in answers}
        urgent = (workflow.urgent_marks(draft) if questionnaire.crisis is not None
                  and questionnaire.crisis.urgent(answers) else {})
        values = {"answers": answers, "completed_steps": completed, "typed": typed,
                  "language": str(get_locale()), "updated_at": utcnow(),
                  **draft.name_keys(answers), **urgent}
        destination = saved_destination(page, journey, crisis, new_link,
                                        linkable=can_link(draft, completed))
        return cls(values, destination, bool(urgent))


def saved_destination(page: q.Page, journey: q.Journey, crisis: bool, new_link: bool,
                      linkable: bool) -> str:
    """Where a saved page leads."""
    nav = request.form.get("nav")
    if nav == "later" and linkable:
        return url_for("patient.finish_later")
    if crisis:
        return url_for("patient.support", **request.args)
    if (under_age(journey) and page.last
            and page.step.slug == journey.questionnaire.adult_only_after):
        return url_for("patient.adults_only")  # told now, not after "Send my answers"
    if new_link:
        return url_for("patient.link")
    if nav == "back" and (previous := journey.neighbour(page, -1)):
        return page_url(previous)
    return next_url(page, journey)


@bp.get("/intake/support")
def support():
    draft = current_draft()
    questionnaire = questionnaire_of(draft)
    if draft is None or draft.submitted_at is not None or questionnaire.crisis is None:
        return redirect(url_for("patient.landing"))
    after = questionnaire.page_of[questionnaire.crisis.item]
    return render_template("patient/support.html", copy=clinic.copy_text,
                           next=next_url(after, journey_of(draft, clinic.today())))


@bp.route("/intake/link", methods=["GET", "POST"])
def link():
    """The private link to come back, shown once the date of birth is saved.

    The cookie holds no link, so each showing makes a new one; earlier ones keep working.
    """
    draft = draft_to_link()
    if draft is None:
        return redirect(url_for("patient.landing"))
    url, expires = new_resume_link(draft)
    email = draft.answers.get("email")
    can_email = bool(email and mail.ready())
    asked = request.method == "POST" and bool(request.form.get("send")) and can_email
    capped = asked and not may_email_link(draft, email)
    if asked and not capped:
        email_link(draft, url, expires)
    following = first_unfinished(journey_of(draft, clinic.today()))
    db.session.commit()
    return render_template(
        "patient/link.html", url=url, expires=local_date(expires), can_email=can_email,
        sent=asked and not capped, capped=capped, next=following,
    )


@bp.get("/intake/finish-later")
def finish_later():
    """Show a link once more, then end the session: a copy of this cookie opens nothing."""
    draft = draft_to_link()
    if draft is None:
        return redirect(url_for("patient.landing"))
    url, expires = new_resume_link(draft)
    draft.session_nonce = None
    db.session.commit()
    forget_session()
    return render_template("patient/finish_later.html", url=url, expires=local_date(expires))


@bp.route("/intake/review", methods=["GET", "POST"])
def review():
    today = clinic.today()
    posting = request.method == "POST"
    draft = current_draft(lock=posting)
    if draft is None:
        return redirect(url_for("patient.landing"))
    if draft.submitted_at is not None:
        return finish_submission(draft)
    # Age-based branching is checked again on the submission date.
    journey = journey_of(draft, today)
    if journey.first_unfinished() is not None:
        return redirect(first_unfinished(journey))
    if posting:
        return submit(draft, today)
    rules = clinic.rules(draft.questionnaire)
    missing = rules.unanswered(draft.answers, today, clinic.policy())
    sections = [{"step": step, "rows": [(item, draft.answers.get(item.id))
                                        for item in journey.shown_items(step)]}
                for step in journey.steps]
    return render_template("patient/review.html", sections=sections, draft=draft,
                           missing=[safety_link(rules, item) for item in missing])


def safety_link(rules: scoring.Rules, code: str) -> tuple[str, str]:
    """A missing safety answer: its question (or group's words) and the place to answer it."""
    item, words = rules.safety_question(code)
    target = page_url(rules.questionnaire.page_of[item.id], **{"return": "review"})
    return _(words), f"{target}#{item.id}"


def submit(draft: Submission, today: dt.date):
    """Submit once: the row is locked, so a second click finds it already submitted."""
    policy = clinic.policy()
    questionnaire = questionnaire_of(draft)
    draft.answers = q.drop_hidden(questionnaire, draft.answers, today, policy)
    course.refresh_inputs(draft, today)
    score = clinic.rules(draft.questionnaire).score(draft.answers, today, policy, draft.inputs)
    workflow.submit(draft, score, clinic.now().astimezone(dt.UTC))
    course.place(draft)
    db.session.commit()
    return finish_submission(draft)


def finish_submission(draft: Submission):
    age = q.age_from(draft.answers, clinic.today())
    adult = questionnaire_of(draft).adult_only_after is None or (age or q.ADULT_AGE) >= q.ADULT_AGE
    forget_session()
    session["done"] = draft.reference
    session["adult"] = adult
    return redirect(url_for("patient.done" if adult else "patient.adults_only"))


@bp.get("/intake/done")
def done():
    reference = session.get("done")
    if reference is None:
        return redirect(url_for("patient.landing"))
    return render_template("patient/done.html", copy=clinic.copy_text, reference=reference)


def under_age(journey: q.Journey) -> bool:
    """Whether the questionnaire is for adults and the date of birth says a minor."""
    return (journey.questionnaire.adult_only_after is not None and journey.age is not None
            and journey.age < q.ADULT_AGE)


@bp.route("/intake/adults-only", methods=["GET", "POST"])
def adults_only():
    """Right after a minor's date of birth is saved: what happens now, and a button that
    sends the contact details given so the clinic can call; after it, the same page says
    they were sent."""
    posting = request.method == "POST"
    draft = current_draft(lock=posting)
    if draft is not None and draft.submitted_at is None:
        today = clinic.today()
        journey = journey_of(draft, today)
        if not under_age(journey) or journey.first_unfinished() is not None:
            return redirect(first_unfinished(journey))
        if posting:
            return submit(draft, today)
        asked = journey.questionnaire.step_by_slug[journey.questionnaire.adult_only_after]
        return render_template("patient/adults_only.html", copy=clinic.copy_text, pending=True,
                               back=page_url(asked.pages[-1]))
    if session.get("done") is None or posting:
        return redirect(url_for("patient.landing"))
    return render_template("patient/adults_only.html", copy=clinic.copy_text, pending=False)


@bp.post("/lang")
def language():
    """The patient's language choice: kept in the session and on the draft, if any."""
    chosen = request.form.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        session["lang"] = chosen
        if session.get("draft"):
            draft = current_draft(lock=True)
            if draft is not None and draft.submitted_at is None:
                draft.language = chosen
            db.session.commit()
    return redirect(patient_page(request.form.get("next", "")))


def patient_page(target: str) -> str:
    """The patient page the switch was pressed on; the start page for anything else.

    Only a path of this blueprint that answers GET qualifies, so the redirect never
    leaves the site: ``//host``, ``https:host`` and ``/\\host`` match no route; nor is
    anything unprintable (CR, LF, NUL) ever put in the Location header.
    """
    path, _, query = target.partition("?")
    if not path.startswith("/") or not target.isprintable():
        return url_for("patient.landing")
    try:
        endpoint, _ = current_app.create_url_adapter(request).match(path, method="GET")
    except HTTPException:
        return url_for("patient.landing")
    if not endpoint.startswith("patient."):
        return url_for("patient.landing")
    return f"{path}?{query}" if query else path


@bp.route("/intake/resume/<token>", methods=["GET", "POST"])
def resume(token: str):
    """GET shows a Continue form only; the POST checks the date of birth."""
    posting = request.method == "POST"
    hashed = token_hash(token)
    query = (select(ResumeLink, Submission).join(ResumeLink.submission)
             .where(ResumeLink.token_hash == hashed))
    link, draft = db.session.execute(
        query.with_for_update(of=Submission) if posting else query).first() or (None, None)
    limit = current_app.config["RESUME_MAX_FAILURES"]
    if (
        link is None
        or not hmac.compare_digest(link.token_hash, hashed)
        or draft.submitted_at is not None
        or link.expires_at < clinic.now()
    ):
        abort(404)
    if draft.resume_failures >= limit:
        return locked()
    form = forms.ResumeForm(reference=clinic.today())
    if posting and form.validate_on_submit():
        if form.dob.answer == draft.date_of_birth:
            draft.resume_failures = 0
            link.used_at = link.used_at or utcnow()
            draft.updated_at = utcnow()  # the new session's idle time counts from here
            forget_session()
            hold_session(draft)
            session["lang"] = draft.language  # as answered so far (a follow-up: the intake)
            destination = first_unfinished(journey_of(draft, clinic.today()))
            db.session.commit()
            return redirect(destination)
        draft.resume_failures += 1
        db.session.commit()
        left = limit - draft.resume_failures
        if not left:
            return locked()
        form.dob.errors = [ngettext(
            "That date of birth does not match. You can try %(num)d more time before this "
            "link locks.",
            "That date of birth does not match. You can try %(num)d more times before this "
            "link locks.", left)]
    return render_template("patient/resume.html", form=form)


def locked():
    """A link locked by wrong dates of birth says so, and how to go on: it shows no data."""
    return render_template("patient/link_locked.html"), 403
