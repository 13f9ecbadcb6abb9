"""Class matrix benchmark: 1,000 learners × 44 competencies, 5 published evaluations each.

Builds two courses in one database: a class of 1,000 learners and one of 100. Each learner
handed in one version for each of the 5 épreuves and got one published evaluation of it
(a decision per competency: 44 in all, acquired or not at random, seeded). The rows are
inserted in bulk (Core ``executemany``), then ``progress.update`` runs for every learner,
as publishing would have, so ``learner_progress`` is what the app would hold.

Then, through the Flask test client with a staff LTI session (a stored launch and its
signed token, as a launch leaves them), it prints:

- the median time of ``GET /classe/`` (the whole request: session token, framework
  look-up, the two matrix queries, the template) for 1,000 learners;
- the SQL statements that request runs, for 100 and for 1,000 learners (must be equal);
- the median time of the CSV and XLSX exports of the 1,000-learner class.

``--database-url`` (or ``JALON_BENCH_DATABASE_URL``) picks the database; the default is a
temporary SQLite file. The database is emptied (downgraded and migrated) first: never
point it at a database you care about. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lti_tool import create_app, migrations  # noqa: E402
from lti_tool.config import Settings  # noqa: E402
from lti_tool.db import Database  # noqa: E402
from lti_tool.evaluation import progress  # noqa: E402
from lti_tool.evaluation.matrix import MatrixFilters, class_matrix  # noqa: E402
from lti_tool.evaluation.models import (  # noqa: E402
    CompetencyDecision,
    Evaluation,
    LearnerProgress,
    Submission,
    SubmissionVersion,
)
from lti_tool.frameworks import find_record, framework_of, install_bundled  # noqa: E402
from lti_tool.lti import services  # noqa: E402
from lti_tool.lti import session as lti_session  # noqa: E402
from lti_tool.lti.launch import CLAIM, LAUNCH_TTL, launch_key  # noqa: E402
from lti_tool.models import (  # noqa: E402
    LtiContext,
    LtiMembership,
    LtiResourceLink,
    LtiUser,
    Platform,
    PlatformStatus,
)
from referentiel.model import Framework  # noqa: E402

FRAMEWORK = "community-manager-n6"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ISSUER = "https://moodle.bench.example"


def _ids(connection: sa.Connection, table: sa.Table) -> int:
    """Return the next free id of a table (rows get explicit ids for bulk inserts)."""
    return int(connection.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)))) + 1


def seed_class(
    database: Database, framework: Framework, platform_id: int, size: int, rng: random.Random
) -> tuple[int, int, int]:
    """Insert a course of ``size`` learners with 5 evaluations each; return its ids.

    Returns (context id, staff user id, resource link id of épreuve E1).
    """
    tables = {
        model: model.__table__
        for model in (
            LtiContext,
            LtiUser,
            LtiMembership,
            LtiResourceLink,
            Submission,
            SubmissionVersion,
            Evaluation,
            CompetencyDecision,
        )
    }
    with database.engine.begin() as connection:
        context_id = _ids(connection, tables[LtiContext])
        connection.execute(
            sa.insert(tables[LtiContext]),
            [
                {
                    "id": context_id,
                    "platform_id": platform_id,
                    "context_id": f"course-{size}",
                    "title": f"Promotion de {size}",
                }
            ],
        )
        link = _ids(connection, tables[LtiResourceLink])
        links = {epreuve.code: link + n for n, epreuve in enumerate(framework.epreuves)}
        connection.execute(
            sa.insert(tables[LtiResourceLink]),
            [
                {
                    "id": links[e.code],
                    "platform_id": platform_id,
                    "context_id": context_id,
                    "resource_link_id": f"link-{size}-{e.code}",
                    "title": e.title,
                    "custom": {"framework": FRAMEWORK, "epreuve": e.code},
                    "ags_scopes": [],
                }
                for e in framework.epreuves
            ],
        )
        user = _ids(connection, tables[LtiUser])
        staff, learners = user, list(range(user + 1, user + 1 + size))
        connection.execute(
            sa.insert(tables[LtiUser]),
            [
                {
                    "id": staff,
                    "platform_id": platform_id,
                    "sub": f"staff-{size}",
                    "name": "Paul Durand",
                }
            ]
            + [
                {
                    "id": i,
                    "platform_id": platform_id,
                    "sub": f"learner-{size}-{i}",
                    "name": f"Apprenant {n:04d}",
                    "given_name": "Apprenant",
                    "family_name": f"{n:04d}",
                }
                for n, i in enumerate(learners)
            ],
        )
        membership = _ids(connection, tables[LtiMembership])
        connection.execute(
            sa.insert(tables[LtiMembership]),
            [
                {
                    "id": membership,
                    "context_id": context_id,
                    "user_id": staff,
                    "roles": [INSTRUCTOR],
                    "is_staff": True,
                }
            ]
            + [
                {
                    "id": membership + 1 + n,
                    "context_id": context_id,
                    "user_id": i,
                    "roles": [LEARNER],
                    "is_staff": False,
                }
                for n, i in enumerate(learners)
            ],
        )
        submissions, versions, evaluations, decisions = [], [], [], []
        next_id = _ids(connection, tables[Submission])
        for learner in learners:
            for epreuve in framework.epreuves:
                row_id = next_id
                next_id += 1
                when = T0 + dt.timedelta(minutes=row_id % 997)
                submissions.append(
                    {
                        "id": row_id,
                        "context_id": context_id,
                        "resource_link_id": links[epreuve.code],
                        "learner_id": learner,
                        "deployment_id": "1",
                        "framework_code": FRAMEWORK,
                        "framework_version": framework.identity.version,
                        "epreuve_code": epreuve.code,
                        "competency_codes": list(epreuve.competencies),
                        "status": "evaluated",
                        "submitted_at": when,
                    }
                )
                versions.append(
                    {
                        "id": row_id,
                        "submission_id": row_id,
                        "number": 1,
                        "text": "…",
                        "links": [],
                        "is_draft": False,
                        "submitted_at": when,
                    }
                )
                evaluations.append(
                    {
                        "id": row_id,
                        "submission_id": row_id,
                        "version_id": row_id,
                        "evaluator_id": staff,
                        "role": "evaluator",
                        "status": "published",
                        "comment": "",
                        "published_at": when + dt.timedelta(days=1),
                        "score_given": 1.0,
                        "score_maximum": 1.0,
                    }
                )
                for code in epreuve.competencies:
                    acquired = rng.random() < 0.6
                    decisions.append(
                        {
                            "evaluation_id": row_id,
                            "competency_code": code,
                            "comment": "",
                            "score": 1.0 if acquired else 0.5,
                            "is_rule_acquired": acquired,
                            "override": None,
                            "justification": None,
                            "is_acquired": acquired,
                            "settlement": "single",
                        }
                    )
        for model, rows in (
            (Submission, submissions),
            (SubmissionVersion, versions),
            (Evaluation, evaluations),
            (CompetencyDecision, decisions),
        ):
            connection.execute(sa.insert(tables[model]), rows)
    with database.session() as session:
        method = progress.course_method(session, context_id)
        for learner in learners:
            progress.update(session, framework, context_id, learner, T0, method)
    return context_id, staff, links[framework.epreuves[0].code]


def staff_token(app: Any, platform_id: int, context_id: int, staff: int, link: int) -> str:
    """Store a staff launch as a real launch would, and return its session token."""
    claims = {
        "iss": ISSUER,
        "sub": f"staff-{context_id}",
        CLAIM + "deployment_id": "1",
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "roles": [INSTRUCTOR],
        CLAIM + "context": {"id": f"course-{context_id}", "title": "Promotion"},
        CLAIM + "custom": {"framework": FRAMEWORK, "epreuve": "E1"},
        CLAIM + "launch_presentation": {"locale": "fr"},
    }
    jalon = {
        "platform_id": platform_id,
        "client_id": "bench",
        "context_id": context_id,
        "user_id": staff,
        "resource_link_id": link,
    }
    launch_id = secrets.token_urlsafe(12)
    with app.test_request_context("/"):
        services().store().set(launch_key(launch_id), lti_session.record(claims, jalon), LAUNCH_TTL)
        token = lti_session.issue(launch_id)
        app.extensions["jalon.db"].request_session().commit()
    return token


def timings(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Return the median wall and CPU times of ``call`` in ms, after one warm-up.

    On a busy machine the wall time includes waiting for a core; the process's CPU time
    (which includes the SQLite engine, in process, but not a PostgreSQL server) does not.
    """
    call()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def median_ms(call: Callable[[], Any], runs: int) -> str:
    """Return the median wall and CPU times of ``call``, as text."""
    wall, cpu = timings(call, runs)
    return f"median {wall:.1f} ms wall, {cpu:.1f} ms CPU"


def raw_read(database: Database, context_id: int) -> Callable[[], Any]:
    """Return a call that reads every progress row of a course with the bare DB-API cursor.

    The baseline: the data a per-competency matrix would show, fetched and nothing else
    (no ORM, no Flask, no rendering).
    """
    table = LearnerProgress.__table__
    query = str(
        sa.select(table.c.learner_id, table.c.kind, table.c.code, table.c.status)
        .where(table.c.context_id == sa.bindparam("context"))
        .compile(database.engine)
    )
    is_pg = database.engine.dialect.name == "postgresql"
    parameters: Any = {"context": context_id} if is_pg else (context_id,)

    def call() -> None:
        connection = database.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(query, parameters)
            cursor.fetchall()
            cursor.close()
        finally:
            connection.close()

    return call


def count_queries(database: Database, call: Callable[[], Any]) -> int:
    """Return the number of SQL statements ``call`` runs."""
    statements = []

    def count(*_args: Any) -> None:
        statements.append(1)

    sa.event.listen(database.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", count)
    return len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("JALON_BENCH_DATABASE_URL"))
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="jalon-bench-matrix-"))
    url = args.database_url or f"sqlite:///{workdir / 'jalon.db'}"
    migrations.downgrade(url, "base")
    migrations.upgrade(url)
    database = Database(url)
    settings = Settings(
        secret_key="bench-secret-key-0123456789",
        database_url=url,
        base_url="https://jalon.bench",
        instance_path=workdir,
    )
    app = create_app(settings, database=database)
    with database.session() as session:
        install_bundled(session)
        record = find_record(session, FRAMEWORK)
        assert record is not None
        framework = framework_of(record)
        platform = Platform(
            status=PlatformStatus.ACTIVE,
            issuer=ISSUER,
            client_id="bench",
            name="Moodle (bench)",
            auth_login_url=f"{ISSUER}/auth",
            auth_token_url=f"{ISSUER}/token",
            key_set_url=f"{ISSUER}/certs",
        )
        session.add(platform)
        session.flush()
        platform_id = platform.id
    rng = random.Random(4)
    print(f"database: {database.engine.dialect.name}")
    start = time.perf_counter()
    classes = {}
    for size in (100, args.learners):
        context_id, staff, link = seed_class(database, framework, platform_id, size, rng)
        classes[size] = staff_token(app, platform_id, context_id, staff, link)
    print(
        f"seeded {100 + args.learners} learners × 44 competencies × 5 evaluations "
        f"(bulk rows + progress.update each) in {time.perf_counter() - start:.1f} s"
    )
    client = app.test_client()

    def get(path: str, size: int) -> Callable[[], Any]:
        def call() -> None:
            response = client.get(f"{path}?lt={classes[size]}")
            assert response.status_code == 200, response.status_code
            response.get_data()

        return call

    large = args.learners
    page = client.get(f"/classe/?lt={classes[large]}").get_data()
    with database.session() as session:
        context_id = session.scalar(
            sa.select(LtiContext.id).where(LtiContext.context_id == f"course-{large}")
        )
    # Alternate the page and the baseline so that both see the same machine load.
    page_times, raw_times = [], []
    for _ in range(3):
        page_times.append(timings(get("/classe/", large), args.runs))
        raw_times.append(timings(raw_read(database, context_id), args.runs))
    page_wall = statistics.median(t[0] for t in page_times)
    raw_wall = statistics.median(t[0] for t in raw_times)
    print(
        f"GET /classe/ ({large} learners, {len(page) / 1e6:.2f} MB of HTML): "
        f"median {page_wall:.1f} ms wall (CPU {statistics.median(t[1] for t in page_times):.1f})"
    )
    print(
        f"  baseline, every progress row of the class read with the bare DB-API cursor: "
        f"median {raw_wall:.1f} ms wall; ratio page / baseline {page_wall / raw_wall:.2f}"
    )
    with database.session() as session:
        domain = median_ms(
            lambda: class_matrix(session, context_id, framework, MatrixFilters()), args.runs
        )
    print(f"  of which class_matrix() alone (2 queries + rows): {domain}")
    for size in (100, large):
        queries = count_queries(database, get("/classe/", size))
        print(f"SQL statements for GET /classe/ with {size} learners: {queries}")
    for name in ("matrice.csv", "matrice.xlsx"):
        ms = median_ms(get(f"/classe/{name}", large), max(3, args.runs // 3))
        print(f"GET /classe/{name} ({large} learners): {ms}")
    database.engine.dispose()


if __name__ == "__main__":
    main()
