"""Gauges of what waits to leave Jalon, read from the database when Prometheus scrapes.

One query of five scalar subqueries, each answered from a ``status`` index: statements
pending and dead in the outbox, the age of the oldest pending one (the relay's lag), grades
pending and failed. Nothing is counted on a request.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lti_tool.evaluation.models import GradePassback, PassbackStatus
from xapi.outbox import Status, outbox

log = logging.getLogger(__name__)
_grades = GradePassback.__table__


def _count(table: sa.Table, status: str) -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.count()).select_from(table).where(table.c.status == status)
    ).scalar_subquery()


QUERY = sa.select(
    _count(outbox, Status.PENDING).label("outbox_pending"),
    _count(outbox, Status.DEAD).label("outbox_dead"),
    sa.select(sa.func.min(outbox.c.created_at))
    .where(outbox.c.status == Status.PENDING)
    .scalar_subquery()
    .label("oldest_pending_at"),
    _count(_grades, PassbackStatus.PENDING).label("grades_pending"),  # type: ignore[arg-type]
    _count(_grades, PassbackStatus.FAILED).label("grades_failed"),  # type: ignore[arg-type]
)

GAUGES = {
    "outbox_pending": (
        "jalon_xapi_outbox_pending",
        "xAPI statements waiting in the outbox for the LRS.",
    ),
    "outbox_dead": (
        "jalon_xapi_outbox_dead",
        "xAPI statements the LRS refused for good (dead letters), to be reviewed.",
    ),
    "grades_pending": ("jalon_grades_pending", "Grades waiting to be accepted by the LMS."),
    "grades_failed": ("jalon_grades_failed", "Grades the LMS refused for good."),
}


class QueueCollector(Collector):
    """Read the queues' sizes and the relay's lag at each scrape."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def describe(self) -> list[Metric]:
        """Describe nothing: registering must not query the database."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Yield the queues' gauges, and whether the database answered."""
        up = GaugeMetricFamily("jalon_database_up", "Whether the scrape could read the database.")
        try:
            with self.engine.connect() as connection:
                row = connection.execute(QUERY).one()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("metrics: database unreadable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for column, (name, documentation) in GAUGES.items():
            yield GaugeMetricFamily(name, documentation, value=getattr(row, column))
        yield GaugeMetricFamily(
            "jalon_xapi_relay_lag_seconds",
            "Age of the oldest statement still pending (0 when none waits).",
            value=_age(row.oldest_pending_at),
        )


def _age(oldest: dt.datetime | None) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite gives back what UTCDateTime stored, naive UTC
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, (dt.datetime.now(dt.UTC) - oldest).total_seconds())
