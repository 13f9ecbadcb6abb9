"""Scale-out benchmark: Jalon behind nginx, 1, 2 and 4 app processes, under mixed load.

For each configuration — 1 process (one ``jalon serve``, one worker), 2 (two instances of
one worker), 4 (two instances of two workers), 4 threads each — behind nginx, on one
PostgreSQL and one Redis, with two ``jalon xapi relay`` draining the outbox to a local real
LRS and one ``jalon grades send``:

1. mixed load from locust (headless, on the same machine): learners launch, land on their
   épreuve (``/lti/accueil`` → ``/epreuve``) and hand in a file; evaluators read the queue
   and the class matrix and publish copies (``bench/scale_users.py``); requests/s and
   p50/p95/p99 per kind;
2. launches/s through nginx with locust users launching without pause;
3. the run checked: statements at the LRS = statements written to the outbox (by id, none
   lost, none accepted twice), grades sent once each (the platform's gradebook counts the
   scores it stored), and a launch replayed to the other instance refused (its nonce used).

Then the baseline (``bench/scale_baseline.py``): Jalon against a bare pylti1p3 Flask app
under the same gunicorn settings, interleaved in the same run — launches/s and tool-side
CPU per launch, launch + landing against launch + trivial page, CPU per landing pair.

Prints figures; asserts nothing. Needs PostgreSQL and Redis on 127.0.0.1, nginx, and the
LRS of the tests (``bash .ci/lrs.sh``); ``python bench/scale.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench import scale_baseline, scale_checks, scale_stack  # noqa: E402
from bench.lms import LmsServer  # noqa: E402
from lti_tool import migrations  # noqa: E402
from lti_tool.db import Database  # noqa: E402
from tests.deploy.stack import Stack  # noqa: E402
from tests.xapi.lrs_process import LrsProcess, missing  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
# Ports of this benchmark: 18200-18299.
# nginx takes the first two, the instances the next ones (tests/deploy/stack.py).
PORTS = {"https": 18200, "bare": 18220, "jalon": 18221}
PORTS |= {"lms": 18230, "lrs": 18231, "counter": 18232, "base_lms": 18233}
KINDS = (
    ("= launch", "launch (login + launch)"),
    ("launch: login", "  login"),
    ("launch: launch", "  launch"),
    ("= landing", "landing (accueil → épreuve)"),
    ("landing: accueil", "  accueil"),
    ("landing: épreuve", "  épreuve page"),
    ("hand-in", "hand-in (file upload)"),
    ("queue", "evaluator queue"),
    ("matrix", "class matrix"),
    ("= publish", "publish (grid, confirm, publish)"),
    ("publish", "  publish POST"),
    ("Aggregated", "all requests"),
)


def fresh_database(name: str) -> str:
    """Drop and create a PostgreSQL database, migrate it; return its URL."""
    admin = sa.create_engine(PG + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    migrations.upgrade(PG + name)
    return PG + name


def wait_drained(engine: sa.Engine, timeout: float) -> float:
    """Wait until no statement and no grade is pending; return the seconds waited."""
    started = time.monotonic()
    pending = sa.text(
        "SELECT (SELECT count(*) FROM xapi_outbox WHERE status = 'pending')"
        " + (SELECT count(*) FROM grade_passbacks WHERE status = 'pending')"
    )
    while time.monotonic() - started < timeout:
        with engine.connect() as connection:
            if connection.execute(pending).scalar_one() == 0:
                break
        time.sleep(0.5)
    return time.monotonic() - started


def scale_config(processes: int, args: argparse.Namespace, folder: Path) -> None:
    """Run one configuration: the stack up, the loads, the checks, the stack down."""
    instances = 1 if processes == 1 else 2
    workers = processes // instances
    url = fresh_database(args.database)
    redis.Redis.from_url(args.redis).flushdb()
    lms = LmsServer(PORTS["lms"]).start()
    database = Database(url)
    lms.signer.register(database, token_url=f"{lms.origin}/mod/lti/token.php")
    lrs = LrsProcess(folder / f"lrs-{processes}", PORTS["lrs"])
    lrs.start()
    counter = scale_checks.CountingLrs(lrs.origin, PORTS["counter"])
    # The shipped nginx site in front of the instances (tests/deploy/stack.py), two relays
    # and a grade sender beside them, as the systemd units run them.
    stack = Stack(
        folder / f"stack-{processes}",
        database_url=url,
        redis_url=args.redis,
        instances=instances,
        workers=workers,
        threads=args.threads,
        lrs=(counter.origin + "/xAPI/", "jalon", "bench-password-not-secret"),
        first_port=PORTS["https"],
        server_name="127.0.0.1",
        secret_key=args.secret,
        relays=2,
        grade_senders=1,
    )
    try:
        stack.start()
        load_env = {
            **stack.app_env(),
            **scale_stack.platform_env(lms.signer, folder),
            "BENCH_LAUNCH_URL": stack.base_url + "/lti/launch",
            "BENCH_WAIT": args.wait,
            "BENCH_EVALUATORS": str(args.evaluators),
        }
        load = os.getloadavg()[0]  # the machine is shared: say how busy it was
        mixed = scale_stack.locust(
            ["Learner", "Evaluator"],
            args.users,
            args.seconds,
            stack.base_url,
            {**load_env, "BENCH_RUN": f"mixed{processes}"},
            folder / f"mixed-{processes}",
            ramp=args.ramp,
        )
        burst = scale_stack.locust(
            ["JalonLaunch"],
            args.clients,
            args.launch_seconds,
            stack.base_url,
            {**load_env, "BENCH_RUN": f"burst{processes}"},
            folder / f"burst-{processes}",
        )
        first, last = stack.instances[0].url, stack.instances[-1].url
        replayed = scale_checks.replay(lms.signer, stack.base_url + "/lti/launch", first, last)
        waited = wait_drained(database.engine, args.drain)
        statements = scale_checks.statements(database.engine, counter, lrs.endpoint)
        grades = scale_checks.grades(database.engine, lms.scores_by_user())
    finally:
        stack.stop()
        counter.stop()
        lrs.stop()
        lms.stop()
        database.engine.dispose()
    print(
        f"{processes} app process{'es' if processes > 1 else ''} ({instances} × `jalon serve`, "
        f"{workers} worker{'s' if workers > 1 else ''} × {args.threads} threads) behind nginx; "
        f"{args.users} users, think time {args.wait.replace(',', '–')} s, {args.seconds:.0f} s "
        f"after a {args.ramp:.0f} s ramp (load average {load:.1f} before):"
    )
    print(f"  {'kind':<36} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} ms  failures")
    for name, label in KINDS:
        if name in mixed:
            f = mixed[name]
            print(
                f"  {label:<36} {f.rate:7.1f} {f.p50:6.0f} {f.p95:6.0f} {f.p99:6.0f}"
                f"     {f.failures}/{f.count}"
            )
    overall = mixed.get("Aggregated")
    if overall:
        print(
            f"  p95 of every request at {args.users} users: {overall.p95:.0f} ms (target < 100 ms)"
        )
    launches = burst.get("= launch")
    if launches:
        print(
            f"  launches/s through nginx, {args.clients} users without pause: "
            f"{launches.rate:.1f} (p50 {launches.p50:.0f} ms, p95 {launches.p95:.0f} ms, "
            f"{launches.failures} failed)"
        )
    s = statements
    print(
        f"  statements: {s.written} written to the outbox, {s.delivered} delivered, "
        f"{s.accepted} ids accepted by the LRS ({s.accepted_twice} twice), {s.held} held; "
        f"missing {s.missing}, unknown {s.unknown} (drained in {waited:.1f} s)"
    )
    g = grades
    print(
        f"  grades: {g.evaluations} published, {g.sent} sent, {g.pending} pending; "
        f"{g.scores} scores at the gradebook, {g.learners_scored_twice} learners scored twice, "
        f"{g.sent_not_stored} sent but not stored"
    )
    print(
        f"  nonce: launch at instance 1 → {replayed[0]}; the same id_token at instance "
        f"{instances} → {replayed[1]} {replayed[2]}"
    )


def baseline(args: argparse.Namespace, folder: Path) -> None:
    """Run Jalon and the bare tool side by side, interleaved; print the ratios."""
    url = fresh_database(args.base_database)
    lms = LmsServer(PORTS["base_lms"]).start()
    database = Database(url)
    lms.signer.register(database, token_url=f"{lms.origin}/mod/lti/token.php")
    database.engine.dispose()
    jalon_base, bare_base = (f"http://127.0.0.1:{PORTS[k]}" for k in ("jalon", "bare"))
    # No LRS: statements wait in the outbox (the bare tool sends none).
    env = scale_stack.jalon_env(url, args.redis, jalon_base, folder / "base", args.secret)
    bare_env = {
        **env,
        "BENCH_BARE_ISSUER": lms.signer.issuer,
        "BENCH_BARE_JWK": json.dumps(lms.signer.jwk),
        "BENCH_BARE_URL": bare_base,
        "BENCH_BARE_REDIS": args.redis,
    }
    log = folder / "baseline.log"
    load = os.getloadavg()[0]
    running: list[scale_stack.Process] = []
    try:
        jalon = scale_stack.serve(env, PORTS["jalon"], args.base_workers, args.threads, log)
        running.append(jalon)
        bare = scale_stack.serve_bare(bare_env, PORTS["bare"], args.base_workers, args.threads, log)
        running.append(bare)
        parts = scale_baseline.run(
            (jalon, jalon_base),
            (bare, bare_base),
            lms,
            args.rounds,
            args.clients,
            args.base_seconds,
            env,
            folder,
        )
    finally:
        for process in running:
            process.stop()
        lms.stop()
    print(f"  load average {load:.1f} before the baseline, {os.getloadavg()[0]:.1f} after")
    for line in scale_baseline.report(parts, args.clients, args.base_workers, args.threads):
        print(line)
    scale_baseline.dump(parts, folder / "baseline.json")


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = options.add_argument
    add("--quick", action="store_true", help="20 s of mixed load a configuration, 2 rounds")
    add("--processes", default="1,2,4", help="app processes of each configuration")
    add("--users", type=int, default=50, help="concurrent locust users of the mixed load")
    add("--evaluators", type=int, default=5, help="how many of them are evaluators")
    add("--wait", default="1,3", help="think time between a user's steps, min,max seconds")
    add("--seconds", type=float, default=90, help="mixed load per configuration")
    add("--ramp", type=float, default=10, help="seconds over which the mixed load's users start")
    add("--launch-seconds", type=float, default=30, help="launches without pause, per config")
    add("--clients", type=int, default=8, help="locust users of the loads without pause")
    add("--threads", type=int, default=4, help="gunicorn threads per worker")
    add("--rounds", type=int, default=4, help="interleaved baseline rounds")
    add("--base-seconds", type=float, default=20, help="each part of a baseline round")
    add("--base-workers", type=int, default=2, help="gunicorn workers of the baseline")
    add("--drain", type=float, default=180, help="longest wait for the relays at the end")
    add("--database", default="jalon_scale")
    add("--base-database", default="jalon_scale_base")
    add("--redis", default="redis://127.0.0.1:6379/2", help="a Redis database it may flush")
    add("--only", choices=["scale", "baseline"], default=None)
    add("--keep", action="store_true", help="keep the run's folder (logs, locust CSV files)")
    return options


def main() -> None:
    args = parser().parse_args()
    if args.quick:
        args.seconds, args.launch_seconds, args.rounds, args.base_seconds = 20, 10, 2, 8
    problems = missing()
    if problems and args.only != "baseline":
        raise SystemExit("cannot start the LRS: missing " + "; ".join(problems))
    args.secret = secrets.token_urlsafe(32)
    folder = Path(tempfile.mkdtemp(prefix="jalon-scale-"))
    print(f"run folder: {folder}")
    if args.only != "baseline":
        for processes in (int(n) for n in args.processes.split(",")):
            scale_config(processes, args, folder)
    if args.only != "scale":
        baseline(args, folder)
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
