"""A learner's own credentials: download them (JSON, baked PNG), choose their e-mail.

Reached from "Ma progression" with the LTI session token, like the learner's other pages.
A learner reaches only their own credentials: any other public id is a 404, the same
answer as an id that names nothing, so nobody learns which ids exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lti_tool.certification import links
from lti_tool.certification.issuance import reissue_for_email
from lti_tool.certification.issuer import badge_image
from lti_tool.certification.models import Candidate, IssuedCredential
from lti_tool.certification.ob3.baking import bake_png
from lti_tool.certification.ob3.recipient import InvalidEmailError, normalise_email
from lti_tool.certification.verification import display, state_of
from lti_tool.config import Settings
from lti_tool.db import db_session, utcnow
from lti_tool.lti import session
from lti_tool.models import LtiUser

blueprint = Blueprint("my_credentials", __name__)
SAVED = "adresse"


@dataclass(frozen=True)
class MyCredential:
    """One line of "Mes certifications"."""

    public_id: str
    name: str
    scope: str
    code: str
    state: str
    reason: str | None
    issued_at: Any
    verify_url: str


def my_certifications(db: Session, learner_id: int | None, base_url: str) -> dict[str, Any]:
    """Return what the "Mes certifications" section shows; empty if not a candidate."""
    if learner_id is None:
        return {}
    candidates = list(db.scalars(sa.select(Candidate).where(Candidate.learner_id == learner_id)))
    if not candidates:
        return {}
    now = utcnow()
    rows = db.scalars(
        sa.select(IssuedCredential)
        .where(IssuedCredential.learner_id == learner_id)
        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.code)
    )
    credentials = [
        MyCredential(
            c.public_id,
            display(json.loads(c.document))["achievement"] or c.code,
            c.scope,
            c.code,
            state_of(c, now).value,
            c.revocation_reason,
            c.issued_at,
            links.verification_url(base_url, c.public_id),
        )
        for c in rows
    ]
    chosen = next((c.badge_email for c in candidates if c.badge_email), None)
    learner = db.get(LtiUser, learner_id)
    return {
        "credentials": credentials,
        "email": chosen or "",
        "lms_email": learner.email if learner is not None else None,
    }


def _learner_id() -> int:
    launch = session.current()
    if launch is None or launch.user_pk is None:
        abort(404)
    return launch.user_pk


def _mine(public_id: str) -> IssuedCredential:
    found = db_session().scalar(
        sa.select(IssuedCredential).where(
            IssuedCredential.public_id == public_id,
            IssuedCredential.learner_id == _learner_id(),
        )
    )
    if found is None:
        abort(404, description=_("Vous n’avez pas de badge portant cet identifiant."))
    return found


def _download(data: bytes, content_type: str, name: str) -> Response:
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _file_name(credential: IssuedCredential, extension: str) -> str:
    code = "".join(c if c.isascii() and c.isalnum() else "-" for c in credential.code)
    return f"badge-{code}-{credential.public_id[:8]}.{extension}"


@blueprint.get("/progression/certifications/<public_id>.json")
@session.learner_required
def download_json(public_id: str) -> Response:
    """Download the signed credential exactly as issued."""
    found = _mine(public_id)
    return _download(found.document.encode(), "application/json", _file_name(found, "json"))


@blueprint.get("/progression/certifications/<public_id>.png")
@session.learner_required
def download_png(public_id: str) -> Response:
    """Download the badge image with the signed credential baked in."""
    found = _mine(public_id)
    settings: Settings = current_app.config["JALON"]
    baked = bake_png(badge_image(db_session(), found, settings), found.document)
    return _download(baked, "image/png", _file_name(found, "png"))


@blueprint.route("/progression/certifications/adresse", methods=["GET", "POST"])
@session.learner_required
def choose_email() -> ResponseReturnValue:
    """Let a learner choose the e-mail their badges name; re-issue the live ones for it."""
    learner_id = _learner_id()
    settings: Settings = current_app.config["JALON"]
    db = db_session()
    candidates = list(db.scalars(sa.select(Candidate).where(Candidate.learner_id == learner_id)))
    if not candidates:
        abort(404, description=_("Vous n’êtes candidat à aucune session de certification."))
    if request.method == "GET":
        shown = my_certifications(db, learner_id, settings.base_url)
        return render_template("certification/public/email.html", value=shown["email"], errors={})
    given = request.form.get("badge_email", "")
    try:
        email = normalise_email(given)
    except InvalidEmailError:
        message = _("ce n’est pas une adresse électronique valide.")
        if not given.strip():
            message = _("indiquez une adresse électronique.")
        page = render_template(
            "certification/public/email.html", value=given, errors={"badge_email": message}
        )
        return page, 400
    changed = [c for c in candidates if c.badge_email != email]
    count = sum(len(reissue_for_email(db, c, email, settings)) for c in changed)
    return redirect(
        session.lti_url("progress.mine", certifications=SAVED, reemis=count) + "#certifications",
        code=303,
    )
