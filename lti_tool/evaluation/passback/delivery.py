"""Deliver pending grades through AGS, with retries that lose none.

Publishing an evaluation writes a PENDING ``GradePassback`` in its transaction; this module
delivers it, the way the xAPI relay delivers the outbox. A pass *claims* due rows in a short
transaction — on PostgreSQL it skips rows another worker is claiming (``FOR UPDATE SKIP
LOCKED``) — and pushes their next attempt past a lease, so no other worker takes them
meanwhile; it posts each score outside any transaction, then marks the outcome:

* accepted: SENT;
* temporary (network, 5xx, 408, 429, the token endpoint down, a 3xx): still PENDING, due
  again after a random wait up to ``min(cap, base × 2^(n-1))`` ("full jitter");
* refused for good (scope not granted, other 4xx, no AGS for the placement): FAILED with
  its ``LMS_*`` code, for staff to see and an administrator to retry once fixed.

A worker that dies between the POST and the mark, or a POST whose answer is lost, leaves the
row PENDING: it is posted again later with the same timestamp. Moodle then answers 409
(``scores.php`` keeps only a strictly newer score, in whole seconds), Open edX 400
(lti-consumer-xblock's score serializer: "Score already exists for the provided
timestamp"), although they hold the grade: neither is a refusal for good at once;
:mod:`~lti_tool.evaluation.passback.conflict` reads what the LMS holds and marks the grade
SENT, or posts it once more, newer — a 400 to that post is final.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.evaluation.models import GradePassback, PassbackStatus
from lti_tool.evaluation.passback.conflict import HELD, Held, settle_conflict
from lti_tool.evaluation.passback.state import PassbackState, status_of
from lti_tool.evaluation.placement import placement_title
from lti_tool.lti.deep_linking import LINE_ITEM_TAG
from lti_tool.models import LtiResourceLink, LtiUser
from lti_tool.services import (
    GradeService,
    LineItemSpec,
    LmsContext,
    LmsServiceError,
    Score,
    context_for_resource_link,
)

logger = logging.getLogger(__name__)

# How long a claim keeps other workers off a row: longer than the calls of a whole pass.
LEASE = dt.timedelta(minutes=5)
BACKOFF_BASE = 30.0
BACKOFF_CAP = 3600.0
BATCH = 50
# Refusals worth asking again: the platform was away or asked us to slow down, or answered
# with a redirect (a web server's rule being changed, say): a redirected score was not
# stored, so it is never "sent", and it is tried again until the URL answers itself.
# A 409 to a score (LMS_SCORE_OUTDATED) is settled by reading the result, else retried.
TEMPORARY_CODES = frozenset(
    {"LMS_UNREACHABLE", "LMS_BAD_ANSWER", "OUTBOUND_REDIRECT", "LMS_SCORE_OUTDATED"}
)
TEMPORARY_STATUSES = frozenset({408, 429})
BAD_REQUEST = 400


def is_temporary(error: LmsServiceError) -> bool:
    """Tell whether a refusal may go away by itself (so the grade is tried again)."""
    return error.code in TEMPORARY_CODES or error.platform_status in TEMPORARY_STATUSES


def backoff(failures: int, rng: random.Random) -> dt.timedelta:
    """Return the wait after the ``failures``-th failure: uniform up to an exponential cap."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(failures - 1, 0))
    return dt.timedelta(seconds=rng.uniform(0, ceiling))


@dataclass
class DeliveryReport:
    """What a pass did: grades accepted, put back for later, refused for good.

    ``held`` counts the accepted grades the LMS already held (a 409, then its result read).
    """

    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0

    @property
    def attempted(self) -> int:
        """Return how many grades were posted (or tried)."""
        return self.sent + self.retried + self.failed


@dataclass(frozen=True)
class _Parcel:
    """A claimed grade with all its call needs, read before the claim commits."""

    row_id: int
    attempts: int
    context: LmsContext
    spec: LineItemSpec
    score: Score


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


def deliver_all_pending(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    ags: GradeService,
    *,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Post every pending grade at once, whatever its backoff says; return what happened.

    For an administrator after an outage (``jalon grades send --now``). Grades are taken in
    order, batch after batch, each once: one put back for later is not tried again by this
    call. A grade a running worker has just claimed may be posted twice; the LMS keeps one
    (same timestamp: Moodle answers 409 and its result is read).
    """
    rng = rng or random.Random()  # noqa: S311 (jitter)
    total = DeliveryReport()
    after = 0
    while True:
        report, last = _deliver_batch(sessions, now, ags, BATCH, rng, after=after)
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        total.held += report.held
        if last is None:
            return total
        after = last


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
    report, _last = _deliver_batch(sessions, now, ags, limit, rng, evaluation_id=evaluation_id)
    return report


def _deliver_batch(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    ags: GradeService,
    limit: int,
    rng: random.Random,
    *,
    evaluation_id: int | None = None,
    after: int | None = None,
) -> tuple[DeliveryReport, int | None]:
    """Claim and post one batch; return the report and the last id claimed (if any).

    With ``after``, every pending grade past that id is claimed, due or not.
    """
    with sessions.begin() as session:
        rows = _claim(session, now, limit, evaluation_id, after)
        parcels = [_parcel(session, row) for row in rows]
    report = DeliveryReport()
    for parcel in parcels:
        outcome = _post(sessions, now, ags, parcel)
        error = outcome if isinstance(outcome, LmsServiceError) else None
        with sessions.begin() as session:
            if error is None:
                _mark(session, parcel, status=PassbackStatus.SENT, sent_at=now, last_error=None)
                report.sent += 1
                if outcome is HELD:
                    report.held += 1
            elif is_temporary(error):
                wait = backoff(parcel.attempts + 1, rng)
                _mark(session, parcel, next_attempt_at=now + wait, last_error=error.code)
                report.retried += 1
            else:
                _mark(session, parcel, status=PassbackStatus.FAILED, last_error=error.code)
                report.failed += 1
    if report.attempted:
        logger.info(
            "Grades: %d accepted by the LMS (%d already held by it), %d to retry, %d refused",
            report.sent,
            report.held,
            report.retried,
            report.failed,
        )
    return report, (parcels[-1].row_id if parcels else None)


def _claim(
    session: Session, now: dt.datetime, limit: int, evaluation_id: int | None, after: int | None
) -> list[GradePassback]:
    """Take due pending grades, oldest due first, and keep other workers off them a while.

    With ``after``: every pending grade with a greater id, in id order, due or not.
    """
    due = sa.select(GradePassback.id).where(GradePassback.status == PassbackStatus.PENDING)
    if after is None:
        due = due.where(GradePassback.next_attempt_at <= now).order_by(
            GradePassback.next_attempt_at, GradePassback.id
        )
    else:
        due = due.where(GradePassback.id > after).order_by(GradePassback.id)
    due = due.limit(limit).with_for_update(skip_locked=True)
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
            label=placement_title(session, link.title, custom) or resource or "Jalon",
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


def _post(
    sessions: sessionmaker[Session], now: dt.datetime, ags: GradeService, parcel: _Parcel
) -> LmsServiceError | Held | None:
    """Post one score to the placement's column; return the refusal, if any.

    ``HELD`` when the LMS refused it as not newer while holding that same score.
    """
    try:
        if not (parcel.context.lineitem_url or parcel.context.lineitems_url):
            # The launches never carried an AGS claim: no gradebook to write to.
            raise LmsServiceError("LMS_SERVICE_NOT_OFFERED", detail="lineitem")
        column = ags.line_item(parcel.context, parcel.spec)
        try:
            ags.post_score(parcel.context, column, parcel.score)
        except LmsServiceError as error:
            # Moodle refuses a score not newer than the one it holds with 409, Open edX
            # with 400 ("Score already exists for the provided timestamp"): either may hold
            # it already. A second refusal of the newer score is final.
            if error.code != "LMS_SCORE_OUTDATED" and error.platform_status != BAD_REQUEST:
                raise
            return settle_conflict(
                ags,
                parcel.context,
                column,
                parcel.score,
                now=now,
                grade_id=parcel.row_id,
                still_pending=lambda: _still_pending(sessions, parcel.row_id),
            )
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


def _still_pending(sessions: sessionmaker[Session], row_id: int) -> bool:
    with sessions() as session:
        status = session.scalar(sa.select(GradePassback.status).where(GradePassback.id == row_id))
    return status == PassbackStatus.PENDING


def _mark(session: Session, parcel: _Parcel, **values: Any) -> None:
    # A grade superseded while it was on its way stays superseded: the newer one follows.
    session.execute(
        sa.update(GradePassback)
        .where(GradePassback.id == parcel.row_id, GradePassback.status == PassbackStatus.PENDING)
        .values(attempts=GradePassback.attempts + 1, **values)
    )
