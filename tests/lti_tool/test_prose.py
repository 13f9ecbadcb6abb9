"""Free text as typed: the same paragraphs and line breaks on every page, escaped, stored LF.

A learner hands in "1. Axes / 2. Outils / 3. SWOT" on separate lines through the épreuve
page of a real launch; the evaluator reads it on the copy page and publishes comments of
several lines; the learner's page, their progress page, the livret and the JSON API then
show the same texts with the same breaks.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation.models import Evaluation, Submission, SubmissionVersion
from lti_tool.frameworks import find_record, framework_of, install_bundled
from lti_tool.prose import as_written, one_line_ending
from lti_tool.services.memory import InMemoryGrades, InMemoryRoster
from lti_tool.views.matrix import livret_html
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.conftest import browser, canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token
from tests.lti_tool.views.test_evaluator import _all_met, _grid
from tests.lti_tool.views.test_learner import _page, _post

__all__ = ["browser", "canvas", "key_server", "moodle", "registered"]
TYPED = "1. Axes\r\n2. Outils\r\n3. SWOT\r\n\r\n\r\nConclusion <b>sans gras</b> & co.\r\n"
STORED = "1. Axes\n2. Outils\n3. SWOT\n\n\nConclusion <b>sans gras</b> & co.\n"
SHOWN = (
    "<p>1. Axes<br>2. Outils<br>3. SWOT</p><p>Conclusion &lt;b&gt;sans gras&lt;/b&gt; &amp; co.</p>"
)
COMMENT = "Points forts :\r\n- la démarche\r\n\r\nÀ revoir : <em>les sources</em>"
COMMENT_SHOWN = (
    "<p>Points forts :<br>- la démarche</p><p>À revoir : &lt;em&gt;les sources&lt;/em&gt;</p>"
)


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("une ligne", "<p>une ligne</p>"),
        ("a\nb", "<p>a<br>b</p>"),
        ("a\r\nb\rc", "<p>a<br>b<br>c</p>"),
        ("a\n\nb", "<p>a</p><p>b</p>"),
        ("a\n \t\n\n  b", "<p>a</p><p>  b</p>"),  # a line of blanks parts paragraphs too
        ("\n\n a \n\n", "<p> a </p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("x<br>y", "<p>x&lt;br&gt;y</p>"),
        ("", ""),
        (" \n\t ", ""),
        (None, ""),
    ],
)
def test_as_written_keeps_paragraphs_and_line_breaks_and_escapes_html(
    text: str | None, html: str
) -> None:
    assert as_written(text) == html


def test_one_line_ending() -> None:
    assert one_line_ending("a\r\nb\rc\nd") == "a\nb\nc\nd"


@pytest.fixture
def app(settings: Settings, clean_database: Database) -> Flask:
    """The app with an in-memory gradebook: publishing sends its grade nowhere."""
    app = create_app(
        settings,
        database=clean_database,
        ags=InMemoryGrades(),
        nrps=InMemoryRoster([]),
        jwks_fetcher=loopback_key_sets(),
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
    return app


def _launch(app: Flask, platform: TestPlatform, role: str) -> str:
    return landing_token(Browser(app.test_client()).launch(platform, role))


def test_the_text_and_comments_read_as_typed_on_every_page_and_in_the_api(
    registered: Flask, browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    learner = _launch(registered, moodle, "learner")
    assert _post(browser, learner, "remise", text=TYPED).status_code == 303
    with clean_database.session() as session:
        version = session.scalars(sa.select(SubmissionVersion)).one()
        assert version.text == STORED
        work = session.get(Submission, version.submission_id)
        assert work is not None
        submission_id, context_id, learner_id = work.id, work.context_id, work.learner_id
    assert SHOWN in _page(browser, learner).get_data(as_text=True)

    staff = _launch(registered, moodle, "instructor")
    copy = browser.get(f"/evaluation/copies/{submission_id}?lt={staff}").get_data(as_text=True)
    assert SHOWN in copy
    form: dict[str, Any] = {**_grid(copy), **_all_met(copy), "action": "publier", "confirm": "1"}
    form |= {"commentaire": COMMENT, "commentaire-C2.1": "Ligne 1\r\nLigne 2"}
    published = browser.post(f"/evaluation/copies/{submission_id}?lt={staff}", data=form)
    assert published.status_code == 303, published.get_data(as_text=True)
    with clean_database.session() as session:
        assert session.scalars(sa.select(Evaluation.comment)).one() == one_line_ending(COMMENT)

    # The API gives back the comments as stored: LF line endings, nothing escaped.
    api = browser.get(
        f"/api/v1/contexts/{context_id}/evaluations", headers={"X-Jalon-Launch": staff}
    ).get_json()
    [evaluation] = api["evaluations"]
    assert (
        evaluation["comment"] == "Points forts :\n- la démarche\n\nÀ revoir : <em>les sources</em>"
    )
    decisions = {d["competency"]: d["comment"] for d in evaluation["decisions"]}
    assert decisions["C2.1"] == "Ligne 1\nLigne 2"

    mine = _page(browser, learner).get_data(as_text=True)
    assert SHOWN in mine
    assert COMMENT_SHOWN in mine
    assert "<p>Ligne 1<br>Ligne 2</p>" in mine
    progress = browser.get(f"/progression?lt={learner}").get_data(as_text=True)
    assert COMMENT_SHOWN in progress
    assert "<p>Ligne 1<br>Ligne 2</p>" in progress

    with registered.test_request_context("/?lang=fr"):
        registered.preprocess_request()
        record = find_record(
            registered.extensions["jalon.db"].request_session(), "community-manager-n6"
        )
        assert record is not None
        livret = livret_html(context_id, learner_id, framework_of(record))
    assert SHOWN in livret
    assert COMMENT_SHOWN in livret
    assert "<p>Ligne 1<br>Ligne 2</p>" in livret
