"""The class matrix lists the class: learners of the LMS roster who never launched too."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from lti_tool.lti.roles import parse
from lti_tool.models import LtiMembership, LtiUser
from lti_tool.people import pseudonym
from lti_tool.services import LmsServiceError, Member, Roster
from lti_tool.services.memory import InMemoryGrades, InMemoryRoster
from tests.browser import page_screenshot
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.conftest import canvas, key_server, moodle, registered
from tests.lti_tool.views.test_matrix_pages import Class, klass

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

__all__ = ["canvas", "key_server", "klass", "moodle", "registered"]
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


class SharedRoster(InMemoryRoster):
    """The LMS roster, filled once the class's people exist (their LTI ids are random)."""


class BrokenRoster:
    """An LMS whose roster service refuses Jalon's token."""

    def members(self, context: Any, role: str | None = None) -> Roster:
        raise LmsServiceError("LMS_UNAUTHORIZED", status=401)


@pytest.fixture
def roster() -> Any:
    return SharedRoster()


@pytest.fixture
def app(settings: Settings, clean_database: Database, roster: Any) -> Flask:
    app = create_app(
        settings,
        database=clean_database,
        nrps=roster,
        ags=InMemoryGrades(),
        jwks_fetcher=loopback_key_sets(),
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
    return app


def _sub(database: Database, user_id: int) -> str:
    with database.session() as session:
        return session.scalars(sa.select(LtiUser.sub).where(LtiUser.id == user_id)).one()


@pytest.fixture
def with_roster(roster: SharedRoster, klass: Class, clean_database: Database) -> Class:
    """The roster: Ana (launched), two who never launched, an inactive one, and staff."""
    with clean_database.session() as session:
        staff = session.scalars(
            sa.select(LtiUser.sub)
            .join(LtiMembership, LtiMembership.user_id == LtiUser.id)
            .where(LtiMembership.context_id == klass.context_id, LtiMembership.is_staff)
        ).all()
    assert staff
    roster.members_list = [
        Member(_sub(clean_database, klass.ana), parse([LIS + "Learner"]), name="Ana Costa"),
        Member("u-jean", parse([LIS + "Learner"]), given_name="Jean", family_name="Roster"),
        Member("u-anonymous", parse([LIS + "Learner"])),
        Member("u-gone", parse([LIS + "Learner"]), status="Inactive", name="Gone Away"),
        Member("u-ta", parse([LIS + "Instructor"]), name="Tina Assistant"),
        # Members Jalon knows as staff of the course, whom the roster also calls learners.
        *(Member(sub, parse([LIS + "Learner"]), name="Paul Durand") for sub in staff),
    ]
    return klass


def _anonymous(app: Flask) -> str:
    with app.test_request_context():
        return pseudonym("u-anonymous")


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [line for line in body.splitlines() if line.startswith("<tr>")]


def test_item5_roster_learners_who_never_launched_appear_with_empty_cells(
    registered: Flask, with_roster: Class
) -> None:
    page = registered.test_client().get(f"/classe/?lt={with_roster.token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = _rows(html)
    # Ana, Léa, the formula-named learner, plus Jean Roster and the nameless roster learner.
    assert len(rows) == 5
    assert "5 apprenant(s) affiché(s) sur 5." in html
    jean = next(row for row in rows if "Jean Roster" in row)
    assert "<a " not in jean  # no record or livret before a first launch
    assert jean.count('class="s-non-evalue"') == 44
    # A roster learner the LMS names not: the pseudonym the queue gives them too.
    assert any(_anonymous(registered) in row for row in rows)
    for absent in ("Gone Away", "Tina Assistant", "Paul Durand"):
        assert absent not in html
    assert "La liste vient du LMS" in html
    # Ana, known to both, is one row with her links.
    assert sum("Ana Costa" in row for row in rows) == 1


def test_item5_the_exports_list_the_roster_too(registered: Flask, with_roster: Class) -> None:
    answer = registered.test_client().get(f"/classe/matrice.csv?lt={with_roster.token}")
    text = answer.get_data(as_text=True).lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    names = [line[0] for line in lines[1:]]
    assert "Jean Roster" in names
    assert _anonymous(registered) in names
    assert len(names) == 5


def test_item5_a_status_filter_keeps_roster_learners_as_not_evaluated(
    registered: Flask, with_roster: Class
) -> None:
    client = registered.test_client()
    html = client.get(f"/classe/?lt={with_roster.token}&statut=non_evalue").get_data(as_text=True)
    assert "Jean Roster" in html
    html = client.get(f"/classe/?lt={with_roster.token}&statut=acquis").get_data(as_text=True)
    assert "Jean Roster" not in html


@pytest.mark.parametrize("roster", [BrokenRoster()])
def test_item5_without_the_roster_the_page_says_why(registered: Flask, klass: Class) -> None:
    html = registered.test_client().get(f"/classe/?lt={klass.token}").get_data(as_text=True)
    assert len(_rows(html)) == 3
    assert "Le LMS ne fournit pas la liste de la classe (LMS_UNAUTHORIZED)" in html


def test_item12_the_matrix_with_its_roster_screenshot(
    chromium: WebDriver, live_url: str, with_roster: Class, tmp_path: Path
) -> None:
    chromium.get(f"{live_url}/classe/?lt={with_roster.token}")
    assert "Jean Roster" in chromium.find_element("css selector", ".matrix").text
    page_screenshot(chromium, tmp_path, "matrix")
