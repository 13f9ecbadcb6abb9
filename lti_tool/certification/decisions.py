"""The jury's decisions: per bloc and for the title, the minutes, and corrections.

While the session is open the jury may decide again: a new decision supersedes the
previous one for the same bloc (or the title), which stays in the record. Signing the
minutes makes every current decision final; after that only a correction changes one —
a new, dated, final decision naming the one it corrects. Each decision keeps a snapshot
of the evidence it was taken on.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.evidence import CandidateEvidence, evidence_for
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
    refuse_if_signed,
    session_framework,
    text_problems,
    touch,
)
from referentiel.model import Framework
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


def _current(
    db: Session, query: sa.Select[JuryDecision]
) -> dict[int, dict[tuple[str, str], JuryDecision]]:
    decisions = db.scalars(query.order_by(JuryDecision.decided_at, JuryDecision.id)).all()
    superseded = {d.supersedes_id for d in decisions if d.supersedes_id is not None}
    current: dict[int, dict[tuple[str, str], JuryDecision]] = {}
    for decision in decisions:
        if decision.id not in superseded:  # the latest wins
            by_key = current.setdefault(decision.candidate_id, {})
            by_key[(decision.scope, decision.code)] = decision
    return current


def history(db: Session, candidate: Candidate) -> list[JuryDecision]:
    """Return every decision on the candidate, oldest first: the record the minutes keep."""
    return list(
        db.scalars(
            sa.select(JuryDecision)
            .where(JuryDecision.candidate_id == candidate.id)
            .order_by(JuryDecision.decided_at, JuryDecision.id)
        )
    )


def _lock(db: Session, session: CertificationSession) -> None:
    """Read the session's status under a row lock: a decision never lands after signing."""
    db.refresh(session, attribute_names=["status"], with_for_update=True)


def _check(
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


def _record(
    db: Session,
    candidate: Candidate,
    evidence: CandidateEvidence,
    fields: tuple[str, str, bool, str, str],
    *,
    supersedes: JuryDecision | None,
    is_final: bool,
    now: dt.datetime | None,
) -> JuryDecision:
    scope, code, is_validated, reasons, decided_by = fields
    decision = JuryDecision(
        scope=scope,
        code=code,
        is_validated=is_validated,
        reasons=reasons.strip(),
        decided_by=decided_by.strip(),
        decided_at=now or utcnow(),
        supersedes_id=supersedes.id if supersedes is not None else None,
        evidence=evidence.snapshot(scope, code),
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
    _lock(db, session)
    refuse_if_signed(session)
    framework = session_framework(db, session)
    evidence = evidence_for(db, candidate, framework)
    problems = _check(
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
    return _record(db, candidate, evidence, fields, supersedes=previous, is_final=False, now=now)


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
    _lock(db, session)
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
    _lock(db, session)
    if not session.is_signed:
        raise JuryError([Problem("session", "not_signed")])
    current = current_decisions(db, candidate).get((decision.scope, decision.code))
    if current is None or current.id != decision.id:
        raise JuryError([Problem("decision", "superseded", str(decision.id))])
    framework = session_framework(db, session)
    evidence = evidence_for(db, candidate, framework)
    problems = _check(
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
    return _record(db, candidate, evidence, fields, supersedes=decision, is_final=True, now=now)
