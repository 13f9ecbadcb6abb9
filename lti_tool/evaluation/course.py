"""A course's settings: how it combines evaluations, whether its assistants evaluate."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation import progress
from lti_tool.evaluation.models import CourseSettings, Submission
from lti_tool.frameworks import find_record, framework_of


def _settings(session: Session, context_id: int) -> CourseSettings:
    settings = session.get(CourseSettings, context_id)
    if settings is None:
        settings = CourseSettings(context_id=context_id)
        session.add(settings)
    return settings


def teaching_assistants_evaluate(session: Session, context_id: int | None) -> bool:
    """Return whether a course lets its teaching assistants evaluate (yes unless it said no)."""
    if context_id is None:
        return True
    allowed = session.scalar(
        sa.select(CourseSettings.teaching_assistants_evaluate).where(
            CourseSettings.context_id == context_id
        )
    )
    return True if allowed is None else bool(allowed)


def let_teaching_assistants_evaluate(
    session: Session, context_id: int, allowed: bool, now: dt.datetime
) -> None:
    """Save whether the course's teaching assistants (without the Learner role) evaluate."""
    settings = _settings(session, context_id)
    settings.teaching_assistants_evaluate = allowed
    settings.updated_at = now
    session.flush()


def choose_method(
    session: Session, context_id: int, method: progress.CourseMethod, now: dt.datetime
) -> int:
    """Save a course's method and recompute every learner of it; return how many.

    Every framework the course's submissions use is recomputed, in the same transaction,
    so no page ever shows statuses computed by the method the course just left.
    """
    settings = _settings(session, context_id)
    settings.method, settings.method_parameter = method.method, method.parameter
    settings.updated_at = now
    session.flush()
    codes = session.scalars(
        sa.select(Submission.framework_code).where(Submission.context_id == context_id).distinct()
    ).all()
    learners = 0
    for code in sorted(codes):
        record = find_record(session, code)
        if record is not None:
            learners += progress.recompute_course(session, framework_of(record), context_id, now)
    return learners
