"""Issuing credentials for the jury's decisions, revoking them, re-issuing them.

Each final, current decision that validates a bloc or the title becomes one signed
``OpenBadgeCredential``, stored exactly as issued. The recipient is identified by a salted
hash of an e-mail address — the one the candidate chose for their badges, else the one the
LMS sent — never by the LTI ``sub``; without any address the credential names no recipient
identifier. A decision that already has a credential, live or revoked, gets no other one
here: a revocation sticks until the jury records a new decision.

A batch loads the signing key once, builds each achievement once, and draws every status
list index in one locked update (:mod:`lti_tool.certification.status_lists`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from lti_tool.certification import keys, links, status_lists
from lti_tool.certification.decisions import session_decisions
from lti_tool.certification.issuer import achievement, issuer_profile, session_framework
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    IssuedCredential,
    JuryDecision,
)
from lti_tool.certification.ob3 import (
    Achievement,
    IssuerProfile,
    Recipient,
    build_credential,
    sign,
)
from lti_tool.config import Settings
from lti_tool.db import utcnow
from lti_tool.models import LtiUser
from referentiel.model import Framework

REPLACED = "remplacé"
CORRECTED = "décision corrigée"


class IssuanceError(ValueError):
    """A credential cannot be issued; the message names what is missing."""


def current_decisions(db: Session, session: CertificationSession) -> list[JuryDecision]:
    """Return the decisions in force of a session's candidates, by candidate number."""
    numbers = {candidate.id: candidate.number for candidate in session.candidates}
    in_force = [d for by_key in session_decisions(db, session).values() for d in by_key.values()]
    return sorted(in_force, key=lambda d: (numbers[d.candidate_id], d.scope, d.code))


@dataclass
class _Batch:
    """What every credential of one session shares: key, issuer, achievements."""

    settings: Settings
    framework: Framework
    key_id: str
    private_key: Ed25519PrivateKey
    method: str
    issuer: IssuerProfile
    achievements: dict[tuple[str, str], Achievement]

    @classmethod
    def open(cls, db: Session, session: CertificationSession, settings: Settings) -> _Batch:
        framework = session_framework(db, session)
        key = keys.current_key(db)
        return cls(
            settings,
            framework,
            key.key_id,
            keys.private_key(key),
            keys.verification_method(settings.base_url, key),
            issuer_profile(settings),
            {},
        )

    def achievement(self, scope: str, code: str) -> Achievement:
        found = self.achievements.get((scope, code))
        if found is None:
            found = achievement(self.framework, scope, code, self.settings.base_url)
            self.achievements[(scope, code)] = found
        return found


def _recipient_email(candidate: Candidate, learner: LtiUser | None) -> str | None:
    if candidate.badge_email:
        return candidate.badge_email
    return learner.email if learner is not None and learner.email else None


def _issue(
    db: Session,
    batch: _Batch,
    decisions: list[JuryDecision],
    now: dt.datetime,
    replacing: dict[int, IssuedCredential] | None = None,
) -> list[IssuedCredential]:
    """Build, sign and store one credential per decision (all of one session)."""
    if not decisions:
        return []
    learners = {
        user.id: user
        for user in db.scalars(
            sa.select(LtiUser).where(LtiUser.id.in_({d.candidate.learner_id for d in decisions}))
        )
    }
    slots = status_lists.allocate(db, len(decisions))
    base = batch.settings.base_url
    issued = []
    for decision, slot in zip(decisions, slots, strict=True):
        candidate = decision.candidate
        learner = learners.get(candidate.learner_id)
        email = _recipient_email(candidate, learner)
        public_id = str(uuid.uuid4())
        document = build_credential(
            public_id=public_id,
            issuer=batch.issuer,
            achievement=batch.achievement(decision.scope, decision.code),
            recipient=Recipient.from_email(email) if email else None,
            is_validated=decision.is_validated,
            decided_at=decision.decided_at,
            valid_from=now,
            status_list_url=links.status_list_url(base, slot.list_id),
            status_index=slot.index,
        )
        signed = sign(document, batch.private_key, verification_method=batch.method, created=now)
        old = (replacing or {}).get(decision.id)
        issued.append(
            IssuedCredential(
                public_id=public_id,
                decision_id=decision.id,
                learner_id=candidate.learner_id,
                scope=decision.scope,
                code=decision.code,
                status_list_id=slot.list_id,
                status_index=slot.index,
                key_id=batch.key_id,
                document=json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
                issued_at=now,
                replaces_id=old.id if old is not None else None,
            )
        )
    db.add_all(issued)
    db.flush()
    return issued


def _credentials_of(db: Session, decision_ids: Iterable[int]) -> list[IssuedCredential]:
    ids = list(decision_ids)
    if not ids:
        return []
    return list(
        db.scalars(sa.select(IssuedCredential).where(IssuedCredential.decision_id.in_(ids)))
    )


def issue_for_session(
    db: Session,
    session: CertificationSession,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> list[IssuedCredential]:
    """Issue a credential for each final, current, validated decision that has none.

    A live credential of a decision since corrected is revoked ("décision corrigée"); the
    corrected decision's credential, if it validates, names the one it replaces.
    """
    when = now or utcnow()
    decisions = current_decisions(db, session)
    current_ids = {d.id for d in decisions}
    by_subject = {(d.candidate_id, d.scope, d.code): d for d in decisions}
    live_elsewhere: dict[int, IssuedCredential] = {}
    rows = db.execute(
        sa.select(IssuedCredential, JuryDecision)
        .join(JuryDecision, JuryDecision.id == IssuedCredential.decision_id)
        .join(Candidate, Candidate.id == JuryDecision.candidate_id)
        .where(
            Candidate.session_id == session.id,
            IssuedCredential.revoked_at.is_(None),
            JuryDecision.id.not_in(current_ids) if current_ids else sa.true(),
        )
    ).all()
    superseded = [credential for credential, _old in rows]
    for credential, old in rows:
        current = by_subject.get((old.candidate_id, old.scope, old.code))
        if current is not None:
            live_elsewhere[current.id] = credential
    if superseded:
        revoke_all(db, superseded, reason=CORRECTED, now=when)
    has_credential = {c.decision_id for c in _credentials_of(db, current_ids)}
    wanted = [d for d in decisions if d.is_final and d.is_validated and d.id not in has_credential]
    if not wanted:
        return []
    return _issue(db, _Batch.open(db, session, settings), wanted, when, live_elsewhere)


def issue_for_decision(
    db: Session, decision: JuryDecision, settings: Settings, *, now: dt.datetime | None = None
) -> IssuedCredential | None:
    """Issue the credential of one decision; None unless it is final, validated and new."""
    if not (decision.is_final and decision.is_validated):
        return None
    if db.scalar(sa.select(JuryDecision.id).where(JuryDecision.supersedes_id == decision.id)):
        return None  # corrected since: the correction is the current decision
    if _credentials_of(db, [decision.id]):
        return None
    session = decision.candidate.session
    issued = _issue(db, _Batch.open(db, session, settings), [decision], now or utcnow())
    return issued[0]


def revoke(
    db: Session, credential: IssuedCredential, *, reason: str, now: dt.datetime | None = None
) -> None:
    """Revoke a credential: its status bit is set and the reason kept for its public page."""
    revoke_all(db, [credential], reason=reason, now=now)


def revoke_all(
    db: Session,
    credentials: Iterable[IssuedCredential],
    *,
    reason: str,
    now: dt.datetime | None = None,
) -> None:
    """Revoke credentials with one update of each status list they use."""
    reason = reason.strip()
    if not reason:
        raise IssuanceError("reason: give the reason of the revocation")
    if len(reason) > 300:
        raise IssuanceError("reason: 300 characters at most")
    when = now or utcnow()
    by_list: dict[int, list[int]] = {}
    for credential in credentials:
        if credential.revoked_at is None:
            credential.revoked_at = when
            credential.revocation_reason = reason
            by_list.setdefault(credential.status_list_id, []).append(credential.status_index)
    for list_id, indexes in sorted(by_list.items()):
        status_lists.set_revoked(db, list_id, indexes, when)


def reissue_for_email(
    db: Session,
    candidate: Candidate,
    email: str,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> list[IssuedCredential]:
    """Record the e-mail a candidate chose and re-issue their live credentials for it.

    Each new credential names the one it replaces, which is revoked ("remplacé").
    """
    when = now or utcnow()
    candidate.badge_email = email
    live = db.scalars(
        sa.select(IssuedCredential)
        .join(JuryDecision, JuryDecision.id == IssuedCredential.decision_id)
        .where(JuryDecision.candidate_id == candidate.id, IssuedCredential.revoked_at.is_(None))
        .order_by(IssuedCredential.id)
    ).all()
    if not live:
        return []
    decisions = [db.get(JuryDecision, c.decision_id) for c in live]
    replacing = {c.decision_id: c for c in live}
    issued = _issue(
        db,
        _Batch.open(db, candidate.session, settings),
        [d for d in decisions if d is not None],
        when,
        replacing,
    )
    revoke_all(db, live, reason=REPLACED, now=when)
    return issued
