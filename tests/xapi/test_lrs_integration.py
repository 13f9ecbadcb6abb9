"""The relay against a real LRS (Learning Locker's statement service), faults included.

Every fault test ends the same way: the LRS holds each statement exactly once, and the
outbox has nothing pending or lost. Faults come from a proxy on 127.0.0.1 in front of the
LRS, or from stopping the LRS process itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from lti_tool.db import Database
from tests.fake_dns import LOOPBACK
from tests.xapi.conftest import FakeClock
from tests.xapi.http_fakes import Fault, LocalHttpServer
from tests.xapi.lrs_process import PASSWORD, USERNAME, LrsProcess, LrsReader
from tests.xapi.samples import SCORED, refused_by_lrs, statement, statements
from xapi import outbox
from xapi.lrs import HttpLrs, LrsAnswer
from xapi.outbox import SerializedStatement, Status
from xapi.relay import Relay, RelayCounts, same_statement

MakeRelay = Callable[..., Relay]
# After this long, every statement that failed has come due again.
LATER = 3600


@pytest.fixture
def reader(lrs_server: LrsProcess) -> Iterator[LrsReader]:
    with LrsReader(lrs_server.endpoint) as reader:
        yield reader


@pytest.fixture
def proxy(lrs_server: LrsProcess) -> Iterator[LocalHttpServer]:
    proxy = LocalHttpServer(upstream=lrs_server.origin).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def connect() -> Iterator[Callable[..., HttpLrs]]:
    """Open HTTP LRS clients with short timeouts; close them after the test."""
    opened: list[HttpLrs] = []

    def _connect(endpoint: str, read_timeout: float = 10.0) -> HttpLrs:
        client = HttpLrs(
            endpoint,
            USERNAME,
            PASSWORD,
            policy=LOOPBACK,
            connect_timeout=1.0,
            read_timeout=read_timeout,
        )
        opened.append(client)
        return client

    yield _connect
    for client in opened:
        client.close()


def _enqueue(database: Database, records: Sequence[SerializedStatement]) -> None:
    with database.session() as session:
        outbox.enqueue(session, records)


def _statuses(database: Database) -> dict[Status, int]:
    with database.session() as session:
        summary = outbox.summary(session)
    return {
        Status.PENDING: summary.pending,
        Status.DELIVERED: summary.delivered,
        Status.DEAD: summary.dead,
    }


def _entry(database: Database, statement_id: str) -> outbox.Entry:
    with database.session() as session:
        (entry,) = [e for e in outbox.iter_entries(session) if e.statement_id == statement_id]
    return entry


def _assert_held_exactly_once(
    reader: LrsReader, registration: str, records: Sequence[SerializedStatement]
) -> None:
    held = reader.query(registration=registration)
    assert sorted(s["id"] for s in held) == sorted(r.id for r in records)


def test_statements_are_read_back_by_agent_verb_activity_registration_and_id(
    clean_database: Database,
    make_relay: MakeRelay,
    connect: Callable[..., HttpLrs],
    lrs_server: LrsProcess,
    reader: LrsReader,
) -> None:
    registration = str(uuid.uuid4())
    activity = f"https://jalon.test/lti/liens/{uuid.uuid4()}"
    records = [
        statement(registration=registration, learner=f"l{i}", activity=activity) for i in range(6)
    ] + [
        statement(
            registration=registration,
            learner="l0",
            verb=SCORED,
            result={"score": {"scaled": 0.75}, "success": True},
        )
    ]
    _enqueue(clean_database, records)
    counts = make_relay(connect(lrs_server.endpoint), batch_size=4).run(once=True)
    assert counts == RelayCounts(delivered=7, requests=2)

    _assert_held_exactly_once(reader, registration, records)
    agent = {
        "objectType": "Agent",
        "account": {"homePage": "https://moodle.example.edu", "name": "l0"},
    }
    by_agent = reader.query(agent=json.dumps(agent), registration=registration)
    assert sorted(s["id"] for s in by_agent) == sorted([records[0].id, records[6].id])
    by_verb = reader.query(verb=SCORED, registration=registration)
    assert [s["id"] for s in by_verb] == [records[6].id]
    by_activity = reader.query(activity=activity)
    assert sorted(s["id"] for s in by_activity) == sorted(r.id for r in records[:6])
    for record in records:
        held = reader.statement(record.id)
        assert held is not None
        assert same_statement(record.json, held)
    assert _statuses(clean_database) == {Status.PENDING: 0, Status.DELIVERED: 7, Status.DEAD: 0}


def test_lrs_stopped_mid_run_then_restarted(
    clean_database: Database,
    make_relay: MakeRelay,
    connect: Callable[..., HttpLrs],
    proxy: LocalHttpServer,
    reader: LrsReader,
    clock: FakeClock,
) -> None:
    registration = str(uuid.uuid4())
    records = statements(50, registration=registration)
    _enqueue(clean_database, records)
    # Two batches go through; the LRS stores the third and dies before answering.
    proxy.faults += [Fault("forward"), Fault("forward"), Fault("forward-then-go-down")]
    relay = make_relay(connect(proxy.endpoint), batch_size=10)
    assert relay.run(once=True) == RelayCounts(delivered=20, retried=30, requests=5)
    assert len(proxy.posted) == 3  # the last two batches found the port closed

    proxy.start()  # the LRS is back, on the same address
    clock.advance(LATER)
    assert relay.run(once=True) == RelayCounts(delivered=30, requests=3)
    assert proxy.posted[2] in proxy.posted[3:]  # the stored batch went again, same bytes
    _assert_held_exactly_once(reader, registration, records)
    assert _statuses(clean_database) == {Status.PENDING: 0, Status.DELIVERED: 50, Status.DEAD: 0}


def test_lrs_process_stopped_before_delivery_then_restarted(
    clean_database: Database,
    make_relay: MakeRelay,
    connect: Callable[..., HttpLrs],
    lrs_server: LrsProcess,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    # A second LRS of our own: in memory, it forgets everything when it stops.
    server = LrsProcess(tmp_path / "lrs")
    server.start()
    try:
        registration = str(uuid.uuid4())
        records = statements(20, registration=registration)
        _enqueue(clean_database, records)
        relay = make_relay(connect(server.endpoint), batch_size=8)
        server.stop()
        assert relay.run(once=True) == RelayCounts(retried=20, requests=3)
        assert _statuses(clean_database)[Status.PENDING] == 20

        server.start()
        clock.advance(LATER)
        assert relay.run(once=True) == RelayCounts(delivered=20, requests=3)
        with LrsReader(server.endpoint) as reader:
            _assert_held_exactly_once(reader, registration, records)
    finally:
        server.stop()
    assert _statuses(clean_database) == {Status.PENDING: 0, Status.DELIVERED: 20, Status.DEAD: 0}


def test_lrs_answering_500_then_recovering(
    clean_database: Database,
    make_relay: MakeRelay,
    connect: Callable[..., HttpLrs],
    proxy: LocalHttpServer,
    reader: LrsReader,
    clock: FakeClock,
) -> None:
    registration = str(uuid.uuid4())
    records = statements(30, registration=registration)
    _enqueue(clean_database, records)
    proxy.faults += [Fault("answer", 500, b'{"message":"internal"}')] * 2
    relay = make_relay(connect(proxy.endpoint), batch_size=10)
    assert relay.run(once=True) == RelayCounts(delivered=10, retried=20, requests=3)
    with clean_database.session() as session:
        waiting = outbox.recent(session, status=Status.PENDING)
    assert {e.last_error for e in waiting} == {'HTTP 500: {"message":"internal"}'}
    clock.advance(LATER)
    assert relay.run(once=True) == RelayCounts(delivered=20, requests=2)
    _assert_held_exactly_once(reader, registration, records)
    assert _statuses(clean_database) == {Status.PENDING: 0, Status.DELIVERED: 30, Status.DEAD: 0}


@pytest.mark.parametrize("kind", ["hang", "forward-then-hang"])
def test_network_timeout(
    clean_database: Database,
    make_relay: MakeRelay,
    connect: Callable[..., HttpLrs],
    proxy: LocalHttpServer,
    reader: LrsReader,
    clock: FakeClock,
    kind: str,
) -> None:
    registration = str(uuid.uuid4())
    records = statements(20, registration=registration)
    _enqueue(clean_database, records)
    proxy.faults.append(Fault(kind))
    relay = make_relay(connect(proxy.endpoint, read_timeout=0.5), batch_size=10)
    assert relay.run(once=True) == RelayCounts(delivered=10, retried=10, requests=2)
    with clean_database.session() as session:
        (timed_out, *_) = outbox.recent(session, status=Status.PENDING)
    assert timed_out.last_error == "no answer: timeout: OUTBOUND_TIMEOUT"
    proxy.release.set()
    clock.advance(LATER)
    assert relay.run(once=True) == RelayCounts(delivered=10, requests=1)
    assert proxy.posted[0] == proxy.posted[2]
    _assert_held_exactly_once(reader, registration, records)
    assert _statuses(clean_database) == {Status.PENDING: 0, Status.DELIVERED: 20, Status.DEAD: 0}


def test_a_409_conflict_becomes_a_dead_letter_with_the_lrs_answer(
    clean_database: Database,
    make_relay: MakeRelay,
    connect: Callable[..., HttpLrs],
    lrs_server: LrsProcess,
    reader: LrsReader,
) -> None:
    registration = str(uuid.uuid4())
    records = statements(20, registration=registration)
    # Another system already stored different content under one of our ids.
    theirs = json.loads(records[7].json)
    theirs["verb"] = {"id": "http://adlnet.gov/expapi/verbs/attempted"}
    assert reader.post([theirs]).status_code == 200
    _enqueue(clean_database, records)
    counts = make_relay(connect(lrs_server.endpoint)).run(once=True)
    assert (counts.delivered, counts.dead, counts.retried) == (19, 1, 0)

    dead = _entry(clean_database, records[7].id)
    assert dead.status is Status.DEAD
    assert dead.last_error is not None
    assert dead.last_error.startswith("HTTP 409: ")
    assert f"{records[7].id} is conflicting" in dead.last_error
    _assert_held_exactly_once(reader, registration, records)
    held = reader.statement(records[7].id)
    assert held is not None
    assert held["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attempted"  # theirs, untouched
    assert _statuses(clean_database) == {Status.PENDING: 0, Status.DELIVERED: 19, Status.DEAD: 1}


def test_a_409_for_a_statement_the_lrs_holds_identical_is_delivered(
    clean_database: Database,
    make_relay: MakeRelay,
    connect: Callable[..., HttpLrs],
    proxy: LocalHttpServer,
    reader: LrsReader,
) -> None:
    # An LRS may answer 409 to an identical re-send; the relay checks what it holds.
    registration = str(uuid.uuid4())
    record = statement(registration=registration)
    _enqueue(clean_database, [record])
    proxy.faults.append(Fault("forward-then-answer", 409, b'{"message":"exists"}'))
    counts = make_relay(connect(proxy.endpoint)).run(once=True)
    assert counts == RelayCounts(delivered=1, requests=2)
    assert [s.method for s in proxy.seen] == ["POST", "GET"]
    _assert_held_exactly_once(reader, registration, [record])
    assert _statuses(clean_database) == {Status.PENDING: 0, Status.DELIVERED: 1, Status.DEAD: 0}


def test_a_400_for_one_statement_in_a_batch_of_500(
    clean_database: Database,
    make_relay: MakeRelay,
    connect: Callable[..., HttpLrs],
    lrs_server: LrsProcess,
    reader: LrsReader,
) -> None:
    registration = str(uuid.uuid4())
    records = statements(499, registration=registration)
    bad = refused_by_lrs(registration)
    records.insert(321, bad)
    _enqueue(clean_database, records)
    counts = make_relay(connect(lrs_server.endpoint)).run(once=True)
    assert (counts.delivered, counts.dead, counts.retried) == (499, 1, 0)
    assert counts.requests <= 19

    dead = _entry(clean_database, bad.id)
    assert dead.status is Status.DEAD
    assert dead.last_error is not None
    assert dead.last_error.startswith("HTTP 400: ")
    assert "result.score.scaled" in dead.last_error  # the LRS's own words
    good = [r for r in records if r is not bad]
    _assert_held_exactly_once(reader, registration, good)
    assert reader.statement(bad.id) is None
    assert _statuses(clean_database) == {Status.PENDING: 0, Status.DELIVERED: 499, Status.DEAD: 1}


class KilledAfterSend:
    """Sends for real, then dies before the relay can mark anything."""

    def __init__(self, lrs: HttpLrs) -> None:
        self.lrs = lrs

    def post_statements(self, bodies: Sequence[str]) -> LrsAnswer:
        answer = self.lrs.post_statements(bodies)
        assert answer.status == 200
        raise SystemExit("relay killed between send and mark")

    def fetch_statement(self, statement_id: str) -> None:
        raise AssertionError("not reached")

    def close(self) -> None:
        self.lrs.close()


def test_relay_killed_between_send_and_mark(
    clean_database: Database,
    make_relay: MakeRelay,
    connect: Callable[..., HttpLrs],
    proxy: LocalHttpServer,
    reader: LrsReader,
    clock: FakeClock,
) -> None:
    registration = str(uuid.uuid4())
    records = statements(40, registration=registration)
    _enqueue(clean_database, records)
    with pytest.raises(SystemExit):
        make_relay(KilledAfterSend(connect(proxy.endpoint)), lease=120).run(once=True)
    assert _statuses(clean_database)[Status.PENDING] == 40

    # A new relay: nothing is due while the dead relay's claim lasts, then all of it is.
    relay = make_relay(connect(proxy.endpoint), lease=120)
    assert relay.run(once=True) == RelayCounts()
    clock.advance(121)
    assert relay.run(once=True) == RelayCounts(delivered=40, requests=1)
    first, second = proxy.posted
    assert first == second  # the same ids, the same bytes: the LRS accepts it as stored
    _assert_held_exactly_once(reader, registration, records)
    assert _statuses(clean_database) == {Status.PENDING: 0, Status.DELIVERED: 40, Status.DEAD: 0}
