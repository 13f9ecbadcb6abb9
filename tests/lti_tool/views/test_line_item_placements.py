"""Épreuves known from the LMS gradebook's columns, before anyone launches them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation import line_item_placements
from lti_tool.evaluation.models import EpreuvePlacement
from lti_tool.frameworks import find_record, framework_of, install_bundled
from lti_tool.services import LineItem, LmsServiceError
from lti_tool.services.memory import InMemoryGrades
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.conftest import canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

__all__ = ["canvas", "key_server", "moodle", "registered"]
FRAMEWORK = "community-manager-n6"
NO_EPREUVE = "aucune épreuve placée ou ouverte dans ce cours ne l’évalue encore"


def _column(number: int, resource_id: str | None) -> LineItem:
    return LineItem(
        id=f"https://moodle.example.edu/mod/lti/services.php/7/lineitems/{number}/lineitem",
        label=f"Colonne {number}",
        score_maximum=10,
        resource_id=resource_id,
        tag="jalon",
    )


class RefusingGrades(InMemoryGrades):
    """A gradebook that refuses to list its columns."""

    def line_items(self, context: Any, **filters: Any) -> list[LineItem]:
        raise LmsServiceError("LMS_FORBIDDEN", status=403)


@pytest.fixture
def grades() -> InMemoryGrades:
    gradebook = InMemoryGrades()
    for number, resource_id in enumerate(
        [f"{FRAMEWORK}/E2", f"{FRAMEWORK}/E5", f"{FRAMEWORK}/E9", "another-tool/7", None], 1
    ):
        column = _column(number, resource_id)
        gradebook.columns[column.id] = column
    return gradebook


@pytest.fixture
def app(settings: Settings, clean_database: Database, grades: InMemoryGrades) -> Flask:
    app = create_app(
        settings, database=clean_database, ags=grades, jwks_fetcher=loopback_key_sets()
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
    return app


@pytest.fixture(autouse=True)
def fresh_throttle() -> Iterator[None]:
    line_item_placements.recent.forget()
    yield
    line_item_placements.recent.forget()


def _placements(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(
            sa.select(EpreuvePlacement.epreuve_code, EpreuvePlacement.source).order_by(
                EpreuvePlacement.epreuve_code
            )
        )
        return [(code, source) for code, source in rows]


def _remaining(page: str, competency: str) -> str:
    """Return the "what remains" line of one competency on the progress page."""
    start = page.index(f'<li><span class="code">{competency}</span>')
    return page[start : page.index("</li>", start)]


def _first_competency_of(database: Database, epreuve: str) -> str:
    with database.session() as session:
        record = find_record(session, FRAMEWORK)
        assert record is not None
        return framework_of(record).epreuve(epreuve).competencies[0]


def _progress(registered: Flask, moodle: TestPlatform) -> str:
    lms = Browser(registered.test_client())
    token = landing_token(lms.launch(moodle, "learner"))
    answer = lms.get("/progression", query_string={"lt": token})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_item7_columns_naming_epreuves_place_them_before_any_launch(
    registered: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    page = _progress(registered, moodle)
    # E3 is the launched link; E2 and E5 come from the columns; E9 and others are not épreuves.
    assert _placements(clean_database) == [("E2", "line_item"), ("E5", "line_item")]
    # "Ma progression" now names the épreuve evaluating E2's competencies, not "no épreuve".
    assert NO_EPREUVE not in _remaining(page, _first_competency_of(clean_database, "E2"))


def test_item7_columns_are_read_once_in_ten_minutes_and_never_twice_recorded(
    registered: Flask, moodle: TestPlatform, clean_database: Database, grades: InMemoryGrades
) -> None:
    _progress(registered, moodle)
    column = _column(9, f"{FRAMEWORK}/E4")
    grades.columns[column.id] = column
    _progress(registered, moodle)
    assert [code for code, _source in _placements(clean_database)] == ["E2", "E5"]
    line_item_placements.recent.forget()  # ten minutes later
    _progress(registered, moodle)
    assert [code for code, _source in _placements(clean_database)] == ["E2", "E4", "E5"]


@pytest.mark.parametrize("grades", [RefusingGrades()])
def test_item7_a_gradebook_that_refuses_leaves_the_page_as_it_was(
    registered: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    page = _progress(registered, moodle)
    assert _placements(clean_database) == []
    assert NO_EPREUVE in _remaining(page, _first_competency_of(clean_database, "E2"))


def test_item7_a_launch_without_a_line_item_scope_reads_nothing(
    registered: Flask, canvas: TestPlatform, clean_database: Database, grades: InMemoryGrades
) -> None:
    lms = Browser(registered.test_client())

    def without_scopes(body: dict[str, Any]) -> None:
        claim = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
        body[claim] = {**body.get(claim, {}), "scope": []}

    token = landing_token(lms.launch(canvas, "learner", change=without_scopes))
    assert lms.get("/progression", query_string={"lt": token}).status_code == 200
    assert _placements(clean_database) == []
