"""Deciding while the session is open: current decisions, the record, the rules.

A decision on the same bloc (or the title) supersedes the previous one, which stays; the
current decision is the latest not superseded. Each keeps a snapshot of its evidence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.evidence import CandidateEvidence, evidence_for
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    JuryDecision,
)
from lti_tool.certification.sessions import (
    JuryError,
    Problem,
    refuse_if_signed,
    session_framework,
    text_problems,
    touch,
)
from xapi.columns import utcnow


def current_decisions(db: Session, candidate: Candidate) -> dict[tuple[str, str], JuryDecision]:
    """Return the candidate's current decisions by (scope, code): the latest not superseded."""
    query = sa.select(JuryDecision).where(JuryDecision.candidate_id == candidate.id)
    return _current(db, query).get(candidate.id, {})


def session_decisions(
    db: Session, session: CertificationSession
) -> dict[int, dict[tuple[str, str], JuryDecision]]:
    """Return every candidate's current decisions, by candidate id, in one query."""
    query = (
        sa.select(JuryDecision)
        .join(Candidate, Candidate.id == JuryDecision.candidate_id)
        .where(Candidate.session_id == session.id)
    )
    return _current(db, query)


def in_force(decisions: Iterable[JuryDecision]) -> dict[tuple[str, str], JuryDecision]:
    """Return one candidate's decisions in force by (scope, code): the latest not superseded."""
    decisions = sorted(decisions, key=lambda d: (d.decided_at, d.id))
    superseded = {d.supersedes_id for d in decisions if d.supersedes_id is not None}
    return {(d.scope, d.code): d for d in decisions if d.id not in superseded}


def _current(
    db: Session, query: sa.Select[JuryDecision]
) -> dict[int, dict[tuple[str, str], JuryDecision]]:
    by_candidate: dict[int, list[JuryDecision]] = {}
    for decision in db.scalars(query):
        by_candidate.setdefault(decision.candidate_id, []).append(decision)
    return {candidate: in_force(decisions) for candidate, decisions in by_candidate.items()}


def history(db: Session, candidate: Candidate) -> list[JuryDecision]:
    """Return every decision on the candidate, oldest first: the record the minutes keep."""
    return list(
        db.scalars(
            sa.select(JuryDecision)
            .where(JuryDecision.candidate_id == candidate.id)
            .order_by(JuryDecision.decided_at, JuryDecision.id)
        )
    )


def lock_session(db: Session, session: CertificationSession) -> None:
    """Read the session's status under a row lock: a decision never lands after signing."""
    db.refresh(session, attribute_names=["status"], with_for_update=True)


def check_decision(
    db: Session,
    candidate: Candidate,
    evidence: CandidateEvidence,
    *,
    scope: str,
    code: str,
    is_validated: bool,
    reasons: str,
    decided_by: str,
) -> list[Problem]:
    """Return what is wrong with a decision, whatever the session's state."""
    problems = text_problems({"decided_by": decided_by}, required=("decided_by",))
    problems += text_problems({"reasons": reasons})
    if scope == DecisionScope.BLOC:
        try:
            bloc = evidence.bloc(code)
        except KeyError:
            return [*problems, Problem("code", "unknown_bloc", code)]
        if is_validated and not bloc.is_proposed and not reasons.strip():
            shown = ", ".join(bloc.not_acquired) or bloc.code
            problems.append(Problem("reasons", "against_proposal", shown))
        if not is_validated:
            title = current_decisions(db, candidate).get(
                (DecisionScope.TITLE, evidence.framework_code)
            )
            if title is not None and title.is_validated and candidate.session.is_signed:
                problems.append(Problem("is_validated", "title_validated", title.code))
    elif scope == DecisionScope.TITLE:
        if code != evidence.framework_code:
            return [*problems, Problem("code", "not_the_title", evidence.framework_code)]
        if is_validated:
            current = current_decisions(db, candidate)
            missing = [
                bloc.code
                for bloc in evidence.blocs
                if not (
                    (d := current.get((DecisionScope.BLOC, bloc.code))) is not None
                    and d.is_validated
                )
            ]
            if missing:
                problems.append(Problem("is_validated", "blocs_not_validated", ", ".join(missing)))
    else:
        return [*problems, Problem("scope", "bad_scope", scope)]
    if not is_validated and not reasons.strip():
        problems.append(Problem("reasons", "reasons_required"))
    return problems


def record_decision(
    db: Session,
    candidate: Candidate,
    evidence: CandidateEvidence,
    fields: tuple[str, str, bool, str, str],
    *,
    supersedes: JuryDecision | None,
    is_final: bool,
    now: dt.datetime | None,
) -> JuryDecision:
    """Add a decision to the candidate's record, with its evidence snapshot."""
    scope, code, is_validated, reasons, decided_by = fields
    snapshot = evidence.snapshot(scope, code)
    if scope == DecisionScope.TITLE:
        # The title stands on the jury's bloc decisions: record them as they were.
        current = current_decisions(db, candidate)
        snapshot["jury"] = {
            bloc.code: d.is_validated
            for bloc in evidence.blocs
            if (d := current.get((DecisionScope.BLOC, bloc.code))) is not None
        }
    decision = JuryDecision(
        scope=scope,
        code=code,
        is_validated=is_validated,
        reasons=reasons.strip(),
        decided_by=decided_by.strip(),
        decided_at=now or utcnow(),
        supersedes_id=supersedes.id if supersedes is not None else None,
        evidence=snapshot,
        is_final=is_final,
    )
    candidate.decisions.append(decision)
    touch(candidate.session, now)
    db.flush()
    return decision


def decide(
    db: Session,
    candidate: Candidate,
    *,
    scope: str,
    code: str,
    is_validated: bool,
    reasons: str,
    decided_by: str,
    now: dt.datetime | None = None,
) -> JuryDecision:
    """Record the jury's decision on a bloc or the title while the session is open.

    A decision on the same bloc (or the title) supersedes the previous one, which stays.
    "Not validated" says why; a bloc validated although Jalon does not find all its
    competencies acquired says why too (the jury is sovereign, and accountable); the
    title is validated only once every bloc is.
    """
    session = candidate.session
    lock_session(db, session)
    refuse_if_signed(session)
    framework = session_framework(db, session)
    evidence = evidence_for(db, candidate, framework)
    problems = check_decision(
        db,
        candidate,
        evidence,
        scope=str(scope),
        code=code,
        is_validated=is_validated,
        reasons=reasons,
        decided_by=decided_by,
    )
    if problems:
        raise JuryError(problems)
    previous = current_decisions(db, candidate).get((str(scope), code))
    fields = (str(scope), code, is_validated, reasons, decided_by)
    return record_decision(
        db, candidate, evidence, fields, supersedes=previous, is_final=False, now=now
    )
