"""Where grades for the LMS stand: for a page, for staff, and to queue refused ones again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from lti_tool.evaluation.models import GradePassback, PassbackStatus
from lti_tool.lti.errors import Reason
from lti_tool.services.errors import REASONS


@dataclass(frozen=True)
class PassbackState:
    """Where an evaluation's grade stands, for a page."""

    status: PassbackStatus
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None

    @property
    def is_accepted(self) -> bool:
        """Return whether the LMS holds the grade."""
        return self.status is PassbackStatus.SENT

    @property
    def reason(self) -> Reason | None:
        """Return what the last refusal means (message and what to check), if any."""
        return REASONS.get(self.last_error or "")


def status_of(session: Session, evaluation_id: int) -> PassbackState | None:
    """Return the state of an evaluation's latest grade for the LMS, if it has one."""
    row = session.scalars(
        sa.select(GradePassback)
        .where(GradePassback.evaluation_id == evaluation_id)
        .order_by(GradePassback.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return PassbackState(
        status=PassbackStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
    )


def retry_failed(session: Session, now: dt.datetime) -> int:
    """Queue every refused grade again, due now, unless a newer one replaced it; return how many.

    Their last error stays visible until the LMS accepts them.
    """
    newer = aliased(GradePassback)
    replaced = (
        sa.select(newer.id)
        .where(
            newer.resource_link_id == GradePassback.resource_link_id,
            newer.learner_id == GradePassback.learner_id,
            newer.id > GradePassback.id,
        )
        .exists()
    )
    failed = GradePassback.status == PassbackStatus.FAILED
    session.execute(
        sa.update(GradePassback).where(failed, replaced).values(status=PassbackStatus.SUPERSEDED)
    )
    result = session.execute(
        sa.update(GradePassback)
        .where(failed)
        .values(status=PassbackStatus.PENDING, attempts=0, next_attempt_at=now)
    )
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


def summary(session: Session) -> dict[PassbackStatus, int]:
    """Count grades by status."""
    counts = dict.fromkeys(PassbackStatus, 0)
    for status, count in session.execute(
        sa.select(GradePassback.status, sa.func.count()).group_by(GradePassback.status)
    ):
        counts[PassbackStatus(status)] = count
    return counts
