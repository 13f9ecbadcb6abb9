"""Admin pages of the certification jury: the sessions, their members and candidates.

A session's id in a URL names only that session, and a member's or a candidate's id is
looked up within it: an id of another session is a 404. Every refusal shows the page
again, status 400 (409 once the minutes are signed), the problems next to their fields;
nothing is stored. The deliberation and the minutes are in
:mod:`lti_tool.views.admin_certification_deliberation`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool.auth import admin_required
from lti_tool.certification.decisions import session_decisions
from lti_tool.certification.models import Candidate, CertificationSession, JuryMember, JuryRole
from lti_tool.certification.sessions import (
    EXAM_MODES,
    JuryError,
    Problem,
    add_candidates_from_course,
    add_member,
    courses_using,
    create_session,
    remove_member,
    session_framework,
)
from lti_tool.db import db_session
from lti_tool.frameworks import current_records, find_record, framework_of
from lti_tool.models import LtiContext, LtiUser
from lti_tool.people import display_name
from lti_tool.views.admin_certification_words import field_label, problem_text

blueprint = Blueprint("admin_certification", __name__, url_prefix="/admin/certification")

# Problems about the session's state, not the input: a conflict.
CONFLICTS = frozenset({"signed", "not_signed", "superseded"})
SESSION_FIELDS = (
    "framework",
    "title",
    "jury_date",
    "place",
    "exam_start",
    "exam_end",
    "exam_postal_code",
    "exam_mode",
)


def refusal_status(error: JuryError) -> int:
    """Return 409 when the session's state refuses the change, else 400 (bad input)."""
    return 409 if any(p.reason in CONFLICTS for p in error.problems) else 400


def error_fields(error: JuryError, prefix: str = "") -> dict[str, list[str]]:
    """Return each field's worded problems; ``prefix`` scopes them to one form of a page."""
    db_session().rollback()  # nothing of the refused change stays
    errors: dict[str, list[str]] = {}
    for problem in error.problems:
        errors.setdefault(prefix + problem.field, []).append(problem_text(problem))
    return errors


def parse_date(name: str, *, required: bool = False) -> tuple[dt.date | None, list[Problem]]:
    """Read a date field (``YYYY-MM-DD``, as ``<input type=date>`` sends it)."""
    text = request.form.get(name, "").strip()
    if not text:
        return None, [Problem(name, "required")] if required else []
    try:
        return dt.date.fromisoformat(text), []
    except ValueError:
        return None, [Problem(name, "bad_date", text[:20])]


def get_session(session_id: int) -> CertificationSession:
    """Return the session, or a 404."""
    session = db_session().get(CertificationSession, session_id)
    if session is None:
        abort(404, description=_("Cette session de certification n’existe pas."))
    return session


def get_candidate(session: CertificationSession, candidate_id: int) -> Candidate:
    """Return a candidate of this session; a candidate of another session is a 404."""
    candidate = db_session().get(Candidate, candidate_id)
    if candidate is None or candidate.session_id != session.id:
        abort(404, description=_("Ce candidat n’est pas dans cette session."))
    return candidate


@blueprint.get("/")
@admin_required
def index() -> str:
    """List the sessions, with the form that opens a new one."""
    return _index_page()


@blueprint.post("/sessions")
@admin_required
def create() -> Response | tuple[str, int]:
    """Open a session from the form."""
    form = request.form
    problems: list[Problem] = []
    record = find_record(db_session(), form.get("framework", ""))
    if record is None:
        problems.append(Problem("framework", "unknown_framework", form.get("framework", "")))
    dates = {}
    for name in ("jury_date", "exam_start", "exam_end"):
        dates[name], found = parse_date(name, required=name == "jury_date")
        problems += found
    try:
        if problems or record is None or dates["jury_date"] is None:
            raise JuryError(problems)
        session = create_session(
            db_session(),
            framework=framework_of(record),
            title=form.get("title", ""),
            jury_date=dates["jury_date"],
            place=form.get("place", ""),
            exam_start=dates["exam_start"],
            exam_end=dates["exam_end"],
            exam_postal_code=form.get("exam_postal_code"),
            exam_mode=form.get("exam_mode"),
        )
    except JuryError as error:
        given = {name: form.get(name, "") for name in SESSION_FIELDS}
        return _index_page(form=given, errors=error_fields(error)), refusal_status(error)
    flash(_("Session « %(title)s » ouverte.", title=session.title))
    return redirect(url_for(".session_page", session_id=session.id))


def _index_page(
    *, form: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None
) -> str:
    db = db_session()
    sessions = db.scalars(
        sa.select(CertificationSession).order_by(
            CertificationSession.jury_date.desc(), CertificationSession.id.desc()
        )
    ).all()
    return render_template(
        "certification/admin/sessions.html",
        sessions=sessions,
        frameworks=current_records(db),
        exam_modes=EXAM_MODES,
        form=form or {},
        errors=errors or {},
        field_label=field_label,
    )


@blueprint.get("/sessions/<int:session_id>")
@admin_required
def session_page(session_id: int) -> str:
    """Show a session: its jury, its candidates and the courses to draw them from."""
    return _session_page(get_session(session_id))


@blueprint.post("/sessions/<int:session_id>/membres")
@admin_required
def add_member_view(session_id: int) -> Response | tuple[str, int]:
    """Seat a person on the jury."""
    session = get_session(session_id)
    form = request.form
    try:
        member = add_member(
            db_session(),
            session,
            full_name=form.get("full_name", ""),
            role=form.get("role", ""),
            quality=form.get("quality", ""),
        )
    except JuryError as error:
        given = {k: form.get(k, "") for k in ("full_name", "role", "quality")}
        page = _session_page(get_session(session_id), form=given, errors=error_fields(error))
        return page, refusal_status(error)
    flash(_("%(name)s siège au jury.", name=member.full_name))
    return redirect(url_for(".session_page", session_id=session.id))


@blueprint.post("/sessions/<int:session_id>/membres/<int:member_id>/retirer")
@admin_required
def remove_member_view(session_id: int, member_id: int) -> Response | tuple[str, int]:
    """Take a person off the jury; a member of another session is a 404."""
    session = get_session(session_id)
    member = db_session().get(JuryMember, member_id)
    if member is None or member.session_id != session.id:
        abort(404, description=_("Ce membre ne siège pas dans cette session."))
    name = member.full_name
    try:
        remove_member(db_session(), session, member)
    except JuryError as error:
        page = _session_page(get_session(session_id), errors=error_fields(error))
        return page, refusal_status(error)
    flash(_("%(name)s ne siège plus au jury.", name=name))
    return redirect(url_for(".session_page", session_id=session.id))


@blueprint.post("/sessions/<int:session_id>/candidats")
@admin_required
def add_candidates_view(session_id: int) -> Response | tuple[str, int]:
    """Present every learner of the chosen course to the session."""
    session = get_session(session_id)
    text = request.form.get("course", "").strip()
    context = db_session().get(LtiContext, int(text)) if text.isdigit() and len(text) < 10 else None
    try:
        if context is None:
            raise JuryError([Problem("course", "unknown_course", text[:20])])
        added = add_candidates_from_course(db_session(), session, context)
    except JuryError as error:
        page = _session_page(get_session(session_id), errors=error_fields(error))
        return page, refusal_status(error)
    flash(_("Candidats ajoutés : %(count)d.", count=len(added)))
    return redirect(url_for(".session_page", session_id=session.id))


def _session_page(
    session: CertificationSession,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> str:
    db = db_session()
    framework = session_framework(db, session)
    people = {
        user.id: user
        for user in db.scalars(
            sa.select(LtiUser).where(LtiUser.id.in_([c.learner_id for c in session.candidates]))
        )
    }
    courses = {
        context.id: context
        for context in db.scalars(
            sa.select(LtiContext).where(
                LtiContext.id.in_({c.context_id for c in session.candidates if c.context_id})
            )
        )
    }
    rows: list[dict[str, Any]] = []
    decisions = session_decisions(db, session)
    for candidate in session.candidates:
        user = people[candidate.learner_id]
        current = decisions.get(candidate.id, {})
        title = current.get(("title", framework.code))
        rows.append(
            {
                "candidate": candidate,
                "name": display_name(user, user.sub),
                "course": courses.get(candidate.context_id or 0),
                "decided": sum(1 for b in framework.blocs if ("bloc", b.code) in current),
                "validated": sum(
                    1
                    for b in framework.blocs
                    if (d := current.get(("bloc", b.code))) is not None and d.is_validated
                ),
                "title": title,
            }
        )
    return render_template(
        "certification/admin/session.html",
        session=session,
        framework=framework,
        rows=rows,
        roles=[r.value for r in JuryRole],
        courses=courses_using(db, session.framework_code) if not session.is_signed else [],
        form=form or {},
        errors=errors or {},
        field_label=field_label,
    )
