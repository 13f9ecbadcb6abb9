"""How long a holder's identity stays: only for certified holders, and only so long.

When a session's minutes are signed (:func:`schedule_identity_deletion`), each of its
candidates' identity is settled:

* a holder with a final, validated decision (a bloc or the title) in any signed session
  keeps it until the signing date of their latest signed session plus
  ``JALON_RETENTION_IDENTITY_DAYS`` (``delete_after``; ``jalon purge`` deletes the row the
  day after);
* a holder with none loses it at once, unless they are a candidate of a session still
  open, which will need it (that session settles it when it is signed).

Decisions count as the jury left them: a validated decision later corrected by another
(``supersedes_id``) no longer counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    HolderIdentity,
    JuryDecision,
    SessionStatus,
)
from lti_tool.config import Settings
from lti_tool.db import utcnow


@dataclass(frozen=True)
class Standing:
    """What the sessions say of one holder, for their identity's retention."""

    is_certified: bool  # a final validated decision, not corrected since, in a signed session
    is_pending: bool  # a candidate of a session not yet signed
    last_signed_at: dt.datetime | None


@dataclass
class RetentionReport:
    """How many identities a signing deleted at once, and how many it dated."""

    deleted: int = 0
    scheduled: int = 0


def standing(db: Session, learner_id: int) -> Standing:
    """Return the holder's standing across every session they are a candidate of."""
    newer = aliased(JuryDecision)
    validated = db.scalar(
        sa.select(
            sa.exists()
            .where(
                JuryDecision.candidate_id == Candidate.id,
                Candidate.learner_id == learner_id,
                Candidate.session_id == CertificationSession.id,
                CertificationSession.status == SessionStatus.SIGNED,
                JuryDecision.is_final.is_(True),
                JuryDecision.is_validated.is_(True),
            )
            .where(~sa.exists().where(newer.supersedes_id == JuryDecision.id))
        )
    )
    pending = db.scalar(
        sa.select(
            sa.exists().where(
                Candidate.learner_id == learner_id,
                Candidate.session_id == CertificationSession.id,
                CertificationSession.status != SessionStatus.SIGNED,
            )
        )
    )
    last = db.scalar(
        sa.select(sa.func.max(CertificationSession.signed_at))
        .join(Candidate, Candidate.session_id == CertificationSession.id)
        .where(
            Candidate.learner_id == learner_id, CertificationSession.status == SessionStatus.SIGNED
        )
    )
    return Standing(bool(validated), bool(pending), last)


def may_keep(found: Standing) -> bool:
    """Return whether an identity may be stored for a holder in this standing."""
    return found.is_certified or found.is_pending


def settle(db: Session, identity: HolderIdentity, retention_days: int, now: dt.datetime) -> bool:
    """Date or delete one identity by its holder's standing; return whether it stays."""
    found = standing(db, identity.learner_id)
    if found.is_certified:
        signed = (found.last_signed_at or now).astimezone(dt.UTC).date()
        identity.delete_after = signed + dt.timedelta(days=retention_days)
        db.flush()
        return True
    if found.is_pending:
        return True
    db.delete(identity)
    db.flush()
    return False


def schedule_identity_deletion(
    db: Session,
    session: CertificationSession,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> RetentionReport:
    """Settle the identity of each candidate of a session whose minutes were just signed.

    Call it in the transaction that signs the session (its status already ``signed``);
    it flushes, never commits.
    """
    moment = now or utcnow()
    report = RetentionReport()
    identities = db.scalars(
        sa.select(HolderIdentity)
        .join(Candidate, Candidate.learner_id == HolderIdentity.learner_id)
        .where(Candidate.session_id == session.id)
        .order_by(HolderIdentity.id)
    ).all()
    for identity in identities:
        if settle(db, identity, settings.certifier.identity_retention_days, moment):
            report.scheduled += identity.delete_after is not None
        else:
            report.deleted += 1
    return report
