"""Benchmark the xAPI relay and the outbox; prints figures, asserts nothing.

1. Delivery: the relay's delivered statements per second against a raw baseline — the same
   kind of batches POSTed by a bare loop on one keep-alive ``requests.Session`` — both against
   the same local real LRS (Learning Locker's ``xapi-statements``, in memory), in one run,
   in alternating rounds so that both see an LRS holding as many statements. Target: relay
   ≥ 90 % of the baseline.
2. Outbox cost: what enqueueing adds to a request's transaction, per statement — a
   transaction that writes a domain row, with and without its statements. Target ≤ 0.3 ms.

Run from the checkout, after ``bash .ci/lrs.sh``:

    .venv/bin/python bench/relay.py [--statements 20000] [--batch-size 500]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/jalon_bench]

Without ``--database-url`` a temporary SQLite file is used. A PostgreSQL database given here
is migrated and its outbox emptied: give a dedicated one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from lti_tool import migrations  # noqa: E402
from lti_tool.db import Database  # noqa: E402
from tests.xapi.lrs_process import PASSWORD, USERNAME, LrsProcess, missing  # noqa: E402
from tests.xapi.samples import statements  # noqa: E402
from xapi import outbox  # noqa: E402
from xapi.lrs import HttpLrs, batch_body  # noqa: E402
from xapi.outbound import OutboundPolicy  # noqa: E402
from xapi.relay import Relay, RelayPolicy  # noqa: E402

BENCH_EVENTS = sa.Table(
    "bench_events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
)


class RawClient:
    """The baseline: a bare loop's client, one keep-alive ``requests.Session``."""

    def __init__(self, endpoint: str) -> None:
        self.url = f"{endpoint.rstrip('/')}/statements"
        self.http = requests.Session()
        self.http.auth = (USERNAME, PASSWORD)
        self.http.headers.update(
            {
                "X-Experience-API-Version": "1.0.3",
                "Content-Type": "application/json; charset=utf-8",
            }
        )

    def post(self, body: bytes) -> float:
        start = time.perf_counter()
        answer = self.http.post(self.url, data=body, timeout=(5, 60))
        elapsed = time.perf_counter() - start
        if answer.status_code != 200:
            raise SystemExit(f"baseline: HTTP {answer.status_code}: {answer.text[:200]}")
        return elapsed


def delivery(database: Database, endpoint: str, total: int, batch_size: int, rounds: int) -> None:
    """Time the raw loop and the relay on equal shares, in A-B-B-A order.

    The in-memory LRS slows down as it fills up; alternating raw, relay, relay, raw rounds
    makes both sides meet, on average, an LRS of the same size.
    """
    per_round = total // (2 * rounds) // batch_size * batch_size
    raw = RawClient(endpoint)
    # The LRS runs on loopback, as for a Jalon served on loopback (the demo).
    lrs = HttpLrs(endpoint, USERNAME, PASSWORD, policy=OutboundPolicy(allow_loopback_http=True))
    relay = Relay(database.sessions, lrs, RelayPolicy(batch_size=batch_size))
    raw_time = relay_time = 0.0
    try:
        # Warm both paths up: connections, the LRS's JIT, SQLite's pages.
        for body in _raw_batches(batch_size, batch_size):
            raw.post(body)
        _relay_round(database, relay, batch_size)
        for order in range(2 * rounds):
            sides = ("raw", "relay") if order % 2 == 0 else ("relay", "raw")
            for side in sides:
                if side == "raw":
                    raw_time += sum(raw.post(b) for b in _raw_batches(per_round, batch_size))
                else:
                    relay_time += _relay_round(database, relay, per_round)
    finally:
        raw.http.close()
        lrs.close()
    each = per_round * 2 * rounds
    relay_rate, raw_rate = each / relay_time, each / raw_time
    print(f"delivery: {each} statements each way, batches of {batch_size}, A-B-B-A rounds")
    print(f"  raw baseline (bare POST loop, one keep-alive session): {raw_rate:6.0f} statements/s")
    print(
        f"  relay (claim, POST, mark delivered):                   {relay_rate:6.0f} statements/s"
    )
    print(f"  relay / baseline: {relay_rate / raw_rate:.1%} (target >= 90 %)")


def _raw_batches(count: int, batch_size: int) -> list[bytes]:
    records = statements(count)
    return [
        batch_body([r.json for r in records[i : i + batch_size]])
        for i in range(0, count, batch_size)
    ]


def _relay_round(database: Database, relay: Relay, count: int) -> float:
    """Enqueue ``count`` statements (not timed), then time one drain of the relay."""
    with database.session() as session:
        outbox.enqueue(session, statements(count))
    start = time.perf_counter()
    counts = relay.run(once=True)
    elapsed = time.perf_counter() - start
    if counts.delivered != count or counts.dead or counts.retried:
        raise SystemExit(f"relay: unexpected outcome {counts}")
    return elapsed


def outbox_cost(database: Database, requests_count: int, per_request: int) -> None:
    """Time transactions writing one domain row, with and without ``per_request`` statements.

    Wall time is what a request waits (the commit's disk flush included); CPU time is this
    process's own work, which other load on the machine does not inflate.
    """
    BENCH_EVENTS.create(database.engine, checkfirst=True)
    prepared = [statements(per_request) for _ in range(requests_count)]

    def run(with_outbox: bool, block: range) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for i in block:
            with database.session() as session:
                session.execute(sa.insert(BENCH_EVENTS), {"payload": f"evaluation {i}"})
                if with_outbox:
                    outbox.enqueue(session, prepared[i])
        return (time.perf_counter() - wall) / len(block), (time.process_time() - cpu) / len(block)

    # Alternate blocks (A-B, then B-A) so that drift (caches, WAL growth) hits both alike.
    block = 50
    with_runs, without_runs = [], []
    for number, first in enumerate(range(0, requests_count, block)):
        span = range(first, min(first + block, requests_count))
        for with_outbox in (False, True) if number % 2 == 0 else (True, False):
            (with_runs if with_outbox else without_runs).append(run(with_outbox, span))
    print(f"outbox cost ({database.engine.dialect.name}), {requests_count} transactions each way:")
    for label, index in (("wall", 0), ("CPU", 1)):
        without = statistics.median(r[index] for r in without_runs)
        with_ = statistics.median(r[index] for r in with_runs)
        added = (with_ - without) / per_request
        print(
            f"  {label:>4}: {without * 1000:.3f} ms without, {with_ * 1000:.3f} ms with "
            f"{per_request} statement(s): {added * 1000:.3f} ms per statement (target <= 0.3 ms)"
        )
    BENCH_EVENTS.drop(database.engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2, help="A-B-B-A rounds")
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", choices=["delivery", "outbox"], default=None)
    args = parser.parse_args()
    problems = missing()
    if problems:
        raise SystemExit("cannot start the LRS: missing " + "; ".join(problems))

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrations.upgrade(url)
        database = Database(url)
        with database.engine.begin() as connection:
            connection.execute(sa.delete(outbox.outbox))
        server = LrsProcess(Path(tmp) / "lrs")
        server.start()
        try:
            print(f"database: {database.engine.dialect.name}; LRS: xapi-statements (in memory)")
            if args.only != "outbox":
                delivery(database, server.endpoint, args.statements, args.batch_size, args.rounds)
            if args.only != "delivery":
                for per_request in (1, 5):
                    outbox_cost(database, args.transactions, per_request)
        finally:
            server.stop()
            with database.engine.begin() as connection:
                connection.execute(sa.delete(outbox.outbox))
            database.engine.dispose()


if __name__ == "__main__":
    main()
