"""The certification session the jury's statements name resolves, like every Jalon IRI."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from flask.testing import FlaskClient

from lti_tool.certification.models import SessionStatus
from lti_tool.certification.statements import record_decisions
from lti_tool.config import Settings
from lti_tool.db import Database
from tests.browser import assert_accessible
from tests.conftest import BASE_URL
from tests.lti_tool.certification.xapi_rows import NAME, signed_session
from xapi.outbox import outbox

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

JSON = {"Accept": "application/json"}


def _session_activity(clean_database: Database, settings: Settings) -> tuple[int, dict[str, Any]]:
    with clean_database.session() as db:
        jury = signed_session(db)
        record_decisions(db, jury.session, [jury.b2], {}, settings)
        (body,) = db.scalars(outbox.select().with_only_columns(outbox.c.body))
        return jury.session.id, json.loads(body)["context"]["contextActivities"]["grouping"][0]


def test_the_session_iri_answers_with_the_activity_the_statements_carry(
    client: FlaskClient, clean_database: Database, settings: Settings
) -> None:
    session_id, activity = _session_activity(clean_database, settings)
    path = activity["id"].removeprefix(BASE_URL)
    assert path == f"/xapi/activities/certification-sessions/{session_id}"
    answer = client.get(path, headers=JSON)
    assert answer.status_code == 200
    assert answer.json == activity
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Session de certification du 2026-06-30" in text
    # The session's title, place and jury are typed by people: never on this public page.
    for personal in (NAME, "Lyon", "Durand"):
        assert personal not in text
    english = client.get(f"{path}?lang=en", headers={"Accept": "text/html"})
    assert "Certification session of 2026-06-30" in english.get_data(as_text=True)


def test_an_open_or_unknown_session_is_not_found(
    client: FlaskClient, clean_database: Database
) -> None:
    with clean_database.session() as db:
        jury = signed_session(db)
        jury.session.status = SessionStatus.OPEN
        session_id = jury.session.id
    for path in (session_id, session_id + 1, "x"):
        answer = client.get(f"/xapi/activities/certification-sessions/{path}", headers=JSON)
        assert answer.status_code == 404


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_session_page_has_no_wcag21_aa_violation(
    chromium: WebDriver,
    clean_database: Database,
    settings: Settings,
    live_url: str,
    lang: str,
) -> None:
    session_id, _activity = _session_activity(clean_database, settings)
    chromium.get(f"{live_url}/xapi/activities/certification-sessions/{session_id}?lang={lang}")
    assert chromium.execute_script("return document.documentElement.lang") == lang
    heading = chromium.execute_script("return document.querySelector('main h1').textContent")
    assert "2026-06-30" in heading
    assert_accessible(chromium, f"certification session ?lang={lang}")
