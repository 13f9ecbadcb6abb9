"""No ``resource_link.title`` (Open edX): columns and headings use the épreuve's title."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation.models import GradePassback
from lti_tool.frameworks import current_framework, install_bundled
from lti_tool.models import LtiResourceLink
from lti_tool.services.memory import InMemoryGrades
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.conftest import key_server, moodle
from tests.lti_tool.lti.platforms import CLAIM, Browser, TestPlatform, landing_token
from tests.lti_tool.views.test_evaluator import Course, _all_met, _grid, _hand_in, _page, _post

__all__ = ["key_server", "moodle"]
FRAMEWORK = "community-manager-n6"


def _open_edx(claims: dict[str, Any]) -> None:
    """Reshape the launch as Open edX sends it: a link with an id and no title."""
    for name in ("name", "given_name", "family_name", "email", CLAIM + "ext"):
        claims.pop(name, None)
    claims[CLAIM + "launch_presentation"] = {"document_target": "iframe"}
    claims[CLAIM + "resource_link"] = {"id": claims[CLAIM + "resource_link"]["id"]}


@dataclasses.dataclass
class Placed:
    app: Flask
    grades: InMemoryGrades
    course: Course
    heading: str  # "E3 — <the épreuve's title>"


@pytest.fixture
def placed(settings: Settings, clean_database: Database, moodle: TestPlatform) -> Placed:
    grades = InMemoryGrades()
    app = create_app(
        settings, database=clean_database, ags=grades, jwks_fetcher=loopback_key_sets()
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
        moodle.register(session)
        current = current_framework(session, FRAMEWORK)
        assert current is not None
        heading = f"E3 — {current[1].epreuve('E3').title}"
    learner = landing_token(Browser(app.test_client()).launch(moodle, change=_open_edx))
    staff = landing_token(Browser(app.test_client()).launch(moodle, "instructor", change=_open_edx))
    submission = _hand_in(clean_database, "42", "Ma copie", 0)
    course = Course(Browser(app.test_client()), staff, learner, submission, clean_database)
    return Placed(app, grades, course, heading)


def test_item1_gradebook_column_is_named_after_the_epreuve(placed: Placed) -> None:
    with placed.course.database.session() as session:
        assert session.scalars(sa.select(LtiResourceLink.title)).one() is None
    page = _page(placed.course, placed.course.staff).get_data(as_text=True)
    published = _post(
        placed.course,
        placed.course.staff,
        {**_grid(page), **_all_met(page), "action": "publier", "confirm": "1"},
    )
    assert published.status_code == 303, published.get_data(as_text=True)
    with placed.course.database.session() as session:
        assert session.scalars(sa.select(GradePassback.status)).one() == "sent"
    labels = [column.label for column in placed.grades.columns.values()]
    assert labels == [placed.heading]
    assert f"{FRAMEWORK}/E3" not in labels


def test_item1_queue_heading_names_the_epreuve(placed: Placed) -> None:
    page = placed.course.browser.get(f"/evaluation/?lt={placed.course.staff}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    heading = html.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert placed.heading in heading
    assert f"{FRAMEWORK}/E3" not in html
