"""The retention purge: how fast it deletes, and what the launch path no longer pays.

Fills a fresh database with N delivered statements past the retention, N expired cache
entries and N live ones (a school's launches of the last hours), then times:

* the purge of those rows (``jalon purge``'s code, batches of 5,000), as rows per second,
  against a bare ``DELETE ... WHERE`` of the same rows in one statement (the floor);
* the delete of expired ``lti_cache`` rows alone, which before the purge moved out ran inside
  one launch per process every five minutes, as that launch's extra time.

Prints figures; asserts nothing. SQLite by default; ``--database-url`` for PostgreSQL (the
database is emptied of these tables' rows first: use a scratch one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from lti_tool import migrations
from lti_tool.db import Database
from lti_tool.evaluation.storage import LocalFileStorage
from lti_tool.models import CacheEntry
from lti_tool.privacy.purge import Retention, purge
from lti_tool.privacy.retention import no_roster
from xapi import outbox

NOW = dt.datetime.now(dt.UTC)
KEPT = Retention(outbox=dt.timedelta(days=30), drafts=dt.timedelta(days=180))


def _vacuum(database: Database) -> None:
    """Let PostgreSQL forget the rows of the previous fill, as autovacuum would."""
    if database.engine.dialect.name != "postgresql":
        return
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE xapi_outbox")
        c.exec_driver_sql("VACUUM ANALYZE lti_cache")


def _fill(database: Database, n: int) -> None:
    old = NOW - dt.timedelta(days=40)
    box = outbox.outbox
    cache = CacheEntry.__table__
    with database.engine.begin() as connection:
        connection.execute(sa.delete(box))
        connection.execute(sa.delete(cache))
    _vacuum(database)
    with database.engine.begin() as connection:
        for start in range(0, n, 10_000):
            size = min(10_000, n - start)
            ids = [str(uuid.uuid4()) for _ in range(size)]
            connection.execute(
                sa.insert(box),
                [
                    {
                        "statement_id": i,
                        "body": '{"id":"' + i + '","actor":{},"verb":{},"object":{}}' + " " * 900,
                        "status": "delivered",
                        "attempts": 1,
                        "created_at": old,
                        "next_attempt_at": old,
                        "delivered_at": old,
                    }
                    for i in ids
                ],
            )
            connection.execute(
                sa.insert(cache),
                [
                    {"key": f"n:{i}", "value": "1", "expires_at": NOW - dt.timedelta(hours=1)}
                    for i in ids
                ]
                + [
                    {
                        "key": f"l:{i}",
                        "value": "{}" * 600,
                        "expires_at": NOW + dt.timedelta(hours=2),
                    }
                    for i in ids
                ],
            )
    _vacuum(database)


def _bare(database: Database) -> float:
    started = time.perf_counter()
    with database.engine.begin() as connection:
        connection.execute(
            sa.delete(outbox.outbox).where(
                outbox.outbox.c.status == "delivered",
                outbox.outbox.c.delivered_at <= NOW - KEPT.outbox,
            )
        )
        connection.execute(sa.delete(CacheEntry.__table__).where(CacheEntry.expires_at <= NOW))
    return time.perf_counter() - started


def _jalon(database: Database, storage: LocalFileStorage) -> float:
    started = time.perf_counter()
    report = purge(database.sessions, now=NOW, kept=KEPT, storage=storage, roster=no_roster)
    assert report.counts["xapi_delivered"] > 0
    return time.perf_counter() - started


def _cache_only(database: Database) -> float:
    """Time what a launch used to run every five minutes per process."""
    started = time.perf_counter()
    with database.engine.begin() as connection:
        connection.execute(sa.delete(CacheEntry.__table__).where(CacheEntry.expires_at <= NOW))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        migrations.upgrade(url)
        database = Database(url)
        storage = LocalFileStorage(Path(folder) / "uploads")
        n = arguments.rows
        _fill(database, n)
        bare = _bare(database)
        _fill(database, n)
        jalon = _jalon(database, storage)
        _fill(database, n)
        cache = _cache_only(database)
        database.engine.dispose()
    backend = sa.engine.make_url(url).get_backend_name()
    print(f"{backend}: {n} delivered statements + {n} expired and {n} live cache entries")
    print(f"  bare DELETE (one statement each):  {bare:.2f} s  ({2 * n / bare:,.0f} rows/s)")
    print(f"  jalon purge (batches, under lease): {jalon:.2f} s  ({2 * n / jalon:,.0f} rows/s)")
    print(f"  ratio jalon / bare: {jalon / bare:.2f}")
    print(
        f"  expired cache rows alone (once in a launch, every 5 min per process before): "
        f"{cache * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
