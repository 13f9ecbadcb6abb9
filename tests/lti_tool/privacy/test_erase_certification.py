"""Erasing a certified holder: the minutes' decisions stay (pseudonymised) or go with them."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.decisions import sign_minutes
from lti_tool.certification.models import Candidate, HolderIdentity, JuryDecision
from lti_tool.evaluation.storage import MemoryFileStorage
from lti_tool.models import LtiUser
from lti_tool.privacy.erase import ErasureRequest, erase
from tests.lti_tool.certification.jury_rows import db, decide_all, session_with_candidates

__all__ = ["db"]
NOW = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


def _signed_with_ana(db: Session) -> int:
    session, learners = session_with_candidates(db)
    decide_all(db, session)
    sign_minutes(db, session, signed_by="Claire Moreau", now=NOW)
    ana = learners["ana"]
    candidate = db.scalars(sa.select(Candidate).where(Candidate.learner_id == ana)).one()
    candidate.badge_email = "ana@example.org"
    db.add(
        HolderIdentity(
            learner_id=ana, birth_name="Costa", first_name_1="Ana", birth_year=1999, source="csv"
        )
    )
    db.flush()
    return ana


def _erase(db: Session, learner_id: int, *, keep: bool) -> dict[str, int]:
    person = db.get(LtiUser, learner_id)
    assert person is not None
    request = ErasureRequest(keep, "test", "cli", "https://jalon.example.edu", "k" * 32)
    return erase(db, person, MemoryFileStorage(), request, NOW).counts  # type: ignore[arg-type]


def test_kept_decisions_keep_the_candidacy_under_a_pseudonym(db: Session) -> None:
    ana = _signed_with_ana(db)
    counts = _erase(db, ana, keep=True)
    assert counts["holder_identity_deleted"] == 1
    assert counts["candidacies_kept"] == 1
    person = db.get(LtiUser, ana)
    assert person is not None
    assert person.name is None
    candidate = db.scalars(sa.select(Candidate).where(Candidate.learner_id == ana)).one()
    assert candidate.badge_email is None
    decisions = db.scalars(
        sa.select(JuryDecision).where(JuryDecision.candidate_id == candidate.id)
    ).all()
    assert len(decisions) == 5
    assert all(d.is_final for d in decisions)
    assert db.scalar(sa.select(sa.func.count()).select_from(HolderIdentity)) == 0


def test_without_kept_decisions_the_candidacy_goes(db: Session) -> None:
    ana = _signed_with_ana(db)
    counts = _erase(db, ana, keep=False)
    assert counts["candidacies_deleted"] == 1
    assert db.scalars(sa.select(Candidate).where(Candidate.learner_id == ana)).all() == []
    left = db.scalars(sa.select(JuryDecision)).all()
    assert {d.candidate.learner_id for d in left} != {ana}
