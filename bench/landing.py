"""Landing benchmark: what the learner's first page after a launch costs, next to the launch.

A launch ends on ``/lti/accueil``, which sends a learner on to the épreuve page: two GETs
before anything shows. Through Jalon's whole app (Flask test client, platform key cached,
the bundled référentiel placed as in the demo), each round does one login + launch and then
those two GETs, and times both parts in CPU (``time.thread_time``) and wall time. Printed:
the medians, the landing pair as a ratio of the launch it follows, and the SQL statements
of each part, counted in an untimed pass (SQLite by SQLite itself; PostgreSQL by
SQLAlchemy's cursor events plus the statements run on the driver, ``xapi.prepared``).

On SQLite (a temporary file, launch data in the database) and on PostgreSQL (a database of
its own, dropped and created afresh; Redis for the launch data when ``--redis-url`` is
given). Reuses ``bench/launch.py``'s platform, app and launch. Prints figures; asserts
nothing. ``python bench/landing.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.launch import PG_ADMIN, TOOL, PlatformSigner, jalon_app, launch_once
from lti_tool.db import Database
from xapi.prepared import Prepared

Cost = tuple[float, float]  # wall, CPU seconds


def _get(client: Any, location: str, expected: int) -> Any:
    response = client.get(location, base_url=TOOL)
    assert response.status_code == expected, response.get_data(as_text=True)[:2000]
    return response


def land_once(client: Any, signer: PlatformSigner, user: int) -> tuple[Cost, Cost]:
    """Return the (wall, CPU) of one login + launch and of the two GETs that follow it."""
    launch_wall, launch_cpu, home = launch_once(client, signer, user, "/lti/login", "/lti/launch")
    wall, cpu = time.perf_counter(), time.thread_time()
    epreuve = _get(client, home, 303).headers["Location"]
    page = _get(client, epreuve, 200)
    landing = (time.perf_counter() - wall, time.thread_time() - cpu)
    assert b'name="text"' in page.data, page.get_data(as_text=True)[:2000]
    return (launch_wall, launch_cpu), landing


@contextmanager
def _counted(database: Database) -> Iterator[list[str]]:
    """Collect the SQL statements run on ``database`` (BEGIN, COMMIT… included on SQLite)."""
    seen: list[str] = []
    is_sqlite = database.engine.dialect.name == "sqlite"

    def trace(connection: Any, _record: Any) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.set_trace_callback(seen.append)

    def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    run = Prepared._run

    def prepared_run(self: Prepared, connection: Any, parameters: Any) -> Any:
        seen.append(self._compiled(connection.dialect).sql)
        return run(self, connection, parameters)

    database.engine.dispose()
    if is_sqlite:
        sa.event.listen(database.engine, "connect", trace)
    else:
        sa.event.listen(database.engine, "before_cursor_execute", executed)
        Prepared._run = prepared_run  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        if is_sqlite:
            sa.event.remove(database.engine, "connect", trace)
        else:
            sa.event.remove(database.engine, "before_cursor_execute", executed)
            Prepared._run = run  # type: ignore[method-assign]
        database.engine.dispose()


def _work(statements: list[str]) -> int:
    words = [statement.split(None, 1)[0].upper() for statement in statements if statement.strip()]
    return sum(word not in {"BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT"} for word in words)


def _count_sql(database: Database, client: Any, signer: PlatformSigner, n: int) -> Cost:
    """Return the SQL statements of a login + launch and of its landing pair, per launch."""
    launch_total = landing_total = 0
    with _counted(database) as seen:
        for i in range(n):
            _, _, home = launch_once(client, signer, i % 50, "/lti/login", "/lti/launch")
            launch_total += _work(seen)
            seen.clear()
            epreuve = _get(client, home, 303).headers["Location"]
            _get(client, epreuve, 200)
            landing_total += _work(seen)
            seen.clear()
    return launch_total / n, landing_total / n


def bench(label: str, url: str, folder: Path, n: int, warmup: int, redis: str | None) -> None:
    """Print the launch and landing medians on one database."""
    signer = PlatformSigner()
    app, database, _ = jalon_app(url, folder, signer, redis)
    client = app.test_client()
    for i in range(warmup):
        land_once(client, signer, i % 50)
    launches: list[Cost] = []
    landings: list[Cost] = []
    for i in range(n):
        launch, landing = land_once(client, signer, i % 50)
        launches.append(launch)
        landings.append(landing)
    statements = _count_sql(database, client, signer, 10)
    print(f"{label}, median of {n} (key cached):")
    print("                                   wall      CPU   SQL statements")
    rows = (
        ("login + launch", launches, statements[0]),
        ("accueil + épreuve", landings, statements[1]),
    )
    for name, costs, count in rows:
        wall = statistics.median(c[0] for c in costs) * 1000
        cpu = statistics.median(c[1] for c in costs) * 1000
        print(f"  {name:<28} {wall:6.2f} ms {cpu:6.2f} ms {count:5.1f}")
    ratio = statistics.median(c[1] for c in landings) / statistics.median(c[1] for c in launches)
    print(f"  landing pair / launch (CPU)  {ratio:6.2f}")
    database.engine.dispose()


def _postgres(db: str) -> str | None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            connection.execute(sa.text(f"CREATE DATABASE {db}"))
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL skipped: not reachable ({exc.__class__.__name__})")
        return None
    finally:
        admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=400, help="launches (each with its landing)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--pg-db", default="jalon_bench_landing", help="dropped and created")
    parser.add_argument("--redis-url", default=None, help="launch data in Redis on PostgreSQL")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jalon-bench-"))
    try:
        url = f"sqlite:///{folder / 'bench.db'}"
        bench("SQLite", url, folder, args.n, args.warmup, None)
        pg_url = None if args.skip_pg else _postgres(args.pg_db)
        if pg_url:
            store = "Redis" if args.redis_url else "database"
            label = f"PostgreSQL, launch data in {store}"
            bench(label, pg_url, folder, args.n, args.warmup, args.redis_url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
