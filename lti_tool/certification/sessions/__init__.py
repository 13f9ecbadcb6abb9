"""Jury sessions: who sits, who is presented, and which courses they come from.

A session is opened for the current version of an imported référentiel. Its members and
candidates change while it is open; once the minutes are signed nothing does (the
decisions and their corrections live in :mod:`lti_tool.certification.decisions`).
Every refusal is a :class:`JuryError` listing each problem with the field it concerns,
so a page shows it next to the field and the CLI names it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    JuryMember,
    JuryRole,
)
from lti_tool.certification.sessions.courses import CourseChoice, courses_using, uses_framework
from lti_tool.certification.sessions.problems import (
    EXAM_MODES,
    MAX_LENGTH,
    POSTAL_CODE,
    REASONS,
    JuryError,
    Problem,
    text_problems,
)
from lti_tool.frameworks import find_record, framework_of
from lti_tool.models import FrameworkRecord, LtiContext, LtiMembership, LtiUser
from referentiel.model import Framework
from xapi.columns import utcnow

__all__ = [
    "EXAM_MODES",
    "MAX_LENGTH",
    "REASONS",
    "CourseChoice",
    "JuryError",
    "Problem",
    "add_candidate",
    "add_candidates_from_course",
    "add_member",
    "courses_using",
    "create_session",
    "refuse_if_signed",
    "remove_member",
    "session_framework",
    "text_problems",
    "touch",
    "uses_framework",
]


def refuse_if_signed(session: CertificationSession) -> None:
    """Refuse any change to a session whose minutes are signed."""
    if session.is_signed:
        raise JuryError([Problem("session", "signed")])


def create_session(
    db: Session,
    *,
    framework: Framework,
    title: str,
    jury_date: dt.date,
    place: str = "",
    exam_start: dt.date | None = None,
    exam_end: dt.date | None = None,
    exam_postal_code: str | None = None,
    exam_mode: str | None = None,
) -> CertificationSession:
    """Open a session for the current version of an imported référentiel."""
    title, place = title.strip(), place.strip()
    problems = text_problems({"title": title, "place": place}, required=("title",))
    record = find_record(db, framework.code)
    if record is None or record.version != framework.identity.version:
        value = f"{framework.code} {framework.identity.version}"
        problems.append(Problem("framework", "not_current", value))
    postal_code = (exam_postal_code or "").strip() or None
    if postal_code is not None and not POSTAL_CODE.fullmatch(postal_code):
        problems.append(Problem("exam_postal_code", "not_postal_code", postal_code))
    mode = (exam_mode or "").strip() or None
    if mode is not None and mode not in EXAM_MODES:
        problems.append(Problem("exam_mode", "bad_exam_mode", mode))
    if exam_start is not None and exam_end is not None and exam_end < exam_start:
        problems.append(Problem("exam_end", "end_before_start", exam_end.isoformat()))
    if problems:
        raise JuryError(problems)
    session = CertificationSession(
        framework_code=framework.code,
        framework_version=framework.identity.version,
        title=title,
        place=place,
        jury_date=jury_date,
        exam_start=exam_start,
        exam_end=exam_end,
        exam_postal_code=postal_code,
        exam_mode=mode,
    )
    db.add(session)
    db.flush()
    return session


def session_framework(db: Session, session: CertificationSession) -> Framework:
    """Return the référentiel version the session was opened for (even if a newer exists)."""
    record = db.scalar(
        sa.select(FrameworkRecord).where(
            FrameworkRecord.code == session.framework_code,
            FrameworkRecord.version == session.framework_version,
        )
    )
    if record is None:  # pragma: no cover (framework versions are never deleted)
        raise LookupError(f"{session.framework_code} {session.framework_version}")
    return framework_of(record)


def add_member(
    db: Session, session: CertificationSession, *, full_name: str, role: str, quality: str = ""
) -> JuryMember:
    """Seat a person on the jury, after those already seated."""
    refuse_if_signed(session)
    full_name, quality = full_name.strip(), quality.strip()
    problems = text_problems({"full_name": full_name, "quality": quality}, required=("full_name",))
    if role not in {r.value for r in JuryRole}:
        problems.append(Problem("role", "bad_role", role))
    if problems:
        raise JuryError(problems)
    position = 1 + max((m.position for m in session.members), default=0)
    member = JuryMember(full_name=full_name, role=role, quality=quality, position=position)
    session.members.append(member)
    db.flush()
    return member


def remove_member(db: Session, session: CertificationSession, member: JuryMember) -> None:
    """Take a person off the jury of an open session."""
    refuse_if_signed(session)
    if member.session_id != session.id:
        raise JuryError([Problem("member", "not_in_session", str(member.id))])
    session.members.remove(member)
    db.flush()


def _is_learner(db: Session, context_id: int, learner_id: int) -> bool:
    """Return whether the person is a learner of the course: a member, not staff."""
    return (
        db.scalar(
            sa.select(LtiMembership.id).where(
                LtiMembership.context_id == context_id,
                LtiMembership.user_id == learner_id,
                sa.not_(LtiMembership.is_staff),
            )
        )
        is not None
    )


def _next_number(session: CertificationSession) -> int:
    return 1 + max((c.number for c in session.candidates), default=0)


def add_candidate(
    db: Session, session: CertificationSession, learner: LtiUser, context: LtiContext
) -> Candidate:
    """Present a learner of a course to the session; their evidence comes from that course."""
    refuse_if_signed(session)
    problems = []
    if not uses_framework(db, context.id, session.framework_code):
        problems.append(Problem("course", "not_using_framework", str(context.id)))
    if not _is_learner(db, context.id, learner.id):
        problems.append(Problem("learner", "not_a_learner"))
    if any(c.learner_id == learner.id for c in session.candidates):
        problems.append(Problem("learner", "already_candidate"))
    if problems:
        raise JuryError(problems)
    candidate = Candidate(learner_id=learner.id, context_id=context.id)
    candidate.number = _next_number(session)
    session.candidates.append(candidate)
    db.flush()
    return candidate


def add_candidates_from_course(
    db: Session, session: CertificationSession, context: LtiContext
) -> list[Candidate]:
    """Present every learner of a course not yet a candidate; return those added.

    They are numbered after the candidates already there, by family name then given name.
    """
    refuse_if_signed(session)
    if not uses_framework(db, context.id, session.framework_code):
        raise JuryError([Problem("course", "not_using_framework", str(context.id))])
    learners = db.scalars(
        sa.select(LtiUser)
        .join(LtiMembership, LtiMembership.user_id == LtiUser.id)
        .where(LtiMembership.context_id == context.id, sa.not_(LtiMembership.is_staff))
    ).all()
    if not learners:
        raise JuryError([Problem("course", "no_learners", str(context.id))])
    present = {c.learner_id for c in session.candidates}
    added = []
    for learner in sorted(learners, key=_name_order):
        if learner.id in present:
            continue
        candidate = Candidate(learner_id=learner.id, context_id=context.id)
        candidate.number = _next_number(session)
        session.candidates.append(candidate)
        added.append(candidate)
    db.flush()
    return added


def _name_order(user: LtiUser) -> tuple[str, str, str, int]:
    family = (user.family_name or user.name or user.preferred_username or "").casefold()
    return (family, (user.given_name or "").casefold(), (user.name or "").casefold(), user.id)


def touch(session: CertificationSession, now: dt.datetime | None = None) -> None:
    """Record that the session changed."""
    session.updated_at = now or utcnow()
