"""Grade delivery to the LMS: sent once, retried with backoff, refused for good with a code."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner
from requests.structures import CaseInsensitiveDict

from lti_tool import create_app
from lti_tool.cli.grades import grades
from lti_tool.config import Settings
from lti_tool.db import Database, db_session
from lti_tool.demo.models import Score as StoredScore
from lti_tool.evaluation import passback
from lti_tool.evaluation.models import GradePassback, PassbackStatus, Submission
from lti_tool.lti import keys as tool_keys
from lti_tool.models import LtiResourceLink, LtiUser
from lti_tool.services import LineItem, LmsContext, LmsServiceError, Score, lms_services
from lti_tool.services.context import SCOPE_LINEITEM, SCOPE_SCORE
from lti_tool.services.memory import InMemoryGrades
from tests.lti_tool.demo.conftest import demo_state
from tests.lti_tool.demo.harness import LEA, Browser
from tests.lti_tool.demo.test_end_to_end import _launch
from tests.lti_tool.evaluation import factories
from tests.lti_tool.services.conftest import Lms, keys, lms, platform_key, stingy_lms

__all__ = ["keys", "lms", "platform_key", "stingy_lms"]
COLUMN = "https://lms.example.edu/courses/1/lineitems/7"
NOW = factories.at(60)
SCORED_AT = factories.at(30)


class FlakyGrades(InMemoryGrades):
    """A gradebook in memory that first answers with the given refusals, one per post."""

    def __init__(self, *refusals: LmsServiceError) -> None:
        super().__init__()
        self.refusals = list(refusals)
        self.columns[COLUMN] = LineItem(id=COLUMN, score_maximum=4)

    def post_score(self, context: LmsContext, line_item: LineItem, score: Score) -> None:
        if self.refusals:
            raise self.refusals.pop(0)
        super().post_score(context, line_item, score)


class DyingGrades(FlakyGrades):
    """The LMS takes the score, then the worker dies before it can mark it."""

    def post_score(self, context: LmsContext, line_item: LineItem, score: Score) -> None:
        super().post_score(context, line_item, score)
        if len(self.scores) == 1:
            raise RuntimeError("the worker died")


def _grade(
    session: Any,
    *,
    where: factories.Course | None = None,
    link_id: int | None = None,
    learner_id: int | None = None,
    scopes: tuple[str, ...] = (SCOPE_LINEITEM, SCOPE_SCORE),
    lineitem_url: str | None = COLUMN,
    scored_at: dt.datetime = SCORED_AT,
    status: PassbackStatus = PassbackStatus.PENDING,
) -> GradePassback:
    """Insert a published evaluation and its pending grade for the LMS."""
    where = where or factories.course(session)
    if link_id is None:
        link_id = factories.placement(session, where, "E1")
        link = session.get(LtiResourceLink, link_id)
        link.lineitem_url, link.ags_scopes = lineitem_url, list(scopes)
    learner_id = learner_id or factories.person(session, where, "Léa")
    evaluator = factories.person(session, where, "Prof", is_staff=True)
    work = session.scalars(
        sa.select(Submission).filter_by(resource_link_id=link_id, learner_id=learner_id)
    ).first() or factories.submission(session, where, link_id, learner_id, ["C1.1"])
    version = factories.hand_in(session, work, factories.at(len(work.versions)))
    evaluation = factories.publish(session, version, evaluator, scored_at, {"C1.1": 1.0})
    row = GradePassback(
        evaluation_id=evaluation.id,
        resource_link_id=link_id,
        learner_id=learner_id,
        score_given=3,
        score_maximum=4,
        comment="Analyse solide",
        scored_at=scored_at,
        status=status,
        next_attempt_at=scored_at,
    )
    session.add(row)
    tool_keys.current(session)
    session.flush()
    return row


def _row(database: Database, row_id: int) -> GradePassback:
    with database.session() as session:
        row = session.get(GradePassback, row_id)
        assert row is not None
        session.expunge(row)
        return row


def _deliver(database: Database, ags: Any, now: dt.datetime = NOW) -> passback.DeliveryReport:
    return passback.deliver_due(database.sessions, now, ags, 10, rng=random.Random(4))  # noqa: S311


# -- in memory ------------------------------------------------------------------------------


def test_a_due_grade_is_posted_once_as_the_learner_with_its_time(clean_database: Database) -> None:
    with clean_database.session() as session:
        row = _grade(session)
        sub = session.get(LtiUser, row.learner_id).sub  # type: ignore[union-attr]
    ags = FlakyGrades()
    assert _deliver(clean_database, ags) == passback.DeliveryReport(sent=1)
    [(column, score)] = ags.scores
    assert column == COLUMN
    assert (score.user_id, score.score_given, score.score_maximum) == (sub, 3, 4)
    assert (score.activity_progress, score.grading_progress) == ("Completed", "FullyGraded")
    assert (score.comment, score.timestamp) == ("Analyse solide", factories.at(30))
    sent = _row(clean_database, row.id)
    assert (sent.status, sent.sent_at, sent.attempts, sent.last_error) == ("sent", NOW, 1, None)
    assert _deliver(clean_database, ags).attempted == 0  # never twice
    with clean_database.session() as session:
        state = passback.status_of(session, row.evaluation_id)
    assert state is not None
    assert state.is_accepted


def test_a_grade_not_yet_due_waits(clean_database: Database) -> None:
    with clean_database.session() as session:
        _grade(session, scored_at=NOW + dt.timedelta(seconds=1))
    assert _deliver(clean_database, FlakyGrades()).attempted == 0


def test_an_unavailable_lms_is_retried_with_backoff_then_takes_the_grade(
    clean_database: Database,
) -> None:
    with clean_database.session() as session:
        row = _grade(session)
    down = LmsServiceError("LMS_UNREACHABLE", status=500)
    ags = FlakyGrades(down, down)
    assert _deliver(clean_database, ags) == passback.DeliveryReport(retried=1)
    first = _row(clean_database, row.id)
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "LMS_UNREACHABLE")
    assert NOW <= first.next_attempt_at <= NOW + dt.timedelta(seconds=passback.BACKOFF_BASE)
    assert _deliver(clean_database, ags).attempted == 0  # not due again yet
    assert _deliver(clean_database, ags, first.next_attempt_at).retried == 1
    second = _row(clean_database, row.id)
    ceiling = first.next_attempt_at + dt.timedelta(seconds=2 * passback.BACKOFF_BASE)
    assert first.next_attempt_at <= second.next_attempt_at <= ceiling
    assert _deliver(clean_database, ags, second.next_attempt_at).sent == 1
    done = _row(clean_database, row.id)
    assert (done.status, done.attempts) == ("sent", 3)
    assert len(ags.scores) == 1


def test_backoff_grows_to_its_cap_with_full_jitter() -> None:
    class Highest(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    waits = [passback.backoff(n, Highest()).total_seconds() for n in (1, 2, 3, 20)]
    assert waits == [30, 60, 120, passback.BACKOFF_CAP]
    spread = {passback.backoff(5, random.Random(seed)) for seed in range(20)}  # noqa: S311
    assert len(spread) == 20  # workers do not come back in step


@pytest.mark.parametrize(
    ("code", "status", "temporary"),
    [
        ("LMS_UNREACHABLE", 503, True),
        ("LMS_UNREACHABLE", None, True),  # timeout, connection refused, token endpoint down
        ("LMS_REQUEST_REFUSED", 429, True),
        ("LMS_REQUEST_REFUSED", 408, True),
        ("LMS_REQUEST_REFUSED", 400, False),
        ("LMS_UNAUTHORIZED", 401, False),
        ("LMS_FORBIDDEN", 403, False),
        ("LMS_SCOPE_REFUSED", 403, False),
        ("LMS_NOT_FOUND", 404, False),
        ("LMS_TOKEN_REFUSED", 400, False),
        ("LMS_SERVICE_NOT_OFFERED", None, False),
        ("LMS_SCORE_OUTDATED", 409, True),  # item 5: settled by reading the result, or later
    ],
)
def test_which_refusals_are_temporary(code: str, status: int | None, temporary: bool) -> None:
    assert passback.is_temporary(LmsServiceError(code, status=status)) is temporary


def test_a_scope_not_granted_fails_for_good_with_its_code(clean_database: Database) -> None:
    with clean_database.session() as session:
        row = _grade(session, scopes=(SCOPE_LINEITEM,))
    assert _deliver(clean_database, FlakyGrades()) == passback.DeliveryReport(failed=1)
    failed = _row(clean_database, row.id)
    assert (failed.status, failed.last_error) == ("failed", "LMS_SCOPE_NOT_GRANTED")
    assert _deliver(clean_database, FlakyGrades(), NOW + dt.timedelta(days=9)).attempted == 0
    with clean_database.session() as session:
        state = passback.status_of(session, row.evaluation_id)
    assert state is not None
    assert not state.is_accepted
    assert state.reason is not None
    assert state.reason.status == 403


def test_a_placement_without_grade_service_fails_with_its_code(clean_database: Database) -> None:
    with clean_database.session() as session:
        row = _grade(session, scopes=(), lineitem_url=None)
    _deliver(clean_database, FlakyGrades())
    assert _row(clean_database, row.id).last_error == "LMS_SERVICE_NOT_OFFERED"


def test_superseded_grades_are_never_sent(clean_database: Database) -> None:
    with clean_database.session() as session:
        _grade(session, status=PassbackStatus.SUPERSEDED)
    ags = FlakyGrades()
    assert _deliver(clean_database, ags).attempted == 0
    assert ags.scores == []


def test_a_grade_superseded_while_on_its_way_stays_superseded(clean_database: Database) -> None:
    with clean_database.session() as session:
        row = _grade(session)

    class Superseding(FlakyGrades):
        def post_score(self, context: LmsContext, line_item: LineItem, score: Score) -> None:
            with clean_database.session() as session:
                session.get(GradePassback, row.id).status = PassbackStatus.SUPERSEDED  # type: ignore[union-attr]
            super().post_score(context, line_item, score)

    _deliver(clean_database, Superseding())
    assert _row(clean_database, row.id).status == "superseded"


def test_a_crash_between_post_and_mark_sends_the_grade_again_once(
    clean_database: Database,
) -> None:
    with clean_database.session() as session:
        row = _grade(session)
    ags = DyingGrades()
    with pytest.raises(RuntimeError):
        _deliver(clean_database, ags)
    held = _row(clean_database, row.id)
    assert held.status == "pending"  # never lost
    assert _deliver(clean_database, ags, NOW + dt.timedelta(minutes=1)).attempted == 0  # leased
    later = NOW + passback.LEASE
    assert _deliver(clean_database, ags, later).sent == 1
    assert [score.timestamp for _c, score in ags.scores] == [factories.at(30)] * 2  # same score
    assert _deliver(clean_database, ags, later + passback.LEASE).attempted == 0


def test_retry_failed_queues_refused_grades_unless_a_newer_one_replaced_them(
    clean_database: Database,
) -> None:
    with clean_database.session() as session:
        lone = _grade(session, status=PassbackStatus.FAILED)
        old = _grade(session, status=PassbackStatus.FAILED)
        newer = _grade(session, link_id=old.resource_link_id, learner_id=old.learner_id)
        assert passback.retry_failed(session, NOW) == 1
    assert (_row(clean_database, lone.id).status, _row(clean_database, lone.id).attempts) == (
        "pending",
        0,
    )
    assert _row(clean_database, old.id).status == "superseded"
    assert _row(clean_database, newer.id).status == "pending"


def test_two_workers_never_post_the_same_grade(clean_database: Database) -> None:
    with clean_database.session() as session:
        where = factories.course(session)
        rows = [_grade(session, where=where) for _ in range(12)]
    posted: list[str] = []
    lock = threading.Lock()

    class Slow(FlakyGrades):
        def post_score(self, context: LmsContext, line_item: LineItem, score: Score) -> None:
            time.sleep(0.01)  # long enough for the other worker to claim meanwhile
            with lock:
                posted.append(score.user_id)
            super().post_score(context, line_item, score)

    start = threading.Barrier(2)
    reports: list[passback.DeliveryReport] = []

    def worker() -> None:
        ags = Slow()
        start.wait()
        for _ in range(6):
            reports.append(passback.deliver_due(clean_database.sessions, NOW, ags, 2))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(posted) == len(set(posted)) == len(rows)
    assert sum(r.sent for r in reports) == 12
    assert all(_row(clean_database, r.id).status == "sent" for r in rows)


def test_the_publishing_request_sends_once_its_transaction_commits(
    settings: Settings, clean_database: Database
) -> None:
    ags = FlakyGrades()
    app = create_app(settings, database=clean_database, ags=ags)
    with clean_database.session() as session:
        row = _grade(session)
    with app.test_request_context():
        session = db_session()
        passback.send_after_commit(session, row.evaluation_id)
        assert ags.scores == []  # nothing before the commit
        session.commit()
        assert len(ags.scores) == 1
        with clean_database.session() as reading:
            state = passback.status_of(reading, row.evaluation_id)
    assert state is not None
    assert state.is_accepted


def test_an_immediate_attempt_that_fails_leaves_the_grade_to_the_background(
    settings: Settings, clean_database: Database
) -> None:
    ags = FlakyGrades(LmsServiceError("LMS_UNREACHABLE"))
    app = create_app(settings, database=clean_database, ags=ags)
    with clean_database.session() as session:
        row = _grade(session, scored_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    with app.test_request_context():
        passback.send_after_commit(db_session(), row.evaluation_id)
        db_session().commit()
    state = _row(clean_database, row.id)
    assert (state.status, state.last_error) == ("pending", "LMS_UNREACHABLE")


def test_a_rolled_back_publication_sends_nothing(
    settings: Settings, clean_database: Database
) -> None:
    ags = FlakyGrades()
    app = create_app(settings, database=clean_database, ags=ags)
    with clean_database.session() as session:
        row = _grade(session)
    with app.test_request_context():
        passback.send_after_commit(db_session(), row.evaluation_id)
        db_session().rollback()
    assert ags.scores == []


# -- the command ----------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, database_url: str, clean_database: Database) -> dict[str, str]:
    return {
        "JALON_DATABASE_URL": database_url,
        "JALON_INSTANCE_PATH": str(tmp_path),
        "JALON_BASE_URL": "https://jalon.test",
        "JALON_SECRET_KEY": "",
    }


def test_the_grades_command_sends_shows_and_retries(
    env: dict[str, str], clean_database: Database
) -> None:
    with clean_database.session() as session:
        # No AGS endpoint at all: refused before any network call.
        row = _grade(session, scopes=(), lineitem_url=None, scored_at=factories.at(-1))
    runner = CliRunner(env=env)
    sent = runner.invoke(grades, ["send", "--once"])
    assert sent.exit_code == 0, sent.output
    assert sent.output.strip() == "accepted 0, to retry 0, refused 1"
    status = runner.invoke(grades, ["status"])
    assert status.exit_code == 0, status.output
    assert status.output.splitlines() == [
        "pending\t0",
        "sent\t0",
        "failed\t1",
        "superseded\t0",
        f"refused\tgrade {row.id} (evaluation {row.evaluation_id})\tLMS_SERVICE_NOT_OFFERED",
    ]
    again = runner.invoke(grades, ["retry-failed"])
    assert again.output.strip() == "1 refused grades queued again"
    assert _row(clean_database, row.id).status == "pending"


# -- over HTTP, against the demo LMS's AGS ---------------------------------------------------


@pytest.fixture
def launched(lms: Lms) -> GradePassback:
    """Léa launched placement 1 (its services recorded); her grade waits for the LMS."""
    return _launched_grade(lms)


def _launched_grade(lms: Lms) -> GradePassback:
    _launch(Browser({"jalon.test": lms.app}), 1, LEA)
    with lms.database.session() as session:
        link = session.scalars(
            sa.select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "1")
        ).one()
        learner = session.scalars(sa.select(LtiUser).where(LtiUser.sub == str(LEA))).one()
        assert link.context_id is not None
        where = factories.Course(link.platform_id, link.context_id)
        row = _grade(session, where=where, link_id=link.id, learner_id=learner.id)
        session.expunge(row)
        return row


def _http_deliver(lms: Lms, now: dt.datetime = NOW) -> passback.DeliveryReport:
    with lms.app.app_context():
        return _deliver(lms.database, lms_services().ags, now)


@pytest.fixture
def answers(lms: Lms) -> list[Any]:
    """What the platform answers to the next score posts (a status, or an exception)."""
    queued: list[Any] = []
    real = lms.transport.send

    def send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if queued and request.method == "POST" and "/scores" in str(request.url):
            answer = queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            response = requests.Response()
            response.status_code, response.url, response.request = answer, request.url, request
            response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
            response._content = b'{"error": "refused"}'
            return response
        return real(request, **kwargs)

    lms.transport.send = send  # type: ignore[method-assign]
    return queued


def test_the_demo_gradebook_takes_the_grade(lms: Lms, launched: GradePassback) -> None:
    assert _http_deliver(lms).sent == 1
    with demo_state(lms.app).database.session() as session:
        stored = session.scalars(sa.select(StoredScore)).one()
        assert (stored.user_id, stored.score_given, stored.score_maximum) == (LEA, 3, 4)
        assert (stored.comment, stored.timestamp) == ("Analyse solide", factories.at(30))
    assert _row(lms.database, launched.id).status == "sent"


def test_a_500_then_a_timeout_then_the_grade_goes_through(
    lms: Lms, launched: GradePassback, answers: list[Any]
) -> None:
    answers += [500, requests.ReadTimeout("slow")]
    assert _http_deliver(lms).retried == 1
    assert _row(lms.database, launched.id).last_error == "LMS_UNREACHABLE"
    assert _http_deliver(lms, NOW + dt.timedelta(hours=1)).retried == 1
    assert _http_deliver(lms, NOW + dt.timedelta(hours=2)).sent == 1
    done = _row(lms.database, launched.id)
    assert (done.status, done.attempts) == ("sent", 3)
    with demo_state(lms.app).database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(StoredScore)) == 1


@pytest.mark.parametrize(
    ("refusals", "code"), [([401, 401], "LMS_UNAUTHORIZED"), ([403], "LMS_FORBIDDEN")]
)
def test_a_refusal_by_the_platform_fails_with_its_code(
    lms: Lms, launched: GradePassback, answers: list[Any], refusals: list[int], code: str
) -> None:
    answers += refusals
    assert _http_deliver(lms).failed == 1
    failed = _row(lms.database, launched.id)
    assert (failed.status, failed.last_error) == ("failed", code)


def test_a_platform_without_the_score_scope_fails_the_grade(stingy_lms: Lms) -> None:
    row = _launched_grade(stingy_lms)
    assert _http_deliver(stingy_lms).failed == 1
    assert _row(stingy_lms.database, row.id).last_error == "LMS_SCOPE_NOT_GRANTED"


def test_the_publishing_request_posts_over_http_with_short_timeouts(
    lms: Lms, launched: GradePassback
) -> None:
    timeouts: list[Any] = []
    real = lms.transport.send

    def send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        timeouts.append(kwargs.get("timeout"))
        return real(request, **kwargs)

    lms.transport.send = send  # type: ignore[method-assign]
    with lms.app.test_request_context():
        passback.send_after_commit(db_session(), launched.evaluation_id)
        db_session().commit()
    assert _row(lms.database, launched.id).status == "sent"
    assert passback.NOW_TIMEOUT in timeouts


def test_a_400_to_the_score_posted_again_newer_is_final(clean_database: Database) -> None:
    """A 400 may mean "not newer" (Open edX): one newer post, and a second 400 fails it."""
    with clean_database.session() as session:
        row = _grade(session)
    refused = LmsServiceError("LMS_REQUEST_REFUSED", status=400)
    ags = FlakyGrades(refused, refused)
    assert _deliver(clean_database, ags) == passback.DeliveryReport(failed=1)
    failed = _row(clean_database, row.id)
    assert (failed.status, failed.last_error) == ("failed", "LMS_REQUEST_REFUSED")
    assert ags.refusals == []  # posted twice: as published, then once newer
    assert ags.scores == []
