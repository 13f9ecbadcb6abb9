"""Grades for the LMS: send pending passbacks through AGS, with retries that lose none.

Publishing an evaluation writes a PENDING ``GradePassback`` in its transaction; this module
delivers it, the way the xAPI relay delivers the outbox. A pass *claims* due rows in a short
transaction — on PostgreSQL it skips rows another worker is claiming (``FOR UPDATE SKIP
LOCKED``) — and pushes their next attempt past a lease, so no other worker takes them
meanwhile; it posts each score outside any transaction, then marks the outcome:

* accepted: SENT;
* temporary (network, 5xx, 408, 429, the token endpoint down): still PENDING, due again
  after a random wait up to ``min(cap, base × 2^(n-1))`` ("full jitter");
* refused for good (scope not granted, other 4xx, no AGS for the placement): FAILED with
  its ``LMS_*`` code, for staff to see and an administrator to retry once fixed.

A worker that dies between the POST and the mark leaves the row PENDING: it is posted
again when the lease ends, and the LMS keeps one score (AGS scores are keyed by timestamp).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, aliased, sessionmaker

from lti_tool.db import Database
from lti_tool.evaluation.models import GradePassback, PassbackStatus
from lti_tool.lti.deep_linking import LINE_ITEM_TAG
from lti_tool.lti.errors import Reason
from lti_tool.models import LtiResourceLink, LtiUser
from lti_tool.services import (
    GradeService,
    LineItemSpec,
    LmsContext,
    LmsServiceError,
    Score,
    context_for_resource_link,
    lms_services,
)
from lti_tool.services.ags import HttpGrades
from lti_tool.services.client import ServiceClient
from lti_tool.services.errors import REASONS
from xapi.columns import utcnow

logger = logging.getLogger(__name__)

# How long a claim keeps other workers off a row: longer than the calls of a whole pass.
LEASE = dt.timedelta(minutes=5)
BACKOFF_BASE = 30.0
BACKOFF_CAP = 3600.0
BATCH = 50
# The publishing page waits this long at most (connect, read) before leaving it to later.
NOW_TIMEOUT = (2.0, 5.0)
# Refusals worth asking again: the platform was away or asked us to slow down.
TEMPORARY_CODES = frozenset({"LMS_UNREACHABLE", "LMS_BAD_ANSWER"})
TEMPORARY_STATUSES = frozenset({408, 429})


def is_temporary(error: LmsServiceError) -> bool:
    """Tell whether a refusal may go away by itself (so the grade is tried again)."""
    return error.code in TEMPORARY_CODES or error.platform_status in TEMPORARY_STATUSES


def backoff(failures: int, rng: random.Random) -> dt.timedelta:
    """Return the wait after the ``failures``-th failure: uniform up to an exponential cap."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(failures - 1, 0))
    return dt.timedelta(seconds=rng.uniform(0, ceiling))


@dataclass
class DeliveryReport:
    """What a pass did: grades accepted, put back for later, refused for good."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        """Return how many grades were posted (or tried)."""
        return self.sent + self.retried + self.failed


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


@dataclass(frozen=True)
class _Parcel:
    """A claimed grade with all its call needs, read before the claim commits."""

    row_id: int
    attempts: int
    context: LmsContext
    spec: LineItemSpec
    score: Score


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


def deliver_due(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    ags: GradeService,
    limit: int = BATCH,
    *,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Claim up to ``limit`` grades due at ``now`` and post them; return what happened.

    Each step runs in its own short transaction from ``sessions``: nothing is held while
    the LMS answers.
    """
    return _deliver(sessions, now, ags, limit, rng or random.Random())  # noqa: S311 (jitter)


def send_now(
    sessions: sessionmaker[Session], evaluation_id: int, now: dt.datetime, ags: GradeService
) -> PassbackState | None:
    """Try an evaluation's pending grade once, at once; return its state afterwards.

    For the page that just published (its transaction committed): a failure leaves the
    grade to the background deliveries, as if this had not been tried.
    """
    _deliver(sessions, now, ags, 1, random.Random(), evaluation_id=evaluation_id)  # noqa: S311
    with sessions() as session:
        return status_of(session, evaluation_id)


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


# -- one pass: claim, post, mark -----------------------------------------------------------


def _deliver(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    ags: GradeService,
    limit: int,
    rng: random.Random,
    *,
    evaluation_id: int | None = None,
) -> DeliveryReport:
    with sessions.begin() as session:
        parcels = [_parcel(session, row) for row in _claim(session, now, limit, evaluation_id)]
    report = DeliveryReport()
    for parcel in parcels:
        error = _post(ags, parcel)
        with sessions.begin() as session:
            if error is None:
                _mark(session, parcel, status=PassbackStatus.SENT, sent_at=now, last_error=None)
                report.sent += 1
            elif is_temporary(error):
                wait = backoff(parcel.attempts + 1, rng)
                _mark(session, parcel, next_attempt_at=now + wait, last_error=error.code)
                report.retried += 1
            else:
                _mark(session, parcel, status=PassbackStatus.FAILED, last_error=error.code)
                report.failed += 1
    if report.attempted:
        logger.info(
            "Grades: %d accepted by the LMS, %d to retry, %d refused",
            report.sent,
            report.retried,
            report.failed,
        )
    return report


def _claim(
    session: Session, now: dt.datetime, limit: int, evaluation_id: int | None
) -> list[GradePassback]:
    """Take due pending grades, oldest due first, and keep other workers off them a while."""
    due = (
        sa.select(GradePassback.id)
        .where(GradePassback.status == PassbackStatus.PENDING, GradePassback.next_attempt_at <= now)
        .order_by(GradePassback.next_attempt_at, GradePassback.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if evaluation_id is not None:
        due = due.where(GradePassback.evaluation_id == evaluation_id)
    ids = session.scalars(
        sa.update(GradePassback)
        .where(GradePassback.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + LEASE)
        .returning(GradePassback.id)
    ).all()
    if not ids:
        return []
    return list(
        session.scalars(
            sa.select(GradePassback)
            .where(GradePassback.id.in_(ids))
            .order_by(GradePassback.id)
            .execution_options(populate_existing=True)
        )
    )


def _parcel(session: Session, row: GradePassback) -> _Parcel:
    link = session.get(LtiResourceLink, row.resource_link_id)
    learner = session.get(LtiUser, row.learner_id)
    if link is None or learner is None:  # pragma: no cover (foreign keys cascade)
        raise LookupError(f"grade {row.id} lost its placement or learner")
    custom = link.custom or {}
    framework, epreuve = custom.get("framework"), custom.get("epreuve")
    resource = f"{framework}/{epreuve}" if framework and epreuve else None
    return _Parcel(
        row_id=row.id,
        attempts=row.attempts,
        context=context_for_resource_link(session, link),
        spec=LineItemSpec(
            label=link.title or resource or "Jalon",
            score_maximum=row.score_maximum,
            resource_id=resource,
            tag=LINE_ITEM_TAG,
        ),
        score=Score(
            user_id=learner.sub,
            activity_progress=row.activity_progress,
            grading_progress=row.grading_progress,
            score_given=row.score_given,
            score_maximum=row.score_maximum,
            comment=row.comment or None,
            timestamp=row.scored_at,
        ),
    )


def _post(ags: GradeService, parcel: _Parcel) -> LmsServiceError | None:
    """Post one score to the placement's column; return the refusal, if any."""
    try:
        if not (parcel.context.lineitem_url or parcel.context.lineitems_url):
            # The launches never carried an AGS claim: no gradebook to write to.
            raise LmsServiceError("LMS_SERVICE_NOT_OFFERED", detail="lineitem")
        column = ags.line_item(parcel.context, parcel.spec)
        ags.post_score(parcel.context, column, parcel.score)
    except LmsServiceError as error:
        # The code and status only: the platform's text may quote the learner.
        logger.warning(
            "Grade %d not accepted by the LMS: %s (HTTP %s)",
            parcel.row_id,
            error.code,
            error.platform_status,
        )
        return error
    return None


def _mark(session: Session, parcel: _Parcel, **values: Any) -> None:
    # A grade superseded while it was on its way stays superseded: the newer one follows.
    session.execute(
        sa.update(GradePassback)
        .where(GradePassback.id == parcel.row_id, GradePassback.status == PassbackStatus.PENDING)
        .values(attempts=GradePassback.attempts + 1, **values)
    )


# -- on the page that publishes ------------------------------------------------------------


class _Hurried(requests.Session):
    """The app's HTTP session (same connections and headers), every call cut short."""

    def __init__(self, http: requests.Session) -> None:
        super().__init__()
        self.adapters = http.adapters
        self.headers = http.headers

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = NOW_TIMEOUT
        return super().request(method, url, *args, **kwargs)


def _hurried(ags: GradeService) -> GradeService:
    """Return the AGS client with short timeouts (an in-memory one as it is)."""
    if not isinstance(ags, HttpGrades):
        return ags
    client = ags.client
    return HttpGrades(ServiceClient(_Hurried(client.http), client.tokens))


def send_after_commit(session: Session, evaluation_id: int) -> None:
    """Post an evaluation's grade once, right after ``session`` commits (the request's).

    Call it in the view that publishes, before returning: the commit at the request
    boundary then triggers one quick attempt, so the next page can already say whether
    the LMS accepted the grade. If the transaction rolls back nothing is sent; if the
    attempt fails the background deliveries take over.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    database: Database = app.extensions["jalon.db"]
    ags = _hurried(lms_services().ags)

    def _send(_session: Session) -> None:
        try:
            with app.app_context():
                send_now(database.sessions, evaluation_id, utcnow(), ags)
        except Exception:
            # The grade is committed and pending: never turn a publication into an error.
            logger.exception("Immediate grade delivery failed; the background will retry")

    sa.event.listen(session, "after_commit", _send, once=True)
