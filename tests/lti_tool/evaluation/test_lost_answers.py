"""Issue 11, item 5: grades that survive a lost answer.

Moodle keeps only a score strictly newer than the one it holds, in whole seconds, and
answers 409 otherwise: a score posted again because its first answer was lost is refused
although Moodle holds it. Jalon then reads the result service and marks the grade sent when
the LMS holds it, else posts it once more with a newer timestamp; a 409 is never a refusal
for good. ``jalon grades send --now`` sends every pending grade at once after an outage.

Against a Moodle-shaped gradebook over HTTP on 127.0.0.1 (tests/lti_tool/evaluation/
moodle_gradebook.py, written from Moodle's gradebookservices), and end to end through the
demo LMS with real launches and the evaluator's page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask

from lti_tool import create_app
from lti_tool.cli.grades import deliver_everything, grades
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.demo.keys import KeyPair
from lti_tool.demo.models import Score as StoredScore
from lti_tool.evaluation import passback
from lti_tool.evaluation.models import GradePassback
from lti_tool.evaluation.passback.conflict import same_score
from lti_tool.models import LtiResourceLink, LtiUser, Platform
from lti_tool.services import LineItem, LmsServiceError, Result, Score, lms_services
from lti_tool.services.context import SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE
from lti_tool.services.memory import InMemoryGrades
from tests.lti_tool.demo.conftest import demo_state, keys, place, platform_key
from tests.lti_tool.demo.harness import INSTRUCTOR, JALON, Browser, WsgiTransport, hidden
from tests.lti_tool.demo.test_evaluation_flow import (
    E1,
    _hand_in,
    _launch,
    _token,
    demo_app,
)
from tests.lti_tool.evaluation import factories
from tests.lti_tool.evaluation.moodle_gradebook import Grade, MoodleGradebook
from tests.lti_tool.evaluation.test_passback import COLUMN, NOW, SCORED_AT, _grade, _row

__all__ = ["keys", "platform_key"]
# What Moodle grants with "Grade synchronization: use this service for grade sync only".
MOODLE_SCOPES = (SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
LOOPBACK_JALON = "http://127.0.0.1:8000"


@pytest.fixture
def moodle() -> Iterator[MoodleGradebook]:
    gradebook = MoodleGradebook().start()
    yield gradebook
    gradebook.stop()


@pytest.fixture
def jalon(settings: Settings, clean_database: Database) -> Flask:
    """Jalon on loopback (as the demo runs), so it may call the gradebook on 127.0.0.1."""
    return create_app(
        dataclasses.replace(settings, base_url=LOOPBACK_JALON), database=clean_database
    )


def _moodle_grade(
    database: Database,
    moodle: MoodleGradebook,
    *,
    scopes: tuple[str, ...] = MOODLE_SCOPES,
    where: factories.Course | None = None,
) -> tuple[GradePassback, str]:
    """A pending grade of 3 / 4 for a placement of the Moodle course; return it and the sub."""
    with database.session() as session:
        row = _grade(session, where=where, scopes=scopes, lineitem_url=moodle.lineitem_url)
        link = session.get(LtiResourceLink, row.resource_link_id)
        assert link is not None
        platform = session.get(Platform, link.platform_id)
        assert platform is not None
        platform.issuer, platform.auth_token_url = moodle.base, f"{moodle.base}/mod/lti/token.php"
        sub = session.get(LtiUser, row.learner_id).sub  # type: ignore[union-attr]
        session.commit()
        session.expunge(row)
    return row, sub


def _deliver(app: Flask, database: Database, now: dt.datetime) -> passback.DeliveryReport:
    with app.app_context():
        return passback.deliver_due(
            database.sessions,
            now,
            lms_services().ags,
            10,
            rng=random.Random(5),  # noqa: S311
        )


def _seconds(moment: dt.datetime) -> int:
    return int(moment.timestamp())


# -- against a Moodle-shaped gradebook, over HTTP -------------------------------------------


def test_item5_a_lost_answer_is_read_back_and_the_grade_marked_sent(
    jalon: Flask, clean_database: Database, moodle: MoodleGradebook
) -> None:
    row, sub = _moodle_grade(clean_database, moodle)
    moodle.lost_answers = 1  # Moodle saves the grade, the answer never comes back whole
    assert _deliver(jalon, clean_database, NOW) == passback.DeliveryReport(retried=1)
    assert _row(clean_database, row.id).last_error == "LMS_UNREACHABLE"
    assert moodle.grades[sub] == Grade(12.0, "Analyse solide", _seconds(SCORED_AT))

    before = len(moodle.calls)
    later = NOW + dt.timedelta(hours=1)
    assert _deliver(jalon, clean_database, later) == passback.DeliveryReport(sent=1, held=1)
    # The resend (same timestamp) is refused, the result read (a token of its own scope):
    # no third post.
    assert moodle.calls[before:] == [
        ("GET", "/mod/lti/services.php/2/lineitems/7/lineitem"),
        ("POST", "/mod/lti/services.php/2/lineitems/7/lineitem/scores"),
        ("POST", "/mod/lti/token.php"),
        ("GET", "/mod/lti/services.php/2/lineitems/7/lineitem/results"),
    ]
    sent = _row(clean_database, row.id)
    assert (sent.status, sent.last_error, sent.sent_at) == ("sent", None, later)
    assert len(moodle.stored) == 1  # Moodle holds exactly one score, the first
    assert moodle.grades[sub] == Grade(12.0, "Analyse solide", _seconds(SCORED_AT))
    with clean_database.session() as session:
        state = passback.status_of(session, row.evaluation_id)
    assert state is not None
    assert state.is_accepted


def test_item5_another_score_held_in_the_same_second_is_replaced_by_a_newer_post(
    jalon: Flask, clean_database: Database, moodle: MoodleGradebook
) -> None:
    row, sub = _moodle_grade(clean_database, moodle)
    # Moodle holds 8 / 16 stamped in the same second (an earlier publication, say).
    moodle.grades[sub] = Grade(8.0, None, _seconds(SCORED_AT))
    assert _deliver(jalon, clean_database, NOW) == passback.DeliveryReport(sent=1)
    assert [call for call in moodle.calls if call[1] != "/mod/lti/token.php"] == [
        ("GET", "/mod/lti/services.php/2/lineitems/7/lineitem"),
        ("POST", "/mod/lti/services.php/2/lineitems/7/lineitem/scores"),
        ("GET", "/mod/lti/services.php/2/lineitems/7/lineitem/results"),
        ("POST", "/mod/lti/services.php/2/lineitems/7/lineitem/scores"),
    ]
    [stored] = moodle.stored
    assert stored["timestamp"] == NOW.isoformat(timespec="milliseconds")  # strictly newer
    assert moodle.grades[sub] == Grade(12.0, "Analyse solide", _seconds(NOW))
    assert _row(clean_database, row.id).status == "sent"


def test_item5_without_the_result_scope_the_score_is_posted_one_second_later(
    jalon: Flask, clean_database: Database, moodle: MoodleGradebook
) -> None:
    row, sub = _moodle_grade(clean_database, moodle, scopes=(SCOPE_SCORE,))
    moodle.lost_answers = 1
    assert _deliver(jalon, clean_database, NOW).retried == 1
    assert _deliver(jalon, clean_database, NOW + dt.timedelta(hours=1)).sent == 1
    assert moodle.count("GET", "/results") == 0  # not allowed to read: never asked
    assert [s["timestamp"] for s in moodle.stored] == [
        SCORED_AT.isoformat(timespec="milliseconds"),
        (SCORED_AT + dt.timedelta(seconds=1)).isoformat(timespec="milliseconds"),
    ]
    assert moodle.grades[sub].finalgrade == 12.0
    assert _row(clean_database, row.id).status == "sent"


def test_item5_a_second_409_leaves_the_grade_pending_never_refused(
    jalon: Flask, clean_database: Database, moodle: MoodleGradebook
) -> None:
    row, sub = _moodle_grade(clean_database, moodle)
    # A grade typed in Moodle's gradebook, stamped later than Jalon's clock says now.
    moodle.grades[sub] = Grade(5.0, None, _seconds(NOW + dt.timedelta(days=1)))
    assert _deliver(jalon, clean_database, NOW) == passback.DeliveryReport(retried=1)
    assert moodle.count("POST", "/scores") == 2  # once as it was, once newer; no more
    kept = _row(clean_database, row.id)
    assert (kept.status, kept.last_error) == ("pending", "LMS_SCORE_OUTDATED")
    assert kept.next_attempt_at > NOW
    assert moodle.grades[sub].finalgrade == 5.0  # the LMS's newer grade stands
    with clean_database.session() as session:
        state = passback.status_of(session, row.evaluation_id)
    assert state is not None
    assert state.reason is not None
    assert state.reason.status == 409


def test_item5_grades_send_now_after_an_outage_sends_every_pending_grade_at_once(
    tmp_path: Path, database_url: str, clean_database: Database, moodle: MoodleGradebook
) -> None:
    with clean_database.session() as session:
        where = factories.course(session)
        session.commit()
    rows = [_moodle_grade(clean_database, moodle, where=where)[0] for _ in range(3)]
    runner = CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_BASE_URL": LOOPBACK_JALON,
            "JALON_SECRET_KEY": "",
        }
    )
    moodle.down = True
    outage = runner.invoke(grades, ["send", "--once"])
    assert outage.output.strip() == "accepted 0, to retry 3, refused 0"
    assert all(_row(clean_database, r.id).next_attempt_at is not None for r in rows)

    still_down = runner.invoke(grades, ["send", "--now"])
    assert still_down.exit_code == 1
    assert still_down.output.strip() == "accepted 0, to retry 3, refused 0"

    moodle.down = False
    # However slow the machine, none is due for an hour: --now must not wait for them.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with clean_database.session() as session:
        session.execute(
            sa.update(GradePassback)
            .where(GradePassback.id.in_([r.id for r in rows]))
            .values(next_attempt_at=later)
        )
        session.commit()
    before = len(moodle.calls)
    back = runner.invoke(grades, ["send", "--now"])
    assert back.exit_code == 0, back.output
    assert back.output.strip() == "accepted 3, to retry 0, refused 0"
    assert all(_row(clean_database, r.id).status == "sent" for r in rows)
    assert len(moodle.stored) == 3
    assert moodle.count("POST", "/token.php") >= 1
    assert moodle.count("POST", "/scores") == 3
    # A token per scope (reading columns, posting scores), then a column read and a post each.
    assert len(moodle.calls) - before == 8


def test_item5_the_held_score_is_compared_as_a_fraction_of_its_maximum() -> None:
    score = Score("7", "Completed", "FullyGraded", 1, 3, timestamp=SCORED_AT)
    column = LineItem(id="https://lms.example.edu/lineitems/7", score_maximum=100)
    same = Result("7", 33.33333, 100, None)  # Moodle: rescaled to 100, five decimals
    other = Result("7", 33.4, 100, None)
    assert same_score(same, score, column)
    assert not same_score(other, score, column)
    assert not same_score(Result("7", None, None, None), score, column)


def test_item5_the_in_memory_gradebook_refuses_like_moodle_and_the_grade_is_held(
    clean_database: Database,
) -> None:
    with clean_database.session() as session:
        row = _grade(session, scopes=MOODLE_SCOPES)
        session.commit()
    ags = InMemoryGrades(strictly_newer=True)
    ags.columns[COLUMN] = LineItem(id=COLUMN, score_maximum=4)
    sessions = clean_database.sessions
    lost = passback.deliver_due(sessions, NOW, _Losing(ags), 10, rng=random.Random(1))  # noqa: S311
    assert lost == passback.DeliveryReport(retried=1)
    later = NOW + dt.timedelta(hours=1)
    assert passback.deliver_due(sessions, later, ags, 10) == passback.DeliveryReport(
        sent=1, held=1
    )
    assert len(ags.scores) == 1
    assert _row(clean_database, row.id).status == "sent"


def test_item5_a_grade_replaced_while_on_its_way_is_not_posted_newer_over_its_replacement(
    clean_database: Database,
) -> None:
    with clean_database.session() as session:
        row = _grade(session, scopes=MOODLE_SCOPES)
        sub = session.get(LtiUser, row.learner_id).sub  # type: ignore[union-attr]
        session.commit()
    newer = Score(sub, "Completed", "FullyGraded", 4, 4, timestamp=SCORED_AT)

    class Replacing(InMemoryGrades):
        """The evaluator republishes (and the LMS takes it) while this grade is posted."""

        def post_score(self, context: Any, line_item: LineItem, score: Score) -> None:
            if not self.scores:
                with clean_database.session() as session:
                    session.get(GradePassback, row.id).status = "superseded"  # type: ignore[union-attr]
                    session.commit()
                super().post_score(context, line_item, newer)
            super().post_score(context, line_item, score)

    ags = Replacing(strictly_newer=True)
    ags.columns[COLUMN] = LineItem(id=COLUMN, score_maximum=4)
    passback.deliver_due(clean_database.sessions, NOW, ags, 10)
    assert [score.score_given for _column, score in ags.scores] == [4]  # the replacement stands
    assert _row(clean_database, row.id).status == "superseded"


class _Losing:
    """An AGS client whose score posts reach the LMS but whose answers are lost."""

    def __init__(self, inner: InMemoryGrades) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def post_score(self, context: Any, line_item: LineItem, score: Score) -> None:
        self.inner.post_score(context, line_item, score)
        raise LmsServiceError("LMS_UNREACHABLE", detail="OUTBOUND_TIMEOUT")


# -- end to end, through the demo LMS ---------------------------------------------------------


@pytest.fixture
def demo(
    settings: Settings, clean_database: Database, platform_key: KeyPair
) -> Iterator[tuple[Flask, WsgiTransport]]:
    """Jalon and the demo LMS in one app; Jalon's AGS calls reach the demo in process."""
    app, transport = demo_app(settings, clean_database)
    yield app, transport
    demo_state(app).database.engine.dispose()


def test_item5_a_grade_whose_answer_was_lost_at_publication_ends_sent_on_the_page(
    demo: tuple[Flask, WsgiTransport],
) -> None:
    app, transport = demo
    e1 = place(app, title="E1 — Étude de cas", custom=E1, score_maximum=16)
    learner, instructor = Browser({"jalon.test": app}), Browser({"jalon.test": app})
    _hand_in(learner, e1, "Ma stratégie éditoriale")

    real = transport.send
    lost: list[str] = []

    def send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = real(request, **kwargs)
        if request.method == "POST" and "/scores" in str(request.url) and not lost:
            lost.append(str(request.url))  # the demo stored it; the answer never arrives
            raise requests.ConnectionError("connection reset after the request was sent")
        return response

    transport.send = send  # type: ignore[method-assign]
    copy_url, summary = _publish_all_met(instructor, e1)
    assert lost
    assert "En attente" in summary
    assert "Refusée" not in summary

    before = len(transport.calls)
    report = deliver_everything(app)  # what `jalon grades send --now` runs
    assert report == passback.DeliveryReport(sent=1, held=1)
    retry = [(m, url.split("/demo/", 1)[1]) for m, url in transport.calls[before:]]
    # The column, the score (409), a token to read results, the result: no second post.
    assert [m for m, _ in retry] == ["GET", "POST", "POST", "GET"]
    assert retry[1][1].endswith("/scores")
    assert retry[2][1] == "token"
    assert "/results" in retry[3][1]
    with demo_state(app).database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(StoredScore)) == 1

    page = instructor.open(copy_url).get_data(as_text=True)
    assert "Note envoyée." in page
    assert "Acceptée par la plateforme (16 / 16)" in page
    assert "Refusée" not in page


def _publish_all_met(browser: Browser, link: int) -> tuple[str, str]:
    """Publish the waiting copy with every criterion met; return its URL and the page."""
    queue = _launch(browser, link, INSTRUCTOR)
    token = _token(queue)
    copies = re.findall(r'href="(/evaluation/copies/\d+)\?', queue.get_data(as_text=True))
    assert copies
    copy_url = f"{JALON}{copies[0]}?lt={token}"
    grid = browser.open(copy_url).get_data(as_text=True)
    levels = dict.fromkeys(set(re.findall(r'name="(niveau-[^"]+)"', grid)), "atteint")
    published = browser.open(
        copy_url, "POST", data={**hidden(grid), **levels, "action": "publier", "confirm": "1"}
    )
    assert published.status_code == 303, published.get_data(as_text=True)
    return copy_url, browser.follow(published).get_data(as_text=True)


