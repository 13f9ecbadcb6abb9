"""xAPI statements of the jury's decisions, queued in the transaction that makes them final.

The minutes' signature makes a session's decisions final; the code that signs calls
:func:`record_decisions` in the same transaction, once the credentials are issued, so the
statements exist exactly when the signed decisions do. A correction after signing is a new
decision naming the old one; :func:`record_correction` queues its statement and voids the
old one's (:mod:`xapi.jury` builds them, :mod:`xapi.voiding` voids).

Why a correction always voids the statement it replaces, not only when it reverses a
certification: a correction says the earlier decision was wrong, and the LRS should then
hold one decision per candidate and bloc, as the minutes do. Left in place, a corrected
*earned* would keep a holder in "who holds bloc B2" (the credential it names is revoked),
and a corrected *failed* would count in the jury's refusal rate a refusal the jury took
back. The voided statement stays readable in the LRS (``voidedStatementId``) and the new
one refers to it (``context.statement``). A later session's decision on the same bloc is
not a correction: both stand.

Both functions are idempotent: statement ids are UUIDv5 of the decisions, and an id the
outbox already holds is not written again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.links import credential_id, verification_url
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    IssuedCredential,
    JuryDecision,
)
from lti_tool.config import Settings
from lti_tool.models import Deployment, LtiContext, LtiUser, Platform
from xapi import events
from xapi.columns import utcnow
from xapi.jury import Credential, JuryDecided, build_decision, decision_statement_id
from xapi.outbox import Serialized, Status, enqueue, outbox
from xapi.voiding import voiding


def record_decisions(
    db: Session,
    session: CertificationSession,
    decisions: Iterable[JuryDecision],
    credentials_by_decision: Mapping[int, IssuedCredential],
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Queue the statements of a signed session's decisions; return how many were new.

    ``credentials_by_decision`` maps a decision's id to the credential issued for it (a
    revoked one is not named). A decision another one corrects is skipped: its correction
    speaks for it (see :func:`record_correction`).
    """
    if not session.is_signed:
        raise ValueError(f"session {session.id}: the minutes are not signed")
    chosen = list(decisions)
    for decision in chosen:
        if decision.candidate.session_id != session.id:
            raise ValueError(f"decision {decision.id} belongs to another session")
    superseded = _superseded(db, [d.id for d in chosen])
    # Who and where for every candidate at once: a session may have hundreds.
    scenes = _scenes(db, {d.candidate.id: d.candidate for d in chosen}.values())
    records = [
        build_decision(
            _event(
                db,
                session,
                decision,
                credentials_by_decision.get(decision.id),
                settings,
                scenes,
            ),
            settings.base_url,
        )
        for decision in chosen
        if decision.id not in superseded
    ]
    return _enqueue_new(db, records, now)


def record_correction(
    db: Session,
    old_decision: JuryDecision,
    new_decision: JuryDecision,
    credential: IssuedCredential | None,
    settings: Settings,
) -> int:
    """Queue a correction's statement and void the corrected one's; return how many were new.

    The old statement is voided if it may have reached the LRS; one still waiting in the
    outbox is withdrawn instead, and one the LRS refused (a dead letter) is dropped. The
    old statement's row leaves the outbox either way, so a later erasure of the person
    does not void it a second time.
    """
    if new_decision.supersedes_id != old_decision.id:
        raise ValueError(f"decision {new_decision.id} does not correct decision {old_decision.id}")
    if new_decision.candidate_id != old_decision.candidate_id or (
        (new_decision.scope, new_decision.code) != (old_decision.scope, old_decision.code)
    ):
        raise ValueError("a correction is about the same candidate and the same bloc or title")
    session = new_decision.candidate.session
    if not session.is_signed:
        raise ValueError(f"session {session.id}: the minutes are not signed")
    base = settings.base_url
    record = build_decision(_event(db, session, new_decision, credential, settings), base)
    if _held(db, [str(record.id)]):
        return 0  # recorded already
    now = utcnow()
    old_id = str(decision_statement_id(base, old_decision.id))
    old = db.execute(
        sa.select(outbox.c.id, outbox.c.status, outbox.c.claimed_until).where(
            outbox.c.statement_id == old_id
        )
    ).one_or_none()
    written: list[Serialized] = [record]
    if old is None or _may_have_reached_the_lrs(old.status, old.claimed_until, now):
        # Dated as the correction, so that recording it again writes the same bytes.
        written.append(voiding(base, old_id, new_decision.decided_at))
    if old is not None:
        db.execute(sa.delete(outbox).where(outbox.c.id == old.id))
    return _enqueue_new(db, written, now)


def _may_have_reached_the_lrs(
    status: str, claimed_until: dt.datetime | None, now: dt.datetime
) -> bool:
    if status == Status.DELIVERED:
        return True
    # A relay holding it may be sending it right now.
    return status == Status.PENDING and claimed_until is not None and claimed_until > now


def _enqueue_new(db: Session, records: list[Serialized], now: dt.datetime | None) -> int:
    held = _held(db, [str(r.id) for r in records])
    fresh = [r for r in records if str(r.id) not in held]
    return enqueue(db, fresh, now=now)


def _held(db: Session, statement_ids: list[str]) -> set[str]:
    if not statement_ids:
        return set()
    found = db.scalars(
        sa.select(outbox.c.statement_id).where(outbox.c.statement_id.in_(statement_ids))
    )
    return set(found)


def _superseded(db: Session, decision_ids: list[int]) -> set[int]:
    if not decision_ids:
        return set()
    rows = db.scalars(
        sa.select(JuryDecision.supersedes_id).where(JuryDecision.supersedes_id.in_(decision_ids))
    )
    return {row for row in rows if row is not None}


@dataclass(frozen=True)
class _Scene:
    """Who the candidate is to the LRS, and the course their evidence comes from."""

    learner: events.LtiUser
    platform_name: str
    lms: events.LmsContext | None


def _scenes(db: Session, candidates: Iterable[Candidate]) -> dict[int, _Scene]:
    """Return each candidate's scene, in three queries whatever their number."""
    candidates = list(candidates)
    users = {
        row.id: (row.issuer, row.sub)
        for row in db.execute(
            sa.select(LtiUser.id, LtiUser.issuer, LtiUser.sub).where(
                LtiUser.id.in_({c.learner_id for c in candidates})
            )
        )
    }
    context_ids = {c.context_id for c in candidates if c.context_id is not None}
    courses = {
        row.id: row
        for row in db.scalars(sa.select(LtiContext).where(LtiContext.id.in_(context_ids)))
    }
    platforms = _platform_names(db, {issuer for issuer, _ in users.values()})
    scenes = {}
    for candidate in candidates:
        issuer, sub = users[candidate.learner_id]
        course = courses.get(candidate.context_id) if candidate.context_id else None
        deployment = course.deployment_id if course is not None else None
        platform_name = (
            platforms.get((issuer, deployment)) or platforms.get((issuer, None)) or issuer
        )
        lms = None
        if course is not None and course.issuer == issuer:
            lms = events.LmsContext(
                issuer=issuer,
                platform_name=platform_name,
                deployment_id=course.deployment_id,
                context_id=course.context_id,
                context_title=course.title,
            )
        scenes[candidate.id] = _Scene(events.LtiUser(issuer, sub), platform_name, lms)
    return scenes


def _event(
    db: Session,
    session: CertificationSession,
    decision: JuryDecision,
    credential: IssuedCredential | None,
    settings: Settings,
    scenes: dict[int, _Scene] | None = None,
) -> JuryDecided:
    """Return the domain event of a decision: who, where, what, and the credential if any."""
    candidate: Candidate = decision.candidate
    scene = (scenes or _scenes(db, [candidate]))[candidate.id]
    if decision.scope not in (DecisionScope.BLOC, DecisionScope.TITLE):
        raise ValueError(f"decision {decision.id}: unknown scope {decision.scope!r}")
    issued = None
    if credential is not None and credential.revoked_at is None:
        if credential.decision_id != decision.id:
            raise ValueError(f"credential {credential.public_id} is not decision {decision.id}'s")
        issued = Credential(
            credential_id(credential.public_id),
            verification_url(settings.base_url, credential.public_id),
        )
    return JuryDecided(
        learner=scene.learner,
        platform_name=scene.platform_name,
        lms=scene.lms,
        framework_code=session.framework_code,
        session_id=session.id,
        jury_date=session.jury_date,
        decision_id=decision.id,
        bloc_code=decision.code if decision.scope == DecisionScope.BLOC else None,
        is_validated=decision.is_validated,
        decided_at=decision.decided_at,
        credential=issued if decision.is_validated else None,
        corrects_decision_id=decision.supersedes_id,
    )


def _platform_names(db: Session, issuers: set[str]) -> dict[tuple[str, str | None], str]:
    """Return the names platforms were registered under, by (issuer, deployment id).

    ``(issuer, None)`` is the first platform of that issuer, for a candidate without a
    course. Every other statement names the platform so; an unnamed one is its issuer.
    """
    rows = db.execute(
        sa.select(Platform.issuer, Platform.name, Deployment.deployment_id)
        .outerjoin(Deployment, Deployment.platform_id == Platform.id)
        .where(Platform.issuer.in_(issuers))
        .order_by(Platform.id, Deployment.id)
    )
    names: dict[tuple[str, str | None], str] = {}
    for issuer, name, deployment_id in rows:
        if name:
            names.setdefault((issuer, None), name)
            if deployment_id is not None:
                names.setdefault((issuer, deployment_id), name)
    return names
