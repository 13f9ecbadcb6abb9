"""Rows of the certification tables for the identity tests, written with the ORM directly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    HolderIdentity,
    JuryDecision,
    SessionStatus,
)
from lti_tool.db import Database
from lti_tool.models import LtiUser

SIGNED_AT = dt.datetime(2026, 6, 30, 15, 0, tzinfo=dt.UTC)
CAMILLE = {
    "birth_name": "Exemple-Dupré",
    "first_name_1": "Camille",
    "birth_year": 1990,
    "birth_month": 5,
    "birth_day": 14,
    "sex": "F",
    "birth_insee_code": "75056",
    "birth_city": "Paris",
    "access_route": "VAE",
    "vae_route": "VAE_CLASSIQUE",
    "source": "csv",
}


def person(db: Session, sub: str, *, email: str | None = None, login: str | None = None) -> int:
    """Insert a learner of a made-up platform; return their id."""
    user = LtiUser(
        issuer="https://lms.example.edu",
        sub=sub,
        name=f"Personne {sub}",
        email=email,
        preferred_username=login,
    )
    db.add(user)
    db.flush()
    return user.id


def session_row(db: Session, title: str = "Session de juin 2026", *, signed: bool = False) -> int:
    """Insert a certification session, open or signed; return its id."""
    row = CertificationSession(
        framework_code="community-manager-n6",
        framework_version="1",
        title=title,
        jury_date=dt.date(2026, 6, 30),
        status=SessionStatus.SIGNED if signed else SessionStatus.OPEN,
        signed_at=SIGNED_AT if signed else None,
    )
    db.add(row)
    db.flush()
    return row.id


def candidate(db: Session, session_id: int, learner_id: int) -> int:
    """Present a learner to a session; return the candidate's id."""
    count = db.scalar(sa.select(sa.func.count()).where(Candidate.session_id == session_id))
    row = Candidate(session_id=session_id, learner_id=learner_id, number=int(count or 0) + 1)
    db.add(row)
    db.flush()
    return row.id


def decide(db: Session, candidate_id: int, *, validated: bool, final: bool = True) -> int:
    """Record a jury decision on bloc B1; return its id."""
    row = JuryDecision(
        candidate_id=candidate_id,
        scope=DecisionScope.BLOC,
        code="B1",
        is_validated=validated,
        decided_by="Présidente du jury",
        is_final=final,
    )
    db.add(row)
    db.flush()
    return row.id


def identity(db: Session, learner_id: int, **values: object) -> int:
    """Store an identity for a learner (Camille's values unless told); return its id."""
    row = HolderIdentity(learner_id=learner_id, **{**CAMILLE, **values})
    db.add(row)
    db.flush()
    return row.id


@dataclass(frozen=True)
class Scene:
    """Two learners, candidates of one session, and a learner who is not a candidate."""

    session_id: int
    first: int
    second: int
    outsider: int
    first_candidate: int
    second_candidate: int


def scene(database: Database, *, signed: bool = False) -> Scene:
    """Build two candidates (by e-mail and by login) and one non-candidate."""
    with database.session() as db:
        session_id = session_row(db, signed=signed)
        first = person(db, "s-1", email="Camille@Example.edu")
        second = person(db, "s-2", login="hdurand")
        outsider = person(db, "s-3", email="zoe@example.edu")
        return Scene(
            session_id,
            first,
            second,
            outsider,
            candidate(db, session_id, first),
            candidate(db, session_id, second),
        )
