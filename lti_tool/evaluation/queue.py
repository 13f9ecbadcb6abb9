"""An evaluator's queue for one placement: copies to evaluate, and who has not handed in.

Copies handed in and never opened come first, the longest waiting at the top; then those
being evaluated and those evaluated. The learners who have not handed anything in come
from the LMS roster (NRPS); when the LMS does not offer it or fails, from the learners
who launched the placement's course, and the page says so.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import (
    Evaluation,
    EvaluationStatus,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)
from lti_tool.models import LtiMembership, LtiResourceLink, LtiUser
from lti_tool.people import Source, person_name, shared_name
from lti_tool.services import LmsServiceError, Roster, context_for_resource_link, lms_services

log = logging.getLogger(__name__)


class Stage:
    """Where a copy stands for evaluators."""

    AWAITING = "awaiting"  # handed in, nobody has started its evaluation
    IN_PROGRESS = "in_progress"  # an evaluation is saved as a draft
    EVALUATED = "evaluated"  # an evaluation is published


@dataclass(frozen=True)
class Copy:
    """A handed-in submission as the queue lists it."""

    submission_id: int
    learner: str
    stage: str
    version: int
    submitted_at: dt.datetime | None
    waiting: dt.timedelta | None
    published: int  # published evaluations of the latest version (2 once the jury judged)


@dataclass(frozen=True)
class Queue:
    """The queue of a placement."""

    awaiting: list[Copy]
    others: list[Copy]
    not_submitted: list[str]  # names of learners who have handed nothing in
    from_roster: bool  # the learners without a copy come from the LMS roster (NRPS)
    roster_error: str | None = None  # the LMS_* code when the roster was not available
    drafts: set[str] = field(default_factory=set)  # of those, who has a draft started
    # Where the names shown come from (the page says what the platform shares).
    sources: frozenset[Source] = frozenset()


def queue_of(session: Session, link: LtiResourceLink, now: dt.datetime) -> Queue:
    """Return the placement's queue (``link`` is the placement, in its context)."""
    rows = session.execute(
        sa.select(Submission, LtiUser)
        .join(LtiUser, LtiUser.id == Submission.learner_id)
        .where(Submission.resource_link_id == link.id, Submission.context_id == link.context_id)
    ).all()
    roster, error = _roster(session, link)
    # The roster's names, for people the launches did not name (Open edX shares none).
    listed = {m.user_id: shared_name(m) for m in roster.members} if roster else {}
    sources: set[Source] = set()

    def name_of(person: LtiUser | None, sub: str) -> str:
        member = listed.get(sub)
        shown = person_name(person, sub, member.text if member else None)
        sources.add(shown.source)
        return shown.text

    handed = [s.id for s, _user in rows if s.status != SubmissionStatus.DRAFT]
    latest = dict(
        session.execute(
            sa.select(SubmissionVersion.submission_id, sa.func.max(SubmissionVersion.number))
            .where(SubmissionVersion.submission_id.in_(handed), ~SubmissionVersion.is_draft)
            .group_by(SubmissionVersion.submission_id)
        ).all()
    )
    evaluations = session.execute(
        sa.select(Evaluation.submission_id, SubmissionVersion.number, Evaluation.status)
        .join(SubmissionVersion, SubmissionVersion.id == Evaluation.version_id)
        .where(Evaluation.submission_id.in_(handed))
    ).all()
    started: dict[int, list[str]] = {}
    for submission_id, number, status in evaluations:
        if latest.get(submission_id) == number:
            started.setdefault(submission_id, []).append(status)
    copies = []
    for submission, user in rows:
        if submission.id not in latest:
            continue
        statuses = started.get(submission.id, [])
        published = statuses.count(EvaluationStatus.PUBLISHED)
        stage = Stage.EVALUATED if published else Stage.IN_PROGRESS if statuses else Stage.AWAITING
        when = submission.submitted_at
        copies.append(
            Copy(
                submission_id=submission.id,
                learner=name_of(user, user.sub),
                stage=stage,
                version=latest[submission.id],
                submitted_at=when,
                waiting=now - when if when is not None else None,
                published=published,
            )
        )
    oldest_first = sorted(copies, key=lambda c: (c.submitted_at or now, c.submission_id))
    with_copy = {user.sub for submission, user in rows if submission.id in latest}
    drafts = {name_of(user, user.sub) for submission, user in rows if submission.id not in latest}
    launched = {
        user.sub: user
        for user in session.scalars(
            sa.select(LtiUser)
            .join(LtiMembership, LtiMembership.user_id == LtiUser.id)
            .where(LtiMembership.context_id == link.context_id, ~LtiMembership.is_staff)
        )
    }
    if roster is not None:
        # The roster names who should hand in; the launches may name them better.
        missing = [
            name_of(launched.get(m.user_id), m.user_id)
            for m in roster.learners
            if m.user_id not in with_copy
        ]
    else:
        missing = [name_of(u, sub) for sub, u in launched.items() if sub not in with_copy]
    return Queue(
        awaiting=[c for c in oldest_first if c.stage == Stage.AWAITING],
        others=[c for c in oldest_first if c.stage != Stage.AWAITING],
        not_submitted=sorted(missing, key=str.casefold),
        from_roster=roster is not None,
        roster_error=error,
        drafts=drafts & set(missing),
        sources=frozenset(sources),
    )


def _roster(session: Session, link: LtiResourceLink) -> tuple[Roster | None, str | None]:
    """Return the course's roster (NRPS), or None and the LMS error code."""
    try:
        return lms_services().nrps.members(context_for_resource_link(session, link)), None
    except LmsServiceError as exc:
        # The page says the list comes from launches; the code tells staff what to fix.
        log.info("roster unavailable for resource link %s: %s", link.id, exc.code)
        return None, exc.code
