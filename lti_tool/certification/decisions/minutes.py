"""Signing the minutes, and correcting a final decision afterwards."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lti_tool.certification.decisions.deliberation import (
    check_decision,
    current_decisions,
    lock_session,
    record_decision,
    session_decisions,
)
from lti_tool.certification.evidence import evidence_for
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    JuryDecision,
    JuryRole,
    SessionStatus,
)
from lti_tool.certification.sessions import (
    JuryError,
    Problem,
    session_framework,
    text_problems,
    touch,
)
from referentiel.model import Framework
from xapi.columns import utcnow


def sign_problems(db: Session, session: CertificationSession) -> list[Problem]:
    """Return every reason the minutes cannot be signed yet (none: they can)."""
    problems = []
    if session.is_signed:
        problems.append(Problem("session", "signed"))
    roles = [m.role for m in session.members]
    presidents = roles.count(JuryRole.PRESIDENT)
    if presidents == 0:
        problems.append(Problem("members", "no_president"))
    elif presidents > 1:
        problems.append(Problem("members", "several_presidents"))
    if JuryRole.PROFESSIONAL not in roles:
        problems.append(Problem("members", "no_professional"))
    if not session.candidates:
        problems.append(Problem("candidates", "no_candidates"))
    framework = session_framework(db, session)
    decisions = session_decisions(db, session)
    for candidate in session.candidates:
        problems += _candidate_problems(candidate, decisions.get(candidate.id, {}), framework)
    return problems


def _candidate_problems(
    candidate: Candidate, current: dict[tuple[str, str], JuryDecision], framework: Framework
) -> list[Problem]:
    field = f"candidate {candidate.number}"
    problems = [
        Problem(field, "missing_decision", f"bloc {bloc.code}")
        for bloc in framework.blocs
        if (DecisionScope.BLOC, bloc.code) not in current
    ]
    title = current.get((DecisionScope.TITLE, framework.code))
    if title is None:
        problems.append(Problem(field, "missing_decision", "the title"))
    elif title.is_validated:
        refused = [
            bloc.code
            for bloc in framework.blocs
            if (d := current.get((DecisionScope.BLOC, bloc.code))) is not None
            and not d.is_validated
        ]
        if refused:
            problems.append(Problem(field, "blocs_not_validated", ", ".join(refused)))
    return problems


def sign_minutes(
    db: Session, session: CertificationSession, *, signed_by: str, now: dt.datetime | None = None
) -> list[JuryDecision]:
    """Sign the minutes: every current decision becomes final; return them.

    Refused, with every problem listed, without a president, without a professional of
    the field, or while a candidate lacks a decision on a bloc or on the title. The
    returned decisions are ordered by candidate number, then bloc, then title.
    """
    lock_session(db, session)
    problems = text_problems({"signed_by": signed_by}, required=("signed_by",))
    problems += sign_problems(db, session)
    if problems:
        raise JuryError(problems)
    framework = session_framework(db, session)
    order = {bloc.code: index for index, bloc in enumerate(framework.blocs)}
    final = []
    decisions = session_decisions(db, session)
    for candidate in session.candidates:
        current = decisions.get(candidate.id, {}).values()
        for decision in sorted(current, key=lambda d: (d.scope == "title", order.get(d.code, 0))):
            decision.is_final = True
            final.append(decision)
    moment = now or utcnow()
    session.status = SessionStatus.SIGNED
    session.signed_at, session.signed_by = moment, signed_by.strip()
    touch(session, moment)
    db.flush()
    return final


def correct(
    db: Session,
    decision: JuryDecision,
    *,
    is_validated: bool,
    reasons: str,
    decided_by: str,
    now: dt.datetime | None = None,
) -> JuryDecision:
    """Correct a final decision after signing: a new final, dated decision that names it.

    The corrected decision stays in the record. A correction always says why; the title
    rule holds as for a decision (the title is validated only once every bloc is, and a
    bloc of a validated title is not invalidated before the title is corrected).
    """
    candidate = decision.candidate
    session = candidate.session
    lock_session(db, session)
    if not session.is_signed:
        raise JuryError([Problem("session", "not_signed")])
    current = current_decisions(db, candidate).get((decision.scope, decision.code))
    if current is None or current.id != decision.id:
        raise JuryError([Problem("decision", "superseded", str(decision.id))])
    framework = session_framework(db, session)
    evidence = evidence_for(db, candidate, framework)
    problems = check_decision(
        db,
        candidate,
        evidence,
        scope=decision.scope,
        code=decision.code,
        is_validated=is_validated,
        reasons=reasons,
        decided_by=decided_by,
    )
    if not reasons.strip() and not any(p.field == "reasons" for p in problems):
        problems.append(Problem("reasons", "correction_reasons"))
    if problems:
        raise JuryError(problems)
    fields = (decision.scope, decision.code, is_validated, reasons, decided_by)
    return record_decision(
        db, candidate, evidence, fields, supersedes=decision, is_final=True, now=now
    )
