"""The relay against an in-memory LRS (the network is the only thing stubbed)."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa

from lti_tool.db import Database
from tests.xapi.conftest import FakeClock
from tests.xapi.samples import refused_by_lrs, statement, statements
from xapi import outbox
from xapi.lrs import InMemoryLrs, LrsAnswer, LrsUnavailableError
from xapi.outbox import SerializedStatement, Status
from xapi.relay import Relay, RelayCounts, RelayPolicy, same_statement

MakeRelay = Callable[..., Relay]


def _enqueue(database: Database, records: Sequence[SerializedStatement]) -> None:
    with database.session() as session:
        outbox.enqueue(session, records)


def _entries(database: Database) -> dict[str, outbox.Entry]:
    with database.session() as session:
        return {e.statement_id: e for e in outbox.iter_entries(session)}


def _statuses(database: Database) -> dict[Status, int]:
    counts = dict.fromkeys(Status, 0)
    for entry in _entries(database).values():
        counts[entry.status] += 1
    return counts


def test_drains_the_outbox_in_batches_of_the_stored_bytes(
    clean_database: Database, make_relay: MakeRelay
) -> None:
    records = statements(25)
    _enqueue(clean_database, records)
    lrs = InMemoryLrs()
    counts = make_relay(lrs, batch_size=10).run(once=True)
    assert counts == RelayCounts(delivered=25, retried=0, dead=0, requests=3)
    assert [len(batch) for batch in lrs.batches] == [10, 10, 5]
    assert [i for batch in lrs.batches for i in batch] == [r.id for r in records]  # oldest first
    sent = b"".join(lrs.received)
    assert all(r.json.encode() in sent for r in records)
    entries = _entries(clean_database)
    assert all(e.status is Status.DELIVERED and e.delivered_at for e in entries.values())
    # Nothing is due any more: another pass sends nothing.
    assert make_relay(lrs).run(once=True) == RelayCounts()
    assert len(lrs.batches) == 3


def test_the_default_batch_is_500(clean_database: Database, make_relay: MakeRelay) -> None:
    _enqueue(clean_database, statements(501))
    lrs = InMemoryLrs()
    make_relay(lrs).run(once=True)
    assert [len(batch) for batch in lrs.batches] == [500, 1]


def test_server_errors_are_retried_with_backoff_until_the_lrs_recovers(
    clean_database: Database, make_relay: MakeRelay, clock: FakeClock
) -> None:
    records = statements(4)
    _enqueue(clean_database, records)
    lrs = InMemoryLrs(script=[500, 503])
    relay = make_relay(lrs, batch_size=2)

    first = relay.run(once=True)
    # The first batch fails, the second too: each is tried once per pass, then waits.
    assert first == RelayCounts(retried=4, requests=2)
    entries = _entries(clean_database)
    assert {e.attempts for e in entries.values()} == {1}
    assert {e.last_error for e in entries.values()} == {
        "HTTP 500: injected 500",
        "HTTP 503: injected 503",
    }
    assert all(
        clock.now <= e.next_attempt_at <= clock.now + dt.timedelta(seconds=2)
        for e in entries.values()
    )
    assert relay.run(once=True) == RelayCounts()  # not due yet

    clock.advance(2)
    assert relay.run(once=True) == RelayCounts(delivered=4, requests=2)
    assert set(lrs.stored) == {r.id for r in records}
    assert _statuses(clean_database)[Status.DELIVERED] == 4


def test_backoff_is_exponential_with_full_jitter_and_a_cap(
    clean_database: Database, make_relay: MakeRelay
) -> None:
    relay = make_relay(InMemoryLrs(), backoff_base=2.0, backoff_cap=600.0)
    relay.rng = random.Random(1)  # noqa: S311
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (9, 512), (10, 600), (30, 600)]:
        waits = [relay.backoff(attempts).total_seconds() for _ in range(400)]
        assert min(waits) >= 0
        assert max(waits) <= ceiling
        assert max(waits) > 0.9 * ceiling  # spread over the whole range: full jitter
        assert min(waits) < 0.1 * ceiling


def test_a_bad_statement_in_a_batch_of_500_is_isolated(
    clean_database: Database, make_relay: MakeRelay
) -> None:
    records = statements(500)
    bad_id = records[321].id
    records[321] = SerializedStatement(
        bad_id, json.dumps({"id": bad_id, "actor": {}, "object": {}})
    )
    _enqueue(clean_database, records)
    lrs = InMemoryLrs()
    counts = make_relay(lrs).run(once=True)
    assert (counts.delivered, counts.dead, counts.retried) == (499, 1, 0)
    assert counts.requests <= 2 * 9 + 1  # bisection: about 2·log2(500) requests
    assert set(lrs.stored) == {r.id for r in records} - {bad_id}
    entries = _entries(clean_database)
    dead = entries[bad_id]
    assert dead.status is Status.DEAD
    assert dead.last_error is not None
    assert dead.last_error.startswith("HTTP 400: ")
    assert "missing verb" in dead.last_error
    assert _statuses(clean_database) == {Status.DELIVERED: 499, Status.DEAD: 1, Status.PENDING: 0}


def test_a_conflicting_statement_becomes_a_dead_letter(
    clean_database: Database, make_relay: MakeRelay
) -> None:
    records = statements(8)
    lrs = InMemoryLrs()
    # The LRS already holds other content under the id of the 6th statement.
    other = json.loads(records[5].json)
    other["verb"]["id"] = "http://adlnet.gov/expapi/verbs/attempted"
    lrs.stored[records[5].id] = other
    _enqueue(clean_database, records)
    counts = make_relay(lrs).run(once=True)
    assert (counts.delivered, counts.dead) == (7, 1)
    dead = _entries(clean_database)[records[5].id]
    assert dead.status is Status.DEAD
    assert dead.last_error is not None
    assert dead.last_error.startswith("HTTP 409: ")
    assert lrs.stored[records[5].id] == other  # the LRS's copy is untouched


def test_a_409_for_identical_content_counts_as_delivered(
    clean_database: Database, make_relay: MakeRelay
) -> None:
    # xAPI 1.0.3 lets an LRS answer 409 to a statement it already holds, identical.
    record = statement()
    lrs = InMemoryLrs(conflict_on_duplicate=True)
    lrs.stored[record.id] = json.loads(record.json)
    _enqueue(clean_database, [record, *statements(3)])
    counts = make_relay(lrs).run(once=True)
    assert (counts.delivered, counts.dead) == (4, 0)
    entry = _entries(clean_database)[record.id]
    assert entry.status is Status.DELIVERED
    assert entry.last_error is not None
    assert "already holds this statement" in entry.last_error


class UnverifiableLrs(InMemoryLrs):
    def fetch_statement(self, statement_id: str) -> dict[str, Any] | None:
        raise LrsUnavailableError("timeout: ReadTimeout")


def test_a_409_that_cannot_be_checked_is_retried_not_buried(
    clean_database: Database, make_relay: MakeRelay
) -> None:
    record = statement()
    lrs = UnverifiableLrs(conflict_on_duplicate=True)
    lrs.stored[record.id] = json.loads(record.json)
    _enqueue(clean_database, [record])
    assert make_relay(lrs).run(once=True).retried == 1
    entry = _entries(clean_database)[record.id]
    assert (entry.status, entry.attempts) == (Status.PENDING, 1)


def test_same_statement_ignores_what_the_lrs_adds() -> None:
    record = statement()
    held = {**json.loads(record.json), "stored": "2026-11-29T10:00:01.000Z", "version": "1.0.0"}
    held["authority"] = {"objectType": "Agent", "mbox": "mailto:client@example.org"}
    assert same_statement(record.json, held)
    assert not same_statement(record.json, {**held, "verb": {"id": "http://example.org/other"}})
    # Object types xAPI lets a statement leave out, written out by the LRS.
    implicit = json.loads(record.json)
    del implicit["actor"]["objectType"], implicit["object"]["objectType"]
    assert same_statement(json.dumps(implicit), held)
    assert not same_statement(
        json.dumps(implicit), {**held, "actor": {**held["actor"], "objectType": "Group"}}
    )


class CrashAfterSend(InMemoryLrs):
    """The LRS stores the batch, then the relay process dies before it marks it."""

    def post_statements(self, bodies: Sequence[str]) -> LrsAnswer:
        super().post_statements(bodies)
        raise SystemExit("killed between send and mark")


def test_a_relay_killed_between_send_and_mark_re_sends_the_same_bytes(
    clean_database: Database, make_relay: MakeRelay, clock: FakeClock
) -> None:
    records = statements(5)
    _enqueue(clean_database, records)
    lrs = CrashAfterSend()
    with pytest.raises(SystemExit):
        make_relay(lrs, lease=60).run(once=True)
    assert _statuses(clean_database)[Status.PENDING] == 5
    # Another relay waits for the dead one's lease, then sends the batch again.
    survivor = InMemoryLrs(stored=lrs.stored, received=lrs.received, batches=lrs.batches)
    assert make_relay(survivor, lease=60).run(once=True) == RelayCounts()
    clock.advance(61)
    assert make_relay(survivor, lease=60).run(once=True) == RelayCounts(delivered=5, requests=1)
    assert lrs.received[0] == lrs.received[1]  # the same ids, the same bytes
    assert _statuses(clean_database) == {Status.DELIVERED: 5, Status.PENDING: 0, Status.DEAD: 0}


def test_retry_dead_then_relay_delivers_what_the_lrs_now_accepts(
    clean_database: Database, make_relay: MakeRelay
) -> None:
    record = refused_by_lrs()
    _enqueue(clean_database, [record])
    lrs = InMemoryLrs(script=[422])
    make_relay(lrs).run(once=True)
    assert _entries(clean_database)[record.id].status is Status.DEAD
    with clean_database.session() as session:
        assert outbox.retry_dead(session) == 1
    assert make_relay(lrs).run(once=True).delivered == 1
    assert record.id in lrs.stored


class SlowLrs(InMemoryLrs):
    """Takes its time, so that concurrent relays overlap."""

    def post_statements(self, bodies: Sequence[str]) -> LrsAnswer:
        time.sleep(0.01)
        return super().post_statements(bodies)


def test_concurrent_relays_never_send_a_statement_twice(clean_database: Database) -> None:
    """On PostgreSQL, claims skip locked rows; on SQLite, writers take turns."""
    records = statements(600)
    _enqueue(clean_database, records)
    lrs = SlowLrs()
    relays = [Relay(clean_database.sessions, lrs, RelayPolicy(batch_size=7)) for _ in range(4)]
    errors: list[BaseException] = []

    def _run(relay: Relay) -> None:
        try:
            relay.run(once=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=_run, args=(r,)) for r in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    sent = [i for batch in lrs.batches for i in batch]
    assert len(sent) == len(set(sent)) == 600
    assert len({tuple(b) for b in lrs.batches}) == len(lrs.batches)
    assert _statuses(clean_database)[Status.DELIVERED] == 600


def test_the_worker_sleeps_when_idle_and_stops_when_told(
    clean_database: Database, make_relay: MakeRelay
) -> None:
    lrs = InMemoryLrs()
    relay = make_relay(lrs, idle_sleep=0.05)
    relay.clock = outbox.utcnow
    stop = threading.Event()
    result: list[RelayCounts] = []
    worker = threading.Thread(target=lambda: result.append(relay.run(stop=stop)))
    worker.start()
    try:
        time.sleep(0.2)
        assert lrs.batches == []  # idle: nothing sent, nothing spun
        _enqueue(clean_database, statements(3))
        deadline = time.monotonic() + 5
        while _statuses(clean_database)[Status.DELIVERED] < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()
    assert result == [RelayCounts(delivered=3, requests=1)]


def test_the_worker_survives_a_failing_pass(
    clean_database: Database, make_relay: MakeRelay, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenLrs(InMemoryLrs):
        def post_statements(self, bodies: Sequence[str]) -> LrsAnswer:
            if len(self.batches) == 0:
                self.batches.append([])
                raise RuntimeError("unexpected")
            return super().post_statements(bodies)

    _enqueue(clean_database, statements(2))
    lrs = BrokenLrs()
    relay = make_relay(lrs, idle_sleep=0.01, backoff_base=0.01)
    relay.clock = outbox.utcnow
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, kwargs={"stop": stop})
    worker.start()
    deadline = time.monotonic() + 5
    while _statuses(clean_database)[Status.DELIVERED] < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    worker.join(timeout=5)
    assert _statuses(clean_database)[Status.DELIVERED] == 2
    assert "xAPI relay pass failed (RuntimeError)" in caplog.text
    # The failed pass counted as an attempt, with its reason, rather than holding the batch.
    assert {e.attempts for e in _entries(clean_database).values()} == {1}
    assert {e.last_error for e in _entries(clean_database).values()} == {
        "relay error: RuntimeError"
    }


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        RelayPolicy(batch_size=0)


def test_claims_skip_statements_another_relay_holds(clean_database: Database) -> None:
    _enqueue(clean_database, statements(3))
    now = outbox.utcnow()
    lease = now + dt.timedelta(minutes=5)
    with clean_database.session() as session:
        first = outbox.claim(
            session, token="a", now=now, due_before=now, lease_until=lease, limit=2
        )
    with clean_database.session() as session:
        second = outbox.claim(
            session, token="b", now=now, due_before=now, lease_until=lease, limit=5
        )
    assert len(first) == 2
    assert len(second) == 1
    assert {c.row_id for c in first}.isdisjoint(c.row_id for c in second)
    with clean_database.session() as session:
        held = (
            session.execute(sa.select(outbox.outbox.c.claimed_by).order_by(outbox.outbox.c.id))
            .scalars()
            .all()
        )
    assert held == ["a", "a", "b"]
