"""Launch benchmark: what an LTI launch costs Jalon, next to bare pylti1p3, in one run.

1. In process (Flask test client, SQLite, platform key cached): the median tool-side cost
   of login + launch through Jalon's whole app, and of the same two steps through a bare
   pylti1p3 ``FlaskOIDCLogin`` + ``FlaskMessageLaunch`` app (key set given inline, i.e.
   cached: pylti1p3 still turns the JWK into a key at each launch, 13 µs here; launch data
   in an in-memory cache). Signing the id_token is the platform's work
   and is not counted. The two are timed in ten alternating rounds; besides the ratio of
   the medians, the median of the ten per-round ratios. SQL statements and commits per
   launch are counted by SQLite itself, in an untimed pass. Then what one xAPI statement
   costs to build, directly (what a launch does) and through tincan, the reference it is
   proved identical to.
2. Over HTTP: ``gunicorn`` with 2 workers on PostgreSQL + Redis, all on 127.0.0.1, driven
   by a bounded number of client threads; launches per second, and the workers' resident
   memory after 500 and after 5,000 launches.

Prints figures; asserts nothing. ``python bench/launch.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bare_tool import DictCache, bare_pylti1p3_app  # noqa: E402
from bench.lms import ISSUER, JWKS_URL, PlatformSigner, free_port, jwks_server  # noqa: E402
from bench.lms import login_params as _login_params  # noqa: E402
from bench.lms import query as _query  # noqa: E402
from bench.scale_stack import serve  # noqa: E402
from lti_tool import create_app, migrations  # noqa: E402
from lti_tool.config import Settings  # noqa: E402
from lti_tool.db import Database  # noqa: E402
from lti_tool.lti.jwks import InMemoryJwksFetcher  # noqa: E402

TOOL = "https://jalon.bench"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "jalon_bench_launch"
REDIS_URL = "redis://127.0.0.1:6379/14"


def launch_once(
    client: Any, signer: PlatformSigner, user: int, login: str, launch: str
) -> tuple[float, float, str]:
    """Return (wall, CPU) seconds of one login + launch, tool side, and where it leads."""
    # A fresh browser for each launch: cookies left by earlier ones would slow the client.
    client._cookies.clear()
    params = _login_params(TOOL + launch, user)
    wall, cpu = time.perf_counter(), time.thread_time()
    response = client.post(login, data=params, base_url=TOOL)
    login_wall, login_cpu = time.perf_counter() - wall, time.thread_time() - cpu
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    redirect = _query(response.headers["Location"])
    token = signer.token(redirect["nonce"], user, TOOL + launch)  # the platform's work
    wall, cpu = time.perf_counter(), time.thread_time()
    response = client.post(
        launch, data={"id_token": token, "state": redirect["state"]}, base_url=TOOL
    )
    launch_wall, launch_cpu = time.perf_counter() - wall, time.thread_time() - cpu
    assert response.status_code in {302, 303}, response.get_data(as_text=True)[:2000]
    return login_wall + launch_wall, login_cpu + launch_cpu, response.headers["Location"]


def _time_flow(
    client: Any, signer: PlatformSigner, n: int, login: str, launch: str
) -> list[tuple[float, float]]:
    """Return (wall, CPU) seconds of login + launch, tool side, for ``n`` launches."""
    return [launch_once(client, signer, i % 50, login, launch)[:2] for i in range(n)]


def jalon_app(
    url: str, folder: Path, signer: PlatformSigner, redis_url: str | None = None
) -> tuple[Any, Database, InMemoryJwksFetcher]:
    """Return Jalon's app on a migrated database where ``signer`` is registered."""
    migrations.upgrade(url)
    database = Database(url)
    signer.register(database)
    settings = Settings(
        secret_key=secrets.token_urlsafe(32),
        database_url=url,
        base_url=TOOL,
        instance_path=folder,
        redis_url=redis_url,
    )
    fetcher = InMemoryJwksFetcher({JWKS_URL: {"keys": [signer.jwk]}})
    return create_app(settings, database=database, jwks_fetcher=fetcher), database, fetcher


def _count_sql(
    database: Database, client: Any, signer: PlatformSigner, n: int
) -> tuple[float, float]:
    """Return the SQL statements and commits per login + launch, as SQLite runs them.

    Counted by SQLite itself in an untimed pass: some statements go to the driver
    directly (xapi.prepared), where SQLAlchemy's events do not see them.
    """
    seen: list[str] = []

    def trace(connection: Any, _record: Any) -> None:
        connection.set_trace_callback(seen.append)

    database.engine.dispose()
    sa.event.listen(database.engine, "connect", trace)
    try:
        _time_flow(client, signer, n, "/lti/login", "/lti/launch")
    finally:
        sa.event.remove(database.engine, "connect", trace)
        database.engine.dispose()
    words = [statement.split(None, 1)[0].upper() for statement in seen if statement.strip()]
    commits = sum(word == "COMMIT" for word in words)
    work = sum(word not in {"BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"} for word in words)
    return work / n, commits / n


def bench_in_process(n: int, warmup: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="jalon-bench-"))
    try:
        url = f"sqlite:///{folder / 'bench.db'}"
        signer = PlatformSigner()
        app, database, fetcher = jalon_app(url, folder, signer)
        jalon = app.test_client()
        bare = bare_pylti1p3_app(ISSUER, signer.jwk, TOOL, DictCache()).test_client()
        _time_flow(jalon, signer, warmup, "/lti/login", "/lti/launch")
        _time_flow(bare, signer, warmup, "/login", "/launch")
        # Interleave the two in rounds so that both see the same machine conditions.
        jalon_costs: list[tuple[float, float]] = []
        bare_costs: list[tuple[float, float]] = []
        round_ratios: list[float] = []
        for _ in range(10):
            jalon_round = _time_flow(jalon, signer, n // 10, "/lti/login", "/lti/launch")
            bare_round = _time_flow(bare, signer, n // 10, "/login", "/launch")
            jalon_costs += jalon_round
            bare_costs += bare_round
            round_ratios.append(
                statistics.median(c[0] for c in jalon_round)
                / statistics.median(c[0] for c in bare_round)
            )
        statements, commits = _count_sql(database, jalon, signer, 20)
        print(f"in-process login + launch, median of {len(jalon_costs)} (SQLite, key cached):")
        print("                                  wall      CPU")
        for label, costs in (("Jalon", jalon_costs), ("bare pylti1p3 (same token)", bare_costs)):
            wall = statistics.median(c[0] for c in costs) * 1000
            cpu = statistics.median(c[1] for c in costs) * 1000
            print(f"  {label:<28} {wall:6.2f} ms {cpu:6.2f} ms")
        for index, name in ((0, "wall"), (1, "CPU")):
            ratio = statistics.median(c[index] for c in jalon_costs) / statistics.median(
                c[index] for c in bare_costs
            )
            print(f"  ratio Jalon / pylti1p3 ({name:<4})  {ratio:6.2f}")
        # Each round times both sides back to back: its ratio is the least exposed to drift.
        print(
            f"  ratio per round (wall)        {statistics.median(round_ratios):6.2f}"
            f" median of 10, {min(round_ratios):.2f}–{max(round_ratios):.2f}"
        )
        print(
            f"  SQL statements per launch     {statements:6.1f}"
            f" (login + launch; {commits:.1f} commit)"
        )
        fetches, launches = len(fetcher.fetches), warmup + len(jalon_costs)
        print(f"  platform key set fetches      {fetches:6d} (for {launches} launches)")
        database.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# xAPI statements ----------------------------------------------------------------------


def _one_event_of_each_kind() -> list[Any]:
    """Return the seven kinds of event, as a learner's path through one épreuve."""
    from datetime import UTC, datetime

    from xapi import events as e

    lms = e.LmsContext(ISSUER, "Moodle", "1", "7", "Bench")
    learner = e.LtiUser(ISSUER, "17", "Learner 17", "learner17@example.edu")
    link = e.ResourceLink("3", "Épreuve 3", "E3", ("B2",))
    common: dict[str, Any] = {
        "learner": learner,
        "lms": lms,
        "framework_code": "community-manager-n6",
        "occurred_at": datetime.now(UTC),
        "language": "fr",
    }
    evaluated = {
        **common,
        "evaluation_id": "ev",
        "evaluator": e.LtiUser(ISSUER, "3", "Evaluator"),
        "resource_link": link,
        "bloc_code": "B2",
        "competency_code": "C2.1",
    }
    return [
        e.Launched(**common, launch_id="l", resource_link=link),
        e.Submitted(**common, submission_id="s", resource_link=link),
        e.CriterionScored(
            **evaluated,
            submission_id="s",
            criterion_code="C2.1-1",
            score_raw=3,
            score_min=0,
            score_max=4,
            success=True,
        ),
        e.CompetencyProgressed(**evaluated, score=0.75, success=True),
        e.CompetencyMastered(**evaluated, score=1.0),
        e.BlocSatisfied(**common, evaluation_id="ev", bloc_code="B2"),
        e.CertificationSatisfied(**common, evaluation_id="ev"),
    ]


def bench_statements(rounds: int) -> None:
    """Print what one statement costs to build: directly, and through tincan (the reference)."""
    from xapi.statements import build
    from xapi.tincan_reference import build_reference

    path = _one_event_of_each_kind()
    print(f"xAPI statement build, median of {rounds} rounds of the 7 event kinds (CPU):")
    for label, builder in (
        ("direct (xapi.statements)", build),
        ("tincan reference", build_reference),
    ):
        costs = []
        for _ in range(rounds):
            start = time.thread_time()
            for event in path:
                builder(event, TOOL)
            costs.append((time.thread_time() - start) / len(path))
        each = statistics.median(costs)
        print(f"  {label:<28} {each * 1e6:6.1f} µs a statement, {each * 60e3:5.1f} ms for 60")


# HTTP ---------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _http_launches(base: str, signer: PlatformSigner, count: int, threads: int) -> float:
    import requests

    launch_url = base + "/lti/launch"
    counter = iter(range(count))
    lock = threading.Lock()
    failures: list[str] = []

    def browser() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                login = session.post(
                    base + "/lti/login",
                    data=_login_params(launch_url, i % 200),
                    allow_redirects=False,
                    timeout=10,
                )
                if login.status_code != 302:
                    failures.append(f"login {login.status_code}")
                    continue
                redirect = _query(login.headers["Location"])
                token = signer.token(redirect["nonce"], i % 200, launch_url)
                launch = session.post(
                    launch_url,
                    data={"id_token": token, "state": redirect["state"]},
                    allow_redirects=False,
                    timeout=10,
                )
                if launch.status_code != 303:
                    failures.append(f"launch {launch.status_code}")

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(browser) for _ in range(threads)]:
            future.result()
    elapsed = time.perf_counter() - start
    if failures:
        print(f"  {len(failures)} failed launches, e.g. {failures[:3]}")
    return count / elapsed


def bench_http(
    total: int,
    first: int,
    threads: int,
    pg_db: str = PG_BENCH_DB,
    redis_url: str = REDIS_URL,
    port: int = 0,
) -> None:
    import redis

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {pg_db}"))
            connection.execute(sa.text(f"CREATE DATABASE {pg_db}"))
    except sa.exc.OperationalError as exc:
        print(f"HTTP benchmark skipped: PostgreSQL is not reachable ({exc.__class__.__name__})")
        return
    cache = redis.Redis.from_url(redis_url)
    try:
        cache.ping()
    except redis.RedisError:
        print("HTTP benchmark skipped: Redis is not reachable at 127.0.0.1:6379")
        return
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_db}"
    migrations.upgrade(url)
    signer = PlatformSigner()
    keys_server, jwks_url = jwks_server({"keys": [signer.jwk]})
    signer.jwks_url = jwks_url
    database = Database(url)
    signer.register(database)
    database.engine.dispose()
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    folder = Path(tempfile.mkdtemp(prefix="jalon-bench-"))
    env = {
        **os.environ,
        "JALON_DATABASE_URL": url,
        "JALON_REDIS_URL": redis_url,
        "JALON_SECRET_KEY": secrets.token_urlsafe(32),
        "JALON_BASE_URL": base,
        "JALON_INSTANCE_PATH": str(folder),
    }
    # Without the workers' relays: no LRS is configured, statements wait in the outbox.
    server = serve(env, port, workers=2, threads=4, log=folder / "serve.log")
    try:
        _http_launches(base, signer, 100, threads)  # warm up both workers
        rate_first = _http_launches(base, signer, first - 100, threads)
        rss_first = {pid: _rss_kb(pid) for pid in server.workers()}
        rate_rest = _http_launches(base, signer, total - first, threads)
        rss_total = {pid: _rss_kb(pid) for pid in server.workers()}
        print(
            f"HTTP: gunicorn 2 workers × 4 threads, PostgreSQL + Redis, {threads} client threads:"
        )
        print(f"  launches/s (login + launch)   {rate_first:7.1f} (first {first})")
        print(f"  launches/s (login + launch)   {rate_rest:7.1f} (next {total - first})")
        for pid in rss_total:
            before, after = rss_first.get(pid, 0) / 1024, rss_total[pid] / 1024
            print(
                f"  worker {pid} RSS              {before:6.1f} MiB after {first}, "
                f"{after:6.1f} MiB after {total} ({after - before:+.1f} MiB)"
            )
    finally:
        server.stop()
        keys_server.shutdown()
        keys_server.server_close()
        for key in cache.scan_iter("jalon:*"):
            cache.delete(key)
        cache.close()
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="in-process launches per variant")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--http-total", type=int, default=5000)
    parser.add_argument("--http-first", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8, help="HTTP client threads")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--pg-db", default=PG_BENCH_DB, help="dropped and created afresh")
    parser.add_argument("--redis-url", default=REDIS_URL, help="its jalon:* keys are deleted")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    args = parser.parse_args()
    bench_in_process(args.n, args.warmup)
    bench_statements(args.n)
    if not args.skip_http:
        bench_http(
            args.http_total, args.http_first, args.threads, args.pg_db, args.redis_url, args.port
        )


if __name__ == "__main__":
    main()
