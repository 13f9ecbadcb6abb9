"""The holder identity forms: the candidate's own, and the administrator's per candidate.

A learner who is a candidate of a session (of any of their courses) fills in what the
Caisse des Dépôts needs and the LMS never sends; they see and change only their own, and
only while one of their sessions is open: once every one is signed, only an administrator
corrects it. Values are posted in the body, never in a URL, and never logged.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from marshmallow import ValidationError

from lti_tool import csrf
from lti_tool.auth import admin_required
from lti_tool.certification import identity_retention
from lti_tool.certification.identity import (
    FIELDS,
    IdentityData,
    field_errors,
    identity_of,
    identity_schema,
    missing_for_accrochage,
    save_identity,
    values_of,
)
from lti_tool.certification.models import Candidate, CertificationSession, SessionStatus
from lti_tool.db import db_session, utcnow
from lti_tool.lti import session
from lti_tool.models import LtiUser
from lti_tool.people import display_name
from lti_tool.views.candidate_identity_words import choices, labels, missing_labels

blueprint = Blueprint("candidate_identity", __name__)
TRANSPORT_FIELDS = frozenset({session.PARAM, csrf.FIELD})


def _posted() -> dict[str, Any]:
    """Return the posted fields but the session token and CSRF token (others are refused)."""
    return {name: request.form.get(name) for name in request.form if name not in TRANSPORT_FIELDS}


def _sessions_of(learner_id: int) -> list[CertificationSession]:
    return list(
        db_session().scalars(
            sa.select(CertificationSession)
            .join(Candidate, Candidate.session_id == CertificationSession.id)
            .where(Candidate.learner_id == learner_id)
            .order_by(CertificationSession.jury_date, CertificationSession.id)
        )
    )


def _page(template: str, values: dict[str, str], errors: dict[str, list[str]], **extra: Any) -> str:
    return render_template(
        template,
        values=values,
        errors=errors,
        fields=FIELDS,
        labels=labels(),
        choices=choices(),
        retention_days=current_app.config["JALON"].certifier.identity_retention_days,
        **extra,
    )


# The candidate's own form ---------------------------------------------------------------


@blueprint.route("/certification/mon-identite", methods=["GET", "POST"])
@session.learner_required
def mine() -> ResponseReturnValue:
    """Let a candidate see and, while a session of theirs is open, give their identity."""
    learner_id = session.current().user_pk  # type: ignore[union-attr]
    sessions = _sessions_of(learner_id) if learner_id is not None else []
    if not sessions:
        abort(404, description=_("Vous n’êtes candidat à aucune session de certification."))
    is_open = any(s.status != SessionStatus.SIGNED for s in sessions)
    identity = identity_of(db_session(), learner_id)  # type: ignore[arg-type]
    page = {"sessions": sessions, "is_open": is_open}
    if request.method == "GET":
        return _page(
            "certification/identity/mine.html",
            values_of(identity),
            {},
            identity=identity,
            missing=missing_labels(missing_for_accrochage(identity)),
            saved=request.args.get("enregistre") == "1",
            **page,
        )
    if not is_open:
        abort(403, description=_("Vos sessions sont signées : seul l’administrateur corrige."))
    try:
        data: IdentityData = identity_schema().load(_posted())
    except ValidationError as error:
        errors = field_errors(error)
        values = {k: str(v or "") for k, v in _posted().items() if k in FIELDS}
        return _page(
            "certification/identity/mine.html",
            values,
            errors,
            identity=identity,
            missing=[],
            saved=False,
            **page,
        ), 400
    learner = db_session().get(LtiUser, learner_id)
    save_identity(db_session(), learner, data, source="form")  # type: ignore[arg-type]
    return redirect(session.lti_url("candidate_identity.mine", enregistre="1"), code=303)


def identity_form_url() -> str | None:
    """Return the candidate form's URL for the launched learner if they are a candidate."""
    launch = session.current()
    if launch is None or launch.user_pk is None or not launch.roles.is_learner:
        return None
    is_candidate = db_session().scalar(
        sa.select(sa.exists().where(Candidate.learner_id == launch.user_pk))
    )
    return session.lti_url("candidate_identity.mine") if is_candidate else None


@blueprint.app_context_processor
def _template_functions() -> dict[str, Any]:
    return {"certification_identity_url": identity_form_url}


# The administrator's pages --------------------------------------------------------------


@blueprint.get("/admin/certification/sessions/<int:session_id>/identites")
@admin_required
def session_list(session_id: int) -> str:
    """List a session's candidates with what their identity lacks for the accrochage."""
    found = db_session().get(CertificationSession, session_id)
    if found is None:
        abort(404, description=_("Cette session n’existe pas."))
    rows = []
    for candidate in found.candidates:
        person = db_session().get(LtiUser, candidate.learner_id)
        identity = identity_of(db_session(), candidate.learner_id)
        rows.append(
            {
                "candidate": candidate,
                "name": display_name(person, person.sub if person else ""),
                "identity": identity,
                "missing": missing_labels(missing_for_accrochage(identity)),
            }
        )
    return render_template(
        "certification/identity/admin_session.html", certification_session=found, rows=rows
    )


@blueprint.route(
    "/admin/certification/candidats/<int:candidate_id>/identite", methods=["GET", "POST"]
)
@admin_required
def edit(candidate_id: int) -> ResponseReturnValue:
    """Let an administrator enter or correct one candidate's identity, signed session or not."""
    db = db_session()
    candidate = db.get(Candidate, candidate_id)
    if candidate is None:
        abort(404, description=_("Ce candidat n’existe pas."))
    person = db.get(LtiUser, candidate.learner_id)
    identity = identity_of(db, candidate.learner_id)
    page = {
        "candidate": candidate,
        "name": display_name(person, person.sub if person else ""),
        "certification_session": candidate.session,
        "identity": identity,
    }
    if request.method == "GET":
        missing = missing_labels(missing_for_accrochage(identity))
        saved = request.args.get("enregistre") == "1"
        return _page(
            "certification/identity/admin_edit.html",
            values_of(identity),
            {},
            missing=missing,
            saved=saved,
            **page,
        )
    try:
        data: IdentityData = identity_schema().load(_posted())
    except ValidationError as error:
        values = {k: str(v or "") for k, v in _posted().items() if k in FIELDS}
        return _page(
            "certification/identity/admin_edit.html",
            values,
            field_errors(error),
            missing=[],
            saved=False,
            **page,
        ), 400
    standing = identity_retention.standing(db, candidate.learner_id)
    if not identity_retention.may_keep(standing):
        abort(
            409,
            description=_(
                "Rien n’est validé pour ce candidat et ses sessions sont signées : "
                "son identité n’est pas conservée."
            ),
        )
    saved_identity = save_identity(db, person, data, source="admin")  # type: ignore[arg-type]
    if standing.is_certified:
        days = current_app.config["JALON"].certifier.identity_retention_days
        identity_retention.settle(db, saved_identity, days, utcnow())
    return redirect(url_for(".edit", candidate_id=candidate_id, enregistre="1"), code=303)
