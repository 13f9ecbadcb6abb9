"""What the issuance tests share: a signed session with decisions, written as ORM rows.

The jury's own domain functions are written beside this piece; these rows are what they
write (a session, candidates, one decision per bloc and for the title, final once signed).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    IssuedCredential,
    JuryDecision,
    SessionStatus,
)
from lti_tool.models import LtiUser
from tests.lti_tool.evaluation import factories

FRAMEWORK = "community-manager-n6"
BLOCS = ("B1", "B2", "B3", "B4")
DECIDED = dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Made:
    """The ids of what ``signed_session`` wrote."""

    session_id: int
    candidates: tuple[int, ...]
    learners: tuple[int, ...]


def signed_session(
    db: Session,
    *,
    learners: int = 2,
    validated: dict[str, bool] | None = None,
    is_final: bool = True,
    emails: tuple[str | None, ...] = (),
    learner_ids: tuple[int, ...] = (),
) -> Made:
    """Write a session whose candidates each got a decision on every bloc and the title."""
    outcome = dict.fromkeys((*BLOCS, FRAMEWORK), True)
    outcome.update(validated or {})
    session = CertificationSession(
        framework_code=FRAMEWORK,
        framework_version="1.0",
        title="Session de décembre 2026",
        place="Lyon",
        jury_date=DECIDED.date(),
        status=SessionStatus.SIGNED if is_final else SessionStatus.OPEN,
        signed_at=DECIDED if is_final else None,
        signed_by="Claire Président" if is_final else None,
    )
    db.add(session)
    db.flush()
    ids = list(learner_ids)
    if not ids:
        where = factories.course(db)
        for number in range(learners):
            ids.append(factories.person(db, where, f"Candidat {number + 1}"))
    for number, learner_id in enumerate(ids):
        if number < len(emails):
            user = db.get(LtiUser, learner_id)
            assert user is not None
            user.email = emails[number]
        candidate = Candidate(session_id=session.id, learner_id=learner_id, number=number + 1)
        db.add(candidate)
        db.flush()
        for code, is_validated in outcome.items():
            db.add(
                JuryDecision(
                    candidate_id=candidate.id,
                    scope=DecisionScope.TITLE if code == FRAMEWORK else DecisionScope.BLOC,
                    code=code,
                    is_validated=is_validated,
                    decided_by="Claire Président",
                    decided_at=DECIDED,
                    is_final=is_final,
                )
            )
    db.flush()
    candidates = db.scalars(
        sa.select(Candidate.id).where(Candidate.session_id == session.id).order_by(Candidate.number)
    )
    return Made(session.id, tuple(candidates), tuple(ids))


def credentials(db: Session, session_id: int | None = None) -> list[IssuedCredential]:
    """Return the issued credentials, of one session if given, oldest first."""
    query = sa.select(IssuedCredential).order_by(IssuedCredential.id)
    if session_id is not None:
        query = (
            query.join(JuryDecision, JuryDecision.id == IssuedCredential.decision_id)
            .join(Candidate, Candidate.id == JuryDecision.candidate_id)
            .where(Candidate.session_id == session_id)
        )
    return list(db.scalars(query))


def document(credential: IssuedCredential) -> dict[str, Any]:
    """Return a stored credential's JSON."""
    parsed: dict[str, Any] = json.loads(credential.document)
    return parsed


def public_id() -> str:
    """Return a public id nothing has."""
    return str(uuid.uuid4())
