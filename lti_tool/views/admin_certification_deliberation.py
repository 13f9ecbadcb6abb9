"""Admin pages of the deliberation: a candidate's evidence and decisions, and the minutes.

The deliberation page shows, bloc by bloc, what Jalon holds (each competency's status,
the épreuves and their published evaluations, Jalon's proposal), the current decision
with its form, and the whole record of decisions and corrections. Signing asks first and
lists what stands in the way. After signing, a decision changes only by a correction.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool.auth import admin_required
from lti_tool.certification.decisions import (
    current_decisions,
    decide,
    history,
    sign_problems,
)
from lti_tool.certification.evidence import evidence_for
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    JuryDecision,
    JuryRole,
)
from lti_tool.certification.outcomes import correct_decision, sign_session
from lti_tool.certification.sessions import JuryError, Problem, session_framework
from lti_tool.db import db_session
from lti_tool.evaluation.status_words import status_names
from lti_tool.models import LtiContext, LtiUser
from lti_tool.people import display_name
from lti_tool.views.admin_certification import (
    error_fields,
    get_candidate,
    get_session,
    refusal_status,
)
from lti_tool.views.admin_certification_words import field_label, problem_text

blueprint = Blueprint(
    "admin_certification_deliberation", __name__, url_prefix="/admin/certification"
)
CANDIDATE = "/sessions/<int:session_id>/candidats/<int:candidate_id>"
DECISIONS = {"valide": True, "non_valide": False}
_INPUTS = frozenset({"is_validated", "reasons", "decided_by"})


def _verdict() -> bool:
    """Read the decision's radio buttons; anything else is a problem on ``is_validated``."""
    choice = request.form.get("decision", "")
    if choice not in DECISIONS:
        raise JuryError([Problem("is_validated", "bad_decision", choice[:20])])
    return DECISIONS[choice]


@blueprint.get(CANDIDATE)
@admin_required
def candidate_page(session_id: int, candidate_id: int) -> str:
    """Show a candidate's evidence per bloc, the decision forms and the record."""
    session = get_session(session_id)
    return _candidate_page(session, get_candidate(session, candidate_id))


@blueprint.post(f"{CANDIDATE}/decisions")
@admin_required
def decide_view(session_id: int, candidate_id: int) -> Response | tuple[str, int]:
    """Record the jury's decision on a bloc or the title."""
    session = get_session(session_id)
    candidate = get_candidate(session, candidate_id)
    form = request.form
    code = form.get("code", "")
    try:
        decision = decide(
            db_session(),
            candidate,
            scope=form.get("scope", ""),
            code=code,
            is_validated=_verdict(),
            reasons=form.get("reasons", ""),
            decided_by=form.get("decided_by", ""),
        )
    except JuryError as error:
        return _refused(session_id, candidate_id, error, code)
    flash(_("Décision enregistrée : %(code)s.", code=decision.code))
    return redirect(_candidate_url(candidate, decision.code))


@blueprint.post(f"{CANDIDATE}/corrections/<int:decision_id>")
@admin_required
def correct_view(
    session_id: int, candidate_id: int, decision_id: int
) -> Response | tuple[str, int]:
    """Correct a final decision: a new dated decision that names the one it corrects."""
    session = get_session(session_id)
    candidate = get_candidate(session, candidate_id)
    decision = db_session().get(JuryDecision, decision_id)
    if decision is None or decision.candidate_id != candidate.id:
        abort(404, description=_("Cette décision ne concerne pas ce candidat."))
    code = decision.code
    try:
        fixed = correct_decision(
            db_session(),
            decision,
            is_validated=_verdict(),
            reasons=request.form.get("reasons", ""),
            decided_by=request.form.get("decided_by", ""),
            settings=current_app.config["JALON"],
        )
    except JuryError as error:
        return _refused(session_id, candidate_id, error, code)
    flash(_("Correction enregistrée : %(code)s.", code=fixed.code))
    return redirect(_candidate_url(candidate, fixed.code))


@blueprint.get(f"{CANDIDATE}/livret.pdf")
@admin_required
def livret(session_id: int, candidate_id: int) -> Response:
    """Download the candidate's livret de compétences (PDF) from their course."""
    from lti_tool.views.matrix import NO_PDF, livret_html, paged_livret

    session = get_session(session_id)
    candidate = get_candidate(session, candidate_id)
    if candidate.context_id is None:
        abort(404, description=_("Le cours de ce candidat n’existe plus."))
    try:
        import weasyprint  # noqa: F401 (heavy: loaded only when a livret is asked for)
    except (ImportError, OSError):
        abort(503, str(NO_PDF))
    framework = session_framework(db_session(), session)
    html = livret_html(candidate.context_id, candidate.learner_id, framework)
    response = Response(paged_livret(html).write_pdf(), content_type="application/pdf")
    name = f"livret-candidat-{candidate.number}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/sessions/<int:session_id>/signer")
@admin_required
def sign_page(session_id: int) -> str:
    """Ask before signing; list what stands in the way, if anything."""
    return _sign_page(get_session(session_id))


@blueprint.post("/sessions/<int:session_id>/signer")
@admin_required
def sign(session_id: int) -> Response | tuple[str, int]:
    """Sign the minutes: every current decision becomes final."""
    session = get_session(session_id)
    try:
        signed = sign_session(
            db_session(),
            session,
            signed_by=request.form.get("signed_by", ""),
            settings=current_app.config["JALON"],
        )
    except JuryError as error:
        errors = error_fields(error)
        # A missing signatory is bad input; anything else is the session's state.
        status = 409 if any(p.field != "signed_by" for p in error.problems) else 400
        return _sign_page(get_session(session_id), errors=errors), status
    flash(_("Procès-verbal signé : %(count)d décisions définitives.", count=len(signed.decisions)))
    return redirect(url_for("admin_certification.session_page", session_id=session.id))


def _candidate_url(candidate: Candidate, code: str) -> str:
    return url_for(
        ".candidate_page",
        session_id=candidate.session_id,
        candidate_id=candidate.id,
        _anchor=f"decision-{code}",
    )


def _refused(session_id: int, candidate_id: int, error: JuryError, code: str) -> tuple[str, int]:
    """Show the page again with the problems next to the form's fields; nothing is stored."""
    errors = error_fields(error, prefix=f"{code}:")
    session = get_session(session_id)
    candidate = get_candidate(session, candidate_id)
    page = _candidate_page(session, candidate, errors=errors, form=request.form.to_dict())
    return page, refusal_status(error)


def _president(session: CertificationSession) -> str:
    return next((m.full_name for m in session.members if m.role == JuryRole.PRESIDENT), "")


def _candidate_page(
    session: CertificationSession,
    candidate: Candidate,
    *,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, str] | None = None,
) -> str:
    db = db_session()
    framework = session_framework(db, session)
    learner = db.get(LtiUser, candidate.learner_id)
    course = db.get(LtiContext, candidate.context_id) if candidate.context_id else None
    return render_template(
        "certification/admin/candidate.html",
        session=session,
        candidate=candidate,
        name=display_name(learner, learner.sub) if learner else "",
        course=course,
        evidence=evidence_for(db, candidate, framework),
        current=current_decisions(db, candidate),
        record=history(db, candidate),
        names=status_names(bloc=False),
        bloc_names=status_names(bloc=True),
        president=_president(session),
        errors=errors or {},
        # The problems the summary links to a field of a form (not the session's state).
        inputs=[k for k in errors or {} if k.split(":")[-1] in _INPUTS],
        form=form or {},
        field_label=field_label,
    )


def _sign_page(session: CertificationSession, *, errors: dict[str, list[str]] | None = None) -> str:
    db = db_session()
    problems = sign_problems(db, session) if not session.is_signed else []
    numbers = {f"candidate {c.number}": c for c in session.candidates}
    return render_template(
        "certification/admin/sign.html",
        session=session,
        problems=[(p, problem_text(p), numbers.get(p.field)) for p in problems],
        candidates=len(session.candidates),
        president=_president(session),
        errors=errors or {},
        field_label=field_label,
    )
