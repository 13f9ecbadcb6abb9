"""The transactional outbox: serialized statements written in the caller's transaction.

A statement is serialized once, by its builder, and stored here as text in the same
transaction as the event that caused it: a rolled-back event emits nothing. The relay
(``xapi.relay``) later sends those exact bytes, so a re-send after a crash is the same
statement byte for byte and the LRS accepts it as already stored.

Several relays may run at once: a relay *claims* a batch for a while (a lease) in a short
transaction, sends it outside any transaction, then marks the outcome. On PostgreSQL the
claim skips rows another relay is claiming (``FOR UPDATE SKIP LOCKED``); SQLite serializes
writers, so the same conditional update is safe there too. A relay that dies after a claim
only delays its batch until the lease ends.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xapi.columns import NAMING_CONVENTION, UTCDateTime, utcnow
from xapi.prepared import Prepared
from xapi.statements import StatementRecord

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Status(StrEnum):
    """Where a statement is on its way to the LRS."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


outbox = sa.Table(
    "xapi_outbox",
    metadata,
    # Enqueue order: among statements due at the same time, the oldest go first.
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("statement_id", sa.String(36), nullable=False, unique=True),
    # The statement as its builder serialized it; never rebuilt.
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default=Status.PENDING.value),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    # The relay holding the statement, and until when (a relay that died lets go then).
    sa.Column("claimed_by", sa.String(32), nullable=True),
    sa.Column("claimed_until", UTCDateTime(), nullable=True),
    # The LRS's answer (or the network error) of the last failed attempt.
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("delivered_at", UTCDateTime(), nullable=True),
    # When an administrator acknowledged a dead letter (journal or CLI): from then on the
    # retention purge counts down (JALON_RETENTION_OUTBOX_DAYS); never one not reviewed.
    sa.Column("reviewed_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
    # The claim reads due statements in this order and stops after a batch, however long
    # the queue grew while the LRS was away.
    sa.Index("ix_xapi_outbox_status_next_attempt_at", "status", "next_attempt_at", "id"),
    # Nobody reads the new id back: inserting without RETURNING is cheaper on PostgreSQL.
    implicit_returning=False,
)

_INSERT = sa.insert(outbox)
_COLUMNS = ("statement_id", "body", "status", "attempts", "created_at", "next_attempt_at")
# One statement, on the driver: it runs in every launch of a learner. Inline: the database
# numbers the row (SQLAlchemy would fetch PostgreSQL's next id first).
_INSERT_ONE = Prepared(
    sa.insert(outbox).inline().values({name: sa.bindparam(name) for name in _COLUMNS})
)
# What the LRS's answer may weigh in the journal; the rest is cut.
MAX_ERROR_CHARS = 4000


class Serialized(Protocol):
    """What the outbox takes: a statement's id and the JSON text its builder made once.

    ``xapi.statements.StatementRecord`` is one; so is ``SerializedStatement``.
    """

    @property
    def id(self) -> uuid.UUID | str:
        """Return the statement's id, the one its JSON carries."""
        ...

    @property
    def json(self) -> str:
        """Return the statement as serialized, once, by its builder."""
        ...


@dataclass(frozen=True)
class SerializedStatement:
    """A statement serialized once by its builder: its id and its JSON text."""

    id: str
    json: str


@dataclass(frozen=True)
class Claimed:
    """A statement a relay holds while it sends it."""

    row_id: int
    statement_id: str
    body: str
    attempts: int


@dataclass(frozen=True)
class Entry:
    """A statement as the journal shows it."""

    statement_id: str
    body: str
    status: Status
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    last_error: str | None
    delivered_at: dt.datetime | None
    reviewed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Summary:
    """How many statements wait, went through, or were refused."""

    pending: int
    delivered: int
    dead: int
    oldest_pending_at: dt.datetime | None
    # Dead letters an administrator has not acknowledged yet (the purge keeps them).
    unreviewed_dead: int = 0
    # The newest dead letter's row, which an acknowledgement from the journal goes up to.
    last_dead_id: int | None = None

    def oldest_pending_age(self, now: dt.datetime) -> dt.timedelta | None:
        """Return how long the oldest pending statement has waited."""
        if self.oldest_pending_at is None:
            return None
        return max(now - self.oldest_pending_at, dt.timedelta(0))


def enqueue(
    session: Session, records: Iterable[Serialized], *, now: dt.datetime | None = None
) -> int:
    """Add statements to the outbox in the session's transaction; return how many.

    Nothing is committed here: the statements go out only if the caller's transaction
    commits. Each text must be a JSON object whose ``id`` is the record's UUID; a
    statement id already in the outbox fails the transaction (domain events are unique).
    """
    now = now or utcnow()
    rows = [_row(record, now) for record in records]
    if len(rows) == 1:
        _INSERT_ONE.rowcount(session.connection(), rows[0])
    elif rows:
        # The session's own connection and transaction, without the ORM's bookkeeping.
        session.connection().execute(_INSERT, rows)
    return len(rows)


def _row(record: Serialized, now: dt.datetime) -> dict[str, Any]:
    if isinstance(record, StatementRecord):
        # Built by xapi.statements from its event: the JSON carries this id by construction,
        # and reading it back would cost a launch about as much as building it.
        return _pending(str(record.id), record.json, now)
    try:
        statement_id = record.id if isinstance(record.id, uuid.UUID) else uuid.UUID(record.id)
    except (ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"statement id {record.id!r} is not a UUID") from exc
    try:
        document = json.loads(record.json)
    except ValueError as exc:
        raise ValueError(f"statement {statement_id} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError(f"statement {statement_id} is not a JSON object")
    try:
        body_id = uuid.UUID(str(document.get("id")))
    except ValueError:
        body_id = None
    if body_id != statement_id:
        raise ValueError(f"statement {statement_id} carries another id in its JSON")
    return _pending(str(statement_id), record.json, now)


def _pending(statement_id: str, body: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "statement_id": statement_id,
        "body": body,
        "status": Status.PENDING.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def summary(session: Session) -> Summary:
    """Count statements by status and find the oldest one still waiting."""
    counts = dict.fromkeys(Status, 0)
    for status, count in session.execute(
        sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
    ):
        counts[Status(status)] = count
    oldest = session.scalar(
        sa.select(sa.func.min(outbox.c.created_at)).where(outbox.c.status == Status.PENDING)
    )
    unreviewed, last_dead = 0, None
    if counts[Status.DEAD]:
        unreviewed, last_dead = session.execute(
            sa.select(
                sa.func.count().filter(outbox.c.reviewed_at.is_(None)), sa.func.max(outbox.c.id)
            ).where(outbox.c.status == Status.DEAD)
        ).one()
    return Summary(
        pending=counts[Status.PENDING],
        delivered=counts[Status.DELIVERED],
        dead=counts[Status.DEAD],
        oldest_pending_at=oldest,
        unreviewed_dead=unreviewed,
        last_dead_id=last_dead,
    )


def recent(session: Session, *, limit: int = 50, status: Status | None = None) -> list[Entry]:
    """Return the latest statements, newest first."""
    query = sa.select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(outbox.c.status == status)
    return [_entry(row) for row in session.execute(query).mappings()]


def iter_entries(session: Session, *, status: Status | None = None) -> Iterator[Entry]:
    """Yield every statement in enqueue order, streaming rather than loading them all."""
    query = sa.select(outbox).order_by(outbox.c.id)
    if status is not None:
        query = query.where(outbox.c.status == status)
    result = session.execute(query.execution_options(yield_per=500))
    try:
        for row in result.mappings():
            yield _entry(row)
    finally:
        # A reader that stops early must not leave PostgreSQL's server-side cursor open.
        result.close()


def _entry(row: sa.RowMapping) -> Entry:
    return Entry(
        statement_id=row["statement_id"],
        body=row["body"],
        status=Status(row["status"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
        reviewed_at=row["reviewed_at"],
    )


def retry_dead(session: Session, *, now: dt.datetime | None = None) -> int:
    """Put every dead letter back in the queue, due now; return how many.

    Their last error stays visible until they are delivered; a review no longer holds.
    """
    result = session.execute(
        sa.update(outbox)
        .where(outbox.c.status == Status.DEAD)
        .values(
            status=Status.PENDING.value,
            attempts=0,
            next_attempt_at=now or utcnow(),
            claimed_by=None,
            claimed_until=None,
            reviewed_at=None,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_reviewed(session: Session, *, now: dt.datetime, up_to_id: int | None = None) -> int:
    """Record that an administrator reviewed the dead letters; return how many were new.

    ``up_to_id`` is the newest dead letter the administrator was shown: one that died
    after the page was drawn is not acknowledged unseen. A reviewed dead letter is purged
    once the retention has passed (``JALON_RETENTION_OUTBOX_DAYS``); an unreviewed one never.
    """
    query = (
        sa.update(outbox)
        .where(outbox.c.status == Status.DEAD, outbox.c.reviewed_at.is_(None))
        .values(reviewed_at=now)
    )
    if up_to_id is not None:
        query = query.where(outbox.c.id <= up_to_id)
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


# The relay's side: claim a batch, then mark each statement's outcome.


def claim(
    session: Session,
    *,
    token: str,
    now: dt.datetime,
    due_before: dt.datetime,
    lease_until: dt.datetime,
    limit: int,
) -> list[Claimed]:
    """Take up to ``limit`` due statements for the relay named ``token``, longest due first.

    A statement is due when it is pending, its next attempt is not after ``due_before``
    and no other relay holds a live claim on it. Rows another transaction is claiming
    right now are skipped (PostgreSQL), not waited for.
    """
    due = (
        sa.select(outbox.c.id)
        .where(
            outbox.c.status == Status.PENDING,
            outbox.c.next_attempt_at <= due_before,
            sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
        )
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        sa.update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()))
        .values(claimed_by=token, claimed_until=lease_until)
        .returning(outbox.c.id, outbox.c.statement_id, outbox.c.body, outbox.c.attempts)
    ).all()
    return sorted(
        (
            Claimed(row_id=r.id, statement_id=r.statement_id, body=r.body, attempts=r.attempts)
            for r in rows
        ),
        key=lambda c: c.row_id,
    )


def extend_claim(
    session: Session, claimed: Sequence[Claimed], *, token: str, lease_until: dt.datetime
) -> None:
    """Keep holding statements that take several requests (a batch being split)."""
    session.execute(
        sa.update(outbox)
        .where(outbox.c.id.in_([c.row_id for c in claimed]), outbox.c.claimed_by == token)
        .values(claimed_until=lease_until)
    )


def mark_delivered(
    session: Session, claimed: Sequence[Claimed], *, now: dt.datetime, note: str | None = None
) -> None:
    """Record that the LRS holds these statements.

    This holds whoever claimed them: the LRS's answer is the truth, even if this relay's
    lease ran out meanwhile.
    """
    values: dict[str, Any] = {
        "status": Status.DELIVERED.value,
        "delivered_at": now,
        "claimed_by": None,
        "claimed_until": None,
    }
    if note is not None:
        values["last_error"] = note[:MAX_ERROR_CHARS]
    session.execute(
        sa.update(outbox)
        .where(outbox.c.id.in_([c.row_id for c in claimed]), outbox.c.status == Status.PENDING)
        .values(**values)
    )


def mark_retry(
    session: Session,
    claimed: Sequence[Claimed],
    *,
    token: str,
    error: str,
    next_attempt_at: dt.datetime,
) -> None:
    """Put statements back in the queue together, due again at ``next_attempt_at``."""
    session.execute(
        sa.update(outbox)
        .where(
            outbox.c.id.in_([c.row_id for c in claimed]),
            outbox.c.claimed_by == token,
            outbox.c.status == Status.PENDING,
        )
        .values(
            attempts=outbox.c.attempts + 1,
            next_attempt_at=next_attempt_at,
            last_error=error[:MAX_ERROR_CHARS],
            claimed_by=None,
            claimed_until=None,
        )
    )


def mark_dead(session: Session, claimed: Sequence[Claimed], *, token: str, error: str) -> None:
    """Set aside statements the LRS refused, with its answer, for an administrator."""
    session.execute(
        sa.update(outbox)
        .where(
            outbox.c.id.in_([c.row_id for c in claimed]),
            outbox.c.claimed_by == token,
            outbox.c.status == Status.PENDING,
        )
        .values(
            status=Status.DEAD.value,
            attempts=outbox.c.attempts + 1,
            last_error=error[:MAX_ERROR_CHARS],
            claimed_by=None,
            claimed_until=None,
        )
    )
