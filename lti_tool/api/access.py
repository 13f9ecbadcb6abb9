"""Who calls the API, and what they may read.

The administrator token reaches every course. An LTI session token reaches only the course
it was launched from: who evaluates there (``can_evaluate``) reads the whole course, a
learner only their own records. A course other than the caller's answers 404, as if it
did not exist.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, current_app, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lti_tool.lti import session as lti_session
from lti_tool.models import LtiContext, LtiMembership


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: the administrator, or a launched user of one course."""

    is_admin: bool = False
    context_id: int | None = None
    user_id: int | None = None
    is_staff: bool = False
    custom: dict[str, object] | None = None


def caller() -> Caller:
    """Return who is calling, or answer 401 when nobody valid is."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _sep, given = header.partition(" ")
        expected = current_app.config["JALON"].admin_token
        if (
            scheme.lower() != "bearer"
            or not expected
            or not hmac.compare_digest(given.strip().encode(), expected.encode())
        ):
            abort(401, description=_("Le jeton d’administration est invalide."))
        return Caller(is_admin=True)
    launch = lti_session.current()
    if launch is None or launch.is_anonymous or launch.context_pk is None:
        abort(
            401,
            description=_("Authentification requise : jeton de session LTI ou d’administration."),
        )
    return Caller(
        context_id=launch.context_pk,
        user_id=launch.user_pk,
        is_staff=lti_session.can_evaluate(launch),
        custom=dict(launch.custom),
    )


def open_context(session: Session, who: Caller, context_id: int) -> None:
    """Let the caller into a course, or answer 404 (unknown, or someone else's)."""
    if not who.is_admin and who.context_id != context_id:
        abort(404, description=_("Ce cours est introuvable."))
    if session.get(LtiContext, context_id) is None:
        abort(404, description=_("Ce cours est introuvable."))


def require_staff(who: Caller) -> None:
    """Let only staff of the course (or the administrator) through."""
    if not (who.is_admin or who.is_staff):
        abort(403, description=_("Réservé aux formateurs du cours."))


def open_learner(session: Session, who: Caller, context_id: int, learner_id: int) -> None:
    """Let the caller read one learner: themselves, or anyone of the course for staff."""
    if not (who.is_admin or who.is_staff) and who.user_id != learner_id:
        abort(403, description=_("Un apprenant ne consulte que ses propres résultats."))
    member = session.scalar(
        sa.select(LtiMembership.id).where(
            LtiMembership.context_id == context_id, LtiMembership.user_id == learner_id
        )
    )
    if member is None:
        abort(404, description=_("Cet apprenant n’est pas inscrit à ce cours."))
