"""Publishing benchmark: what publishing a 44-criterion evaluation costs, next to bare SQL.

In process, on SQLite (a temporary file) and, when a URL is given, on PostgreSQL: each
round gives a fresh learner a handed-in copy of a placement whose competencies total 44
criteria (E3's eleven, then E4's first until 44), opens the evaluation, then times
``grading.publish`` and the commit: decisions, settlement, progress rows, the xAPI
statements in the outbox and the pending grade. The AGS call happens after the commit,
elsewhere, and is not counted. Reported: the median, the SQL statements one publication
sends, and the share of the time spent building xAPI statements.

The baseline writes the same rows (criteria, decisions, evaluation and submission
updates, progress rows, outbox statements of the same size, the grade) with hand-written
SQL in one transaction: the ratio is what the domain code costs over the bare writes.

Prints figures; asserts nothing. ``python bench/evaluate.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lti_tool import create_app, migrations  # noqa: E402
from lti_tool.config import Settings  # noqa: E402
from lti_tool.db import Database  # noqa: E402
from lti_tool.evaluation import grading  # noqa: E402
from lti_tool.evaluation import statements as evaluation_statements  # noqa: E402
from lti_tool.evaluation.grid import load_grid  # noqa: E402
from lti_tool.evaluation.models import Submission, SubmissionStatus, SubmissionVersion  # noqa: E402
from lti_tool.frameworks import find_record, framework_of, install_bundled  # noqa: E402
from lti_tool.models import LtiContext, LtiResourceLink, LtiUser, Platform, PlatformStatus  # noqa: E402
from referentiel.model import Competency, Framework  # noqa: E402
from xapi import outbox  # noqa: E402

FRAMEWORK = "community-manager-n6"
BASE_URL = "https://jalon.bench"
CRITERIA = 44


def competencies_for(framework: Framework, total: int) -> list[Competency]:
    """Return E3's competencies, then E4's, until their criteria add up to ``total``."""
    chosen: list[Competency] = []
    for epreuve in ("E3", "E4"):
        for code in framework.epreuve(epreuve).competencies:
            competency = framework.competency(code)
            if sum(len(c.criteria) for c in chosen) + len(competency.criteria) <= total:
                chosen.append(competency)
    return chosen


class Counter:
    """Count the SQL statements an engine sends (an executemany counts once)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


class Stopwatch:
    """Time spent inside one function, summed."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


@contextmanager
def xapi_timed(watch: Stopwatch) -> Iterator[None]:
    """Time the statement builder the evaluation statements call."""
    original = evaluation_statements.build  # type: ignore[attr-defined]
    evaluation_statements.build = watch.wrap(original)
    try:
        yield
    finally:
        evaluation_statements.build = original


def setup_course(database: Database, competencies: list[Competency]) -> dict[str, int]:
    """Insert a platform, a course, an evaluator and a placement; return their ids."""
    suffix = uuid.uuid4().hex[:8]
    with database.session() as session:
        platform = Platform(
            status=PlatformStatus.ACTIVE,
            issuer=f"https://lms-{suffix}.bench.example",
            client_id=f"bench-{suffix}",
            name="Bench LMS",
            auth_login_url="https://lms.bench.example/auth",
            auth_token_url="https://lms.bench.example/token",
            key_set_url="https://lms.bench.example/jwks",
        )
        session.add(platform)
        session.flush()
        context = LtiContext(
            issuer=platform.issuer, deployment_id="1", context_id=f"ctx-{suffix}", title="Bench"
        )
        evaluator = LtiUser(issuer=platform.issuer, sub=f"evaluator-{suffix}", name="Évaluateur")
        session.add_all([context, evaluator])
        session.flush()
        link = LtiResourceLink(
            platform_id=platform.id,
            context_id=context.id,
            resource_link_id=f"link-{suffix}",
            title="E3 + E4",
            custom={
                "framework": FRAMEWORK,
                "epreuve": "E3",
                "competencies": ",".join(c.code for c in competencies),
            },
        )
        session.add(link)
        session.flush()
        return {
            "platform": platform.id,
            "context": context.id,
            "evaluator": evaluator.id,
            "link": link.id,
        }


def new_copy(database: Database, ids: dict[str, int], codes: list[str], now: dt.datetime) -> int:
    """Insert a fresh learner's handed-in copy and open its evaluation; return the copy id."""
    with database.session() as session:
        issuer = session.get(LtiContext, ids["context"]).issuer  # type: ignore[union-attr]
        learner = LtiUser(issuer=issuer, sub=uuid.uuid4().hex, name="Apprenant")
        session.add(learner)
        session.flush()
        work = Submission(
            context_id=ids["context"],
            resource_link_id=ids["link"],
            learner_id=learner.id,
            deployment_id="1",
            framework_code=FRAMEWORK,
            framework_version="1.0",
            epreuve_code="E3",
            competency_codes=codes,
            status=SubmissionStatus.SUBMITTED,
            submitted_at=now,
        )
        work.versions.append(
            SubmissionVersion(number=1, text="Copie", is_draft=False, submitted_at=now)
        )
        session.add(work)
        session.flush()
        grading.open_evaluation(session, work, ids["evaluator"], now, create=True)
        return work.id


def form_for(competencies: list[Competency]) -> dict[str, str]:
    """Return a posted grid: every criterion met but one per competency of two."""
    form = {"revision": "0", "action": "publier", "commentaire": "Travail solide."}
    for index, competency in enumerate(competencies):
        for criterion in competency.criteria:
            form[f"niveau-{criterion.code}"] = "atteint"
        if index % 2:
            form[f"niveau-{competency.criteria[0].code}"] = "non_atteint"
        form[f"commentaire-{competency.code}"] = f"Sur {competency.code} : précis et sourcé."
    return form


def publish_round(
    app: Any,
    database: Database,
    ids: dict[str, int],
    competencies: list[Competency],
    framework: Framework,
    counter: Counter,
) -> tuple[float, int, float, float, list[str]]:
    """Publish one copy; return seconds, statements, xAPI seconds, parse seconds, bodies."""
    now = dt.datetime.now(dt.UTC)
    copy_id = new_copy(database, ids, [c.code for c in competencies], now)
    watch = Stopwatch()
    with app.test_request_context(), xapi_timed(watch):
        start = time.perf_counter()
        grid = load_grid(form_for(competencies), framework, competencies)
        parsed = time.perf_counter() - start
        before = counter.count
        start = time.perf_counter()
        with database.sessions() as session:
            work = session.get(Submission, copy_id)
            assert work is not None
            opening = grading.open_evaluation(session, work, ids["evaluator"], now, create=False)
            published = grading.publish(session, opening, grid, framework, BASE_URL, now, "fr")
            session.commit()
        seconds = time.perf_counter() - start
        sent = counter.count - before
    with database.engine.connect() as connection:
        bodies = list(
            connection.execute(
                sa.select(outbox.outbox.c.body)
                .order_by(outbox.outbox.c.id.desc())
                .limit(published.statements)
            ).scalars()
        )
    return seconds, sent, watch.seconds, parsed, bodies


def baseline_round(
    database: Database,
    ids: dict[str, int],
    competencies: list[Competency],
    bodies: list[str],
    framework: Framework,
) -> float:
    """Write the same rows with hand-written SQL in one transaction; return seconds."""
    now = dt.datetime.now(dt.UTC)
    copy_id = new_copy(database, ids, [c.code for c in competencies], now)
    with database.engine.connect() as connection:
        evaluation_id, learner_id = connection.execute(
            sa.text(
                "SELECT e.id, s.learner_id FROM evaluations e JOIN submissions s "
                "ON s.id = e.submission_id WHERE s.id = :id"
            ),
            {"id": copy_id},
        ).one()
    criteria = [
        {"e": evaluation_id, "c": cr.code, "k": c.code, "l": "atteint", "m": True}
        for c in competencies
        for cr in c.criteria
    ]
    decisions = [
        {"e": evaluation_id, "k": c.code, "t": "Commentaire", "s": 1.0, "r": True, "a": True}
        for c in competencies
    ]
    rows = [("competency", c.code) for c in competencies] + [
        ("bloc", b.code) for b in framework.blocs
    ]
    rows.append(("certification", framework.code))
    progress = [
        {
            "x": ids["context"],
            "u": learner_id,
            "f": framework.code,
            "k": kind,
            "c": code,
            "st": "en_cours",
            "t": now,
        }
        for kind, code in rows
    ]
    statements = [{"i": str(uuid.uuid4()), "b": body, "t": now} for body in bodies]
    start = time.perf_counter()
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE evaluations SET status='published', published_at=:t, revision=revision+1,"
                " score_given=:g, score_maximum=:m, comment=:c WHERE id=:e AND revision=0"
            ),
            {"t": now, "g": 38.0, "m": 44.0, "c": "Travail solide.", "e": evaluation_id},
        )
        connection.execute(
            sa.text(
                "INSERT INTO evaluation_criteria (evaluation_id, criterion_code, competency_code,"
                " level, is_met) VALUES (:e, :c, :k, :l, :m)"
            ),
            criteria,
        )
        connection.execute(
            sa.text(
                "INSERT INTO evaluation_competencies (evaluation_id, competency_code, comment,"
                " score, is_rule_acquired, is_acquired, settlement)"
                " VALUES (:e, :k, :t, :s, :r, :a, 'single')"
            ),
            decisions,
        )
        connection.execute(
            sa.text("UPDATE submissions SET status='evaluated', revision=revision+1 WHERE id=:s"),
            {"s": copy_id},
        )
        connection.execute(
            sa.text(
                "INSERT INTO learner_progress (context_id, learner_id, framework_code, kind, code,"
                " status, attempts, updated_at) VALUES (:x, :u, :f, :k, :c, :st, 1, :t)"
            ),
            progress,
        )
        connection.execute(
            sa.text(
                "INSERT INTO xapi_outbox (statement_id, body, status, attempts, created_at,"
                " next_attempt_at) VALUES (:i, :b, 'pending', 0, :t, :t)"
            ),
            statements,
        )
        connection.execute(
            sa.text(
                "UPDATE grade_passbacks SET status='superseded' WHERE learner_id=:u"
                " AND resource_link_id=:l AND status='pending'"
            ),
            {"u": learner_id, "l": ids["link"]},
        )
        connection.execute(
            sa.text(
                "INSERT INTO grade_passbacks (evaluation_id, resource_link_id, learner_id,"
                " score_given, score_maximum, comment, activity_progress, grading_progress,"
                " scored_at, status, attempts, next_attempt_at, created_at) VALUES (:e, :l, :u,"
                " 38, 44, 'Travail solide.', 'Completed', 'FullyGraded', :t, 'pending', 0, :t, :t)"
            ),
            {"e": evaluation_id, "l": ids["link"], "u": learner_id, "t": now},
        )
    return time.perf_counter() - start


def run(url: str, label: str, rounds: int, warmup: int) -> None:
    """Migrate, set up a course, publish ``rounds`` copies and print the figures."""
    migrations.upgrade(url)
    database = Database(url)
    app = create_app(
        Settings(secret_key="bench-secret-0123456789", database_url=url, base_url=BASE_URL),
        database=database,
    )
    with database.session() as session:
        install_bundled(session)
        record = find_record(session, FRAMEWORK)
        assert record is not None
        framework = framework_of(record)
    competencies = competencies_for(framework, CRITERIA)
    criteria = sum(len(c.criteria) for c in competencies)
    ids = setup_course(database, competencies)
    counter = Counter(database.engine)
    times, xapi, parse, counts = [], [], [], []
    bodies: list[str] = []
    for index in range(warmup + rounds):
        seconds, sent, built, parsed, bodies = publish_round(
            app, database, ids, competencies, framework, counter
        )
        if index >= warmup:
            times.append(seconds)
            xapi.append(built)
            parse.append(parsed)
            counts.append(sent)
    base = []
    for index in range(warmup + rounds):
        seconds = baseline_round(database, ids, competencies, bodies, framework)
        if index >= warmup:
            base.append(seconds)
    median = statistics.median(times)
    baseline = statistics.median(base)
    print(
        f"{label}: publish {len(competencies)} competencies / {criteria} criteria, "
        f"{len(bodies)} statements, {rounds} rounds"
    )
    print(f"  publish + commit   median {median * 1000:7.2f} ms   (target <= 50 ms)")
    print(f"  SQL statements     {statistics.median(counts):.0f} per publication")
    print(
        f"  xAPI build         median {statistics.median(xapi) * 1000:7.2f} ms "
        f"({statistics.median(x / t for x, t in zip(xapi, times, strict=True)) * 100:.0f} %)"
    )
    print(f"  grid parse (edge)  median {statistics.median(parse) * 1000:7.2f} ms (not counted)")
    print(f"  bare SQL baseline  median {baseline * 1000:7.2f} ms   ratio {median / baseline:.1f}x")
    database.engine.dispose()


def main() -> None:
    """Parse the options and run on SQLite, then on PostgreSQL when a URL is given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("JALON_BENCH_DATABASE_URL"),
        help="a PostgreSQL URL (default: $JALON_BENCH_DATABASE_URL); SQLite always runs",
    )
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        run(f"sqlite:///{directory}/bench.db", "SQLite", options.rounds, options.warmup)
    if options.database_url:
        run(options.database_url, "PostgreSQL", options.rounds, options.warmup)
    else:
        print("PostgreSQL: skipped (give --database-url or JALON_BENCH_DATABASE_URL)")


if __name__ == "__main__":
    main()
