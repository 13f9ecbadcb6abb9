"""The courses that use a référentiel: where a session draws its candidates from."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import EpreuvePlacement, Submission
from lti_tool.models import LtiContext, LtiMembership, LtiResourceLink


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
