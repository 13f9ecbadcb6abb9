"""Read a signed jury session into the accrochage inputs (SQLAlchemy only, no Flask).

Who is declared: each candidate of a *signed* session with a final, validated decision on
the title and/or on blocs — the current decision of each (a correction supersedes the one
it names). The title and each validated bloc are certifications of their own in the RNCP,
so each is one passage, under its RNCP code (``RNCP12345`` or ``RNCP12345BC02``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, fields

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from lti_tool.certification import links
from lti_tool.certification.accrochage.build import flux_id, technical_id
from lti_tool.certification.accrochage.model import (
    Certifier,
    ExamSession,
    Flux,
    Holder,
    Identity,
    Issue,
    Obtained,
    Problem,
)
from lti_tool.certification.decisions import in_force
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    HolderIdentity,
    IssuedCredential,
    JuryDecision,
)
from lti_tool.certification.sessions import session_framework
from lti_tool.models import LtiUser
from referentiel.model import Framework

NameOf = Callable[[LtiUser], str]
_IDENTITY_FIELDS = tuple(f.name for f in fields(Identity))


class UnknownSessionError(LookupError):
    """No certification session has this id."""


@dataclass(frozen=True, slots=True)
class Declaration:
    """A session's file inputs, and what already stops it before any check of the values."""

    session: CertificationSession
    flux: Flux
    problems: tuple[Problem, ...]


def gather(
    db: Session,
    session_id: int,
    certifier: Certifier,
    base_url: str,
    now: dt.datetime,
    *,
    name_of: NameOf,
) -> Declaration:
    """Return the inputs of the session's file; raise UnknownSessionError for no session."""
    session = db.get(CertificationSession, session_id)
    if session is None:
        raise UnknownSessionError(session_id)
    problems: list[Problem] = []
    if not session.is_signed:
        problems.append(Problem("session", Issue.NOT_SIGNED))
    framework = _framework(db, session)
    if framework is None:
        detail = f"{session.framework_code} {session.framework_version}"
        problems.append(Problem("framework", Issue.UNKNOWN_FRAMEWORK, detail))
    holders = _holders(db, session, framework, base_url, name_of) if session.is_signed else ()
    if not holders and session.is_signed:
        problems.append(Problem("passageCertification", Issue.NO_HOLDER))
    flux = Flux(
        flux_id=flux_id(session.id, now),
        timestamp=now,
        certifier=certifier,
        session=ExamSession(
            session_id=session.id,
            jury_date=session.jury_date,
            exam_start=session.exam_start,
            exam_end=session.exam_end,
            exam_postal_code=session.exam_postal_code,
            exam_mode=session.exam_mode,
        ),
        holders=holders,
    )
    return Declaration(session, flux, tuple(problems))


def _framework(db: Session, session: CertificationSession) -> Framework | None:
    try:
        return session_framework(db, session)
    except LookupError:
        return None


def _holders(
    db: Session,
    session: CertificationSession,
    framework: Framework | None,
    base_url: str,
    name_of: NameOf,
) -> tuple[Holder, ...]:
    candidates = db.scalars(
        sa.select(Candidate)
        .where(Candidate.session_id == session.id)
        .options(selectinload(Candidate.decisions))
        .order_by(Candidate.number)
    ).all()
    chosen: list[tuple[Candidate, list[JuryDecision]]] = []
    for candidate in candidates:
        validated = [
            d for d in in_force(candidate.decisions).values() if d.is_final and d.is_validated
        ]
        if validated:
            chosen.append((candidate, validated))
    # A few queries for the whole session, whatever its size.
    learners = [candidate.learner_id for candidate, _ in chosen]
    credentials = _credentials(db, [d.id for _, validated in chosen for d in validated])
    users = {u.id: u for u in db.scalars(sa.select(LtiUser).where(LtiUser.id.in_(learners)))}
    identities = _identities(db, learners)
    # The title first, then the blocs in the référentiel's order.
    order = {b.code: i for i, b in enumerate(framework.blocs)} if framework else {}
    holders = []
    for candidate, validated in chosen:
        validated.sort(
            key=lambda d: (d.scope != DecisionScope.TITLE, order.get(d.code, len(order)), d.code)
        )
        obtained = tuple(
            _obtained(session, candidate, d, framework, credentials.get(d.id), base_url)
            for d in validated
        )
        user = users.get(candidate.learner_id)
        name = name_of(user) if user is not None else ""
        identity = identities.get(candidate.learner_id)
        holders.append(Holder(candidate.number, name, identity, obtained))
    return tuple(holders)


def _obtained(
    session: CertificationSession,
    candidate: Candidate,
    decision: JuryDecision,
    framework: Framework | None,
    credential: IssuedCredential | None,
    base_url: str,
) -> Obtained:
    is_title = decision.scope == DecisionScope.TITLE
    rncp = None
    if framework is not None:
        if is_title:
            rncp = framework.identity.rncp
        else:
            rncp = next((b.rncp for b in framework.blocs if b.code == decision.code), None)
    until = credential.valid_until if credential is not None else None
    return Obtained(
        certification=decision.code,
        is_title=is_title,
        rncp=rncp,
        technical_id=technical_id(
            base_url, candidate.learner_id, session.framework_code, decision.code
        ),
        valid_from=session.jury_date,
        valid_until=until.date() if until is not None else None,
        proof_url=(links.verification_url(base_url, credential.public_id) if credential else None),
    )


def _credentials(db: Session, decision_ids: list[int]) -> dict[int, IssuedCredential]:
    """Return the live (unrevoked, latest) credential of each decision that has one."""
    query = (
        sa.select(IssuedCredential)
        .where(
            IssuedCredential.decision_id.in_(decision_ids), IssuedCredential.revoked_at.is_(None)
        )
        .order_by(IssuedCredential.issued_at, IssuedCredential.id)
    )
    return {credential.decision_id: credential for credential in db.scalars(query)}


def _identities(db: Session, learner_ids: list[int]) -> dict[int, Identity]:
    """Return the recorded identity of each learner who has one."""
    rows = db.scalars(sa.select(HolderIdentity).where(HolderIdentity.learner_id.in_(learner_ids)))
    return {
        row.learner_id: Identity(**{name: getattr(row, name) for name in _IDENTITY_FIELDS})
        for row in rows
    }
