"""Item 9: the principal role decides who evaluates, through real launches.

Open edX sends its forum Community TAs and Group Moderators — students — the Learner role
with the sub-role ``membership/Instructor#TeachingAssistant``; a student must never grade a
classmate that way. A teaching assistant without the Learner role evaluates while the course
allows it (the default), and not once its instructors say no. Every refusal leaves every
table of the database and the stored files as they were. The launches are Open edX-shaped
(no name, e-mail or locale, a resource link without title) but come through the registered
Moodle-shaped platform, whose course the learner handed in to.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from lti_tool import create_app, csrf
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation import models
from lti_tool.evaluation.storage import MemoryFileStorage
from lti_tool.frameworks import install_bundled
from lti_tool.lti import session as lti_session
from lti_tool.lti.roles import parse
from lti_tool.services import Member
from lti_tool.services.memory import InMemoryGrades, InMemoryRoster
from tests.database_rows import every_row
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.conftest import key_server, moodle
from tests.lti_tool.lti.platforms import CLAIM, LIS, Browser, TestPlatform, landing_token
from tests.lti_tool.test_authorization import ROUTES, STAFF, Ids

__all__ = ["key_server", "moodle"]

LEARNER = LIS + "membership#Learner"
SUB_ROLE_TA = LIS + "membership/Instructor#TeachingAssistant"
FORUM_MODERATOR = [LEARNER, SUB_ROLE_TA]  # what Open edX sends a forum Community TA
TEACHING_ASSISTANT = [SUB_ROLE_TA]
STAFF_ROUTES = [pytest.param(r, id=str(r)) for r in ROUTES if r.kind == STAFF]


@dataclasses.dataclass
class Course:
    app: Flask
    browser: Browser
    database: Database
    storage: MemoryFileStorage
    learner: str  # session tokens
    instructor: str
    ids: Ids


def _open_edx(sub: str, roles: list[str]) -> Callable[[dict[str, Any]], None]:
    """Reshape a launch as Open edX sends it, for a user with these roles."""

    def change(claims: dict[str, Any]) -> None:
        for name in ("name", "given_name", "family_name", "email", CLAIM + "ext"):
            claims.pop(name, None)
        claims["sub"] = sub
        claims[CLAIM + "roles"] = roles
        claims[CLAIM + "launch_presentation"] = {"document_target": "iframe"}
        claims[CLAIM + "resource_link"] = {"id": claims[CLAIM + "resource_link"]["id"]}

    return change


@pytest.fixture
def course(settings: Settings, clean_database: Database, moodle: TestPlatform) -> Course:
    """A course whose learner handed in a text and a file; its instructor is launched."""
    storage = MemoryFileStorage()
    roster = InMemoryRoster(
        [
            Member("42", parse([LEARNER]), name="Léa Martin"),
            Member("f0e1d2c3-forum", parse(FORUM_MODERATOR)),
            Member("a1b2c3d4-assistant", parse(TEACHING_ASSISTANT)),
        ]
    )
    app = create_app(
        settings,
        database=clean_database,
        nrps=roster,
        ags=InMemoryGrades(),
        file_storage=storage,
        jwks_fetcher=loopback_key_sets(),
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
        moodle.register(session)
    browser = Browser(app.test_client())
    learner = landing_token(browser.launch(moodle, "learner"))
    page = browser.get("/epreuve", query_string={"lt": learner}).get_data(as_text=True)
    form = dict(re.findall(r'name="(csrf_token|revision)" value="([^"]*)"', page))
    handed = browser.post(
        "/epreuve/remise",
        query_string={"lt": learner},
        data={**form, "text": "Ma copie", "files": [(io.BytesIO(b"secret"), "preuve.txt")]},
        content_type="multipart/form-data",
    )
    assert handed.status_code == 303, handed.get_data(as_text=True)
    instructor = landing_token(browser.launch(moodle, "instructor"))
    with clean_database.session() as session:
        work = session.scalars(sa.select(models.Submission)).one()
        ids = Ids(work.context_id, work.learner_id, work.id, work.versions[0].files[0].id)
    return Course(app, browser, clean_database, storage, learner, instructor, ids)


def _launch(course: Course, moodle: TestPlatform, sub: str, roles: list[str]) -> TestResponse:
    return course.browser.launch(moodle, "learner", change=_open_edx(sub, roles))


def _snapshot(course: Course) -> dict[str, Any]:
    """Return every row of every table, the xAPI outbox and the stored files."""
    return {**every_row(course.database), "files": dict(course.storage.files)}


def _csrf(course: Course, token: str) -> str:
    """Return a valid CSRF token of the launch a session token names."""
    with course.app.test_request_context():
        found = lti_session.read(token)
        assert found is not None
        csrf.set_principal(f"lti:{found.launch_id}")
        return csrf.generate()


def _request(course: Course, route: Any, token: str) -> TestResponse:
    """Call a route with the session token and, for a POST, a valid form of that session."""
    path = route.path(course.ids)
    if route.method == "GET":
        return course.browser.get(path, query_string={"lt": token})
    data = {
        "lt": token,
        "csrf_token": _csrf(course, token),
        "action": "publier",
        "confirm": "1",
        "commentaire": "Noté par un camarade",
        "method": "highest",
        "teaching_assistants": "oui",
        **{f"niveau-{n}": "atteint" for n in range(40)},
    }
    return course.browser.post(path, data=data)


def _landing(course: Course, launched: TestResponse) -> str:
    """Follow a launch to the page it opens; return that page's path."""
    home = course.browser.get(launched.headers["Location"])
    if home.status_code == 303:
        return str(home.headers["Location"]).split("?", 1)[0]
    assert home.status_code == 200, home.get_data(as_text=True)
    return "/lti/accueil"


def _assistants_setting(course: Course, answer: str) -> TestResponse:
    """Post the instructor's answer through the settings page's own form."""
    page = course.browser.get("/cours/reglages", query_string={"lt": course.instructor})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    start = html.index('action="/cours/reglages/assistants"')
    form = dict(re.findall(r'name="(csrf_token|lt)" value="([^"]*)"', html[start:]))
    return course.browser.post(
        "/cours/reglages/assistants", data={**form, "teaching_assistants": answer}
    )


# -- an Open edX forum moderator is a learner -----------------------------------------------


def test_item9_a_forum_moderator_lands_on_the_learner_page(
    course: Course, moodle: TestPlatform
) -> None:
    launched = _launch(course, moodle, "f0e1d2c3-forum", FORUM_MODERATOR)
    assert _landing(course, launched) == "/epreuve"
    token = landing_token(launched)
    page = course.browser.get("/epreuve", query_string={"lt": token})
    assert page.status_code == 200
    assert "Copies à évaluer" not in page.get_data(as_text=True)  # no evaluator menu


@pytest.mark.parametrize("route", STAFF_ROUTES)
def test_item9_a_forum_moderator_reaches_no_evaluator_route(
    course: Course, moodle: TestPlatform, route: Any
) -> None:
    token = landing_token(_launch(course, moodle, "f0e1d2c3-forum", FORUM_MODERATOR))
    before = _snapshot(course)
    response = _request(course, route, token)
    assert response.status_code == 403, (str(route), response.status_code)
    assert "Ma copie" not in response.get_data(as_text=True)
    assert _snapshot(course) == before


def test_item9_a_forum_moderator_reads_no_classmate_work(
    course: Course, moodle: TestPlatform
) -> None:
    token = landing_token(_launch(course, moodle, "f0e1d2c3-forum", FORUM_MODERATOR))
    before = _snapshot(course)
    download = course.browser.get(
        f"/epreuve/fichiers/{course.ids.file}", query_string={"lt": token}
    )
    assert download.status_code == 404
    api = course.browser.get(
        f"/api/v1/contexts/{course.ids.context}/evaluations",
        query_string={"learner": course.ids.learner},
        headers={lti_session.HEADER: token},
    )
    assert api.status_code == 403
    assert _snapshot(course) == before


# -- a teaching assistant without the Learner role ------------------------------------------


def test_item9_a_teaching_assistant_evaluates_by_default(
    course: Course, moodle: TestPlatform
) -> None:
    launched = _launch(course, moodle, "a1b2c3d4-assistant", TEACHING_ASSISTANT)
    assert _landing(course, launched) == "/evaluation/"
    token = landing_token(launched)
    url = f"/evaluation/copies/{course.ids.submission}"
    page = course.browser.get(url, query_string={"lt": token}).get_data(as_text=True)
    assert "Ma copie" in page
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    fields.update(dict.fromkeys(re.findall(r'name="(niveau-[^"]+)"', page), "atteint"))
    saved = course.browser.post(url, data={**fields, "action": "brouillon"})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    with course.database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.Evaluation)) == 1
    # The file of the copy is theirs to read, and the course's settings are not theirs.
    file = course.browser.get(f"/epreuve/fichiers/{course.ids.file}", query_string={"lt": token})
    assert (file.status_code, file.data) == (200, b"secret")
    assert course.browser.get("/cours/reglages", query_string={"lt": token}).status_code == 403


@pytest.mark.parametrize("route", STAFF_ROUTES)
def test_item9_a_teaching_assistant_is_refused_once_the_course_says_no(
    course: Course, moodle: TestPlatform, route: Any
) -> None:
    token = landing_token(_launch(course, moodle, "a1b2c3d4-assistant", TEACHING_ASSISTANT))
    answered = _assistants_setting(course, "non")
    assert answered.status_code == 303, answered.get_data(as_text=True)
    before = _snapshot(course)
    response = _request(course, route, token)
    assert response.status_code == 403, (str(route), response.status_code)
    assert "Ma copie" not in response.get_data(as_text=True)
    assert _snapshot(course) == before


def test_item9_the_instructor_turns_assistants_off_and_on(
    course: Course, moodle: TestPlatform
) -> None:
    token = landing_token(_launch(course, moodle, "a1b2c3d4-assistant", TEACHING_ASSISTANT))
    assert _assistants_setting(course, "non").status_code == 303
    settings = course.browser.get("/cours/reglages", query_string={"lt": course.instructor})
    assert 'value="non" checked' in settings.get_data(as_text=True)
    home = course.browser.get("/lti/accueil", query_string={"lt": token})
    assert home.status_code == 200  # no longer sent to the copies
    assert "ce cours ne confie pas l’évaluation aux assistants" in home.get_data(as_text=True)
    download = course.browser.get(
        f"/epreuve/fichiers/{course.ids.file}", query_string={"lt": token}
    )
    assert download.status_code == 403
    assert _assistants_setting(course, "oui").status_code == 303
    assert course.browser.get("/evaluation/", query_string={"lt": token}).status_code == 200


@pytest.mark.parametrize("answer", [None, "", "peut-être", "true"])
def test_item9_a_wrong_answer_is_named_and_nothing_is_written(
    course: Course, answer: str | None
) -> None:
    before = _snapshot(course)
    page = course.browser.get("/cours/reglages", query_string={"lt": course.instructor})
    html = page.get_data(as_text=True)
    form = dict(re.findall(r'name="(csrf_token|lt)" value="([^"]*)"', html))
    data = form if answer is None else {**form, "teaching_assistants": answer}
    response = course.browser.post("/cours/reglages/assistants", data=data)
    assert response.status_code == 400
    shown = response.get_data(as_text=True)
    assert "Évaluation par les assistants d’enseignement : répondez oui ou non." in shown
    assert 'id="erreur-teaching_assistants"' in shown
    assert _snapshot(course) == before
