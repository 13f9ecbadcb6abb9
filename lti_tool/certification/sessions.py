"""Jury sessions: who sits, who is presented, and which courses they come from.

A session is opened for the current version of an imported référentiel. Its members and
candidates change while it is open; once the minutes are signed nothing does (the
decisions and their corrections live in :mod:`lti_tool.certification.decisions`).
Every refusal is a :class:`JuryError` listing each problem with the field it concerns,
so a page shows it next to the field and the CLI names it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    JuryMember,
    JuryRole,
)
from lti_tool.evaluation.models import EpreuvePlacement, Submission
from lti_tool.frameworks import find_record, framework_of
from lti_tool.models import FrameworkRecord, LtiContext, LtiMembership, LtiResourceLink, LtiUser
from lti_tool.storable import is_storable
from referentiel.model import Framework
from xapi.columns import utcnow

EXAM_MODES = ("EN_PRESENTIEL", "A_DISTANCE", "MIXTE")  # cpf:modalitePassage
POSTAL_CODE = re.compile(r"[0-9]{5}")
# The columns' lengths: a longer value is refused, never cut.
MAX_LENGTH = {"title": 300, "place": 300, "full_name": 255, "quality": 300, "decided_by": 255}
MAX_LENGTH["signed_by"] = 255

REASONS = {
    "required": "this field is required",
    "too_long": "longer than {limit} characters",
    "unstorable": "holds a control character that cannot be stored",
    "not_postal_code": "a postal code is 5 digits, not {value!r}",
    "bad_exam_mode": "must be one of EN_PRESENTIEL, A_DISTANCE, MIXTE, not {value!r}",
    "end_before_start": "the end ({value}) is before the start",
    "bad_role": "must be one of president, member, professional, not {value!r}",
    "not_current": "{value} is not the current version of an imported référentiel",
    "signed": "the minutes are signed: the session can no longer change",
    "not_signed": "the minutes are not signed yet: change the decision instead",
    "not_in_session": "{value} does not belong to this session",
    "not_a_learner": "this person is not a learner of the course",
    "already_candidate": "this learner is already a candidate of the session",
    "not_using_framework": "this course does not use the session's référentiel",
    "no_learners": "this course has no learner to add",
    "unknown_bloc": "the référentiel has no bloc {value!r}",
    "not_the_title": "the title's code is {value!r}",
    "bad_scope": "must be bloc or title, not {value!r}",
    "reasons_required": "a decision 'not validated' says why",
    "against_proposal": "Jalon does not find {value} acquired: say why the bloc is validated",
    "blocs_not_validated": "the title needs every bloc validated; not validated: {value}",
    "title_validated": "the title {value} is validated: correct the title first",
    "superseded": "this decision was corrected since: correct the current one",
    "correction_reasons": "a correction says why",
    "no_president": "the jury has no president",
    "several_presidents": "the jury has more than one president",
    "no_professional": "the jury has no professional of the field",
    "no_candidates": "the session has no candidate",
    "missing_decision": "no decision on {value}",
    # Reading input (pages, CLI) before a domain function runs.
    "bad_date": "not a date (YYYY-MM-DD): {value!r}",
    "unknown_framework": "no imported référentiel {value!r}",
    "unknown_course": "no course {value!r}",
    "unknown_candidate": "no candidate {value} in this session",
    "bad_decision": "say validated or not validated",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong: the field (or the candidate) it concerns, and why."""

    field: str
    reason: str
    value: str = ""

    @property
    def message(self) -> str:
        """Say what is wrong, in English (the CLI; pages word it in the reader's language)."""
        limit = MAX_LENGTH.get(self.field, 0)
        return REASONS[self.reason].format(limit=limit, value=self.value)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class JuryError(ValueError):
    """A change was refused; ``problems`` lists every reason, field by field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def text_problems(fields: dict[str, str], *, required: Sequence[str] = ()) -> list[Problem]:
    """Return what is wrong with free-text fields: missing, too long, unstorable."""
    problems = []
    for name, value in fields.items():
        if name in required and not value.strip():
            problems.append(Problem(name, "required"))
        elif len(value) > MAX_LENGTH.get(name, 10_000):
            problems.append(Problem(name, "too_long"))
        elif not is_storable(value):
            problems.append(Problem(name, "unstorable"))
    return problems


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


@dataclass(frozen=True)
class CourseChoice:
    """A course that uses a référentiel, as the list of courses to draw candidates from shows it.

    Courses of two platforms may share an LMS id ("7"); Jalon's own ``id`` tells them apart.
    """

    id: int
    issuer: str
    context_id: str
    title: str | None
    label: str | None
    learners: int


def _using_contexts(db: Session, framework_code: str) -> set[int]:
    """Return the ids of the courses where the référentiel is placed or handed work in."""
    ids = set(
        db.scalars(
            sa.select(EpreuvePlacement.context_id).where(
                EpreuvePlacement.framework_code == framework_code
            )
        )
    )
    ids.update(
        db.scalars(
            sa.select(Submission.context_id).where(Submission.framework_code == framework_code)
        )
    )
    links = db.execute(
        sa.select(LtiResourceLink.context_id, LtiResourceLink.custom).where(
            LtiResourceLink.context_id.is_not(None)
        )
    )
    for context_id, custom in links:
        if isinstance(custom, dict) and custom.get("framework") == framework_code:
            ids.add(context_id)
    return ids


def uses_framework(db: Session, context_id: int, framework_code: str) -> bool:
    """Return whether a course places the référentiel, or holds work evaluated against it."""
    return context_id in _using_contexts(db, framework_code)


def courses_using(db: Session, framework_code: str) -> list[CourseChoice]:
    """Return the courses using a référentiel, with their learner counts, by issuer and title."""
    ids = _using_contexts(db, framework_code)
    if not ids:
        return []
    learners = (
        sa.select(sa.func.count())
        .where(LtiMembership.context_id == LtiContext.id, sa.not_(LtiMembership.is_staff))
        .scalar_subquery()
    )
    rows = db.execute(
        sa.select(
            LtiContext.id,
            LtiContext.issuer,
            LtiContext.context_id,
            LtiContext.title,
            LtiContext.label,
            learners,
        ).where(LtiContext.id.in_(ids))
    ).all()
    choices = [CourseChoice(*row) for row in rows]
    return sorted(choices, key=lambda c: (c.issuer, (c.title or "").casefold(), c.id))


def touch(session: CertificationSession, now: dt.datetime | None = None) -> None:
    """Record that the session changed."""
    session.updated_at = now or utcnow()
