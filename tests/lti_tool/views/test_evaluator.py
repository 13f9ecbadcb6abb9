"""Evaluator pages through real LTI launches: the queue, the grid, drafts, publishing, access."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from lti_tool import create_app, csrf
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation.models import (
    CompetencyDecision,
    Evaluation,
    GradePassback,
    Submission,
    SubmissionStatus,
)
from lti_tool.frameworks import install_bundled
from lti_tool.lti import session as lti_session
from lti_tool.lti.roles import parse
from lti_tool.models import LtiResourceLink, LtiUser
from lti_tool.services import LmsServiceError, Member, Roster
from lti_tool.services.memory import InMemoryGrades, InMemoryRoster
from tests.browser import assert_accessible, serving
from tests.database_rows import every_row
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.evaluation import factories
from tests.lti_tool.lti.conftest import key_server, moodle
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

__all__ = ["key_server", "moodle"]
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
E3 = [f"C2.{n}" for n in range(1, 12)]
PUBLISH = {"action": "publier", "confirm": "1"}  # "Publier", then "Confirmer la publication"


class BrokenRoster:
    """An LMS whose roster service refuses Jalon's token."""

    def members(self, context: Any, role: str | None = None) -> Roster:
        raise LmsServiceError("LMS_UNAUTHORIZED", status=401)


@pytest.fixture
def roster() -> Any:
    return InMemoryRoster(
        [
            Member("42", parse([LIS + "Learner"]), name="Léa Martin"),
            Member("99", parse([LIS + "Learner"]), name="Jean Roster"),
            Member("7", parse([LIS + "Instructor"]), name="Paul Durand"),
        ]
    )


@pytest.fixture
def app(settings: Settings, clean_database: Database, roster: Any, moodle: TestPlatform) -> Flask:
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
        moodle.register(session)
    return app


@dataclasses.dataclass
class Course:
    browser: Browser
    staff: str  # the instructor's session token
    learner_token: str
    submission: int
    database: Database


def _launch(app: Flask, moodle: TestPlatform, role: str, sub: str | None = None) -> str:
    browser = Browser(app.test_client())

    def change(claims: dict[str, Any]) -> None:
        if sub:
            claims["sub"], claims["name"] = sub, "Ana Costa"

    return landing_token(browser.launch(moodle, role, change=change))


def _hand_in(database: Database, sub: str, text: str, minutes: int) -> int:
    """Store a handed-in E3 copy for the learner ``sub`` of the Moodle course."""
    with database.session() as session:
        link = session.scalars(sa.select(LtiResourceLink)).one()
        learner = session.scalars(sa.select(LtiUser).where(LtiUser.sub == sub)).one()
        where = factories.Course(link.platform_id, link.context_id or 0)
        work = factories.submission(session, where, link.id, learner.id, E3, epreuve="E3")
        factories.hand_in(
            session, work, factories.at(minutes), text=text, links=["https://example.org/p"]
        )
        return work.id


@pytest.fixture
def course(app: Flask, moodle: TestPlatform, clean_database: Database) -> Course:
    learner_token = _launch(app, moodle, "learner")
    staff = _launch(app, moodle, "instructor")
    submission = _hand_in(clean_database, "42", "<script>alert(1)</script>\n\nSuite.", 0)
    return Course(Browser(app.test_client()), staff, learner_token, submission, clean_database)


def _grid(page: str) -> dict[str, str]:
    """Return what the grid form would post untouched: hidden fields, checked radios."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    fields.update(re.findall(r'name="(niveau-[^"]+)" value="([^"]+)" checked', page))
    return fields


def _all_met(page: str) -> dict[str, str]:
    names = set(re.findall(r'name="(niveau-[^"]+)"', page))
    return dict.fromkeys(names, "atteint")


def _post(course: Course, token: str, data: dict[str, str]) -> TestResponse:
    url = f"/evaluation/copies/{course.submission}?lt={token}"
    return course.browser.post(url, data=data)


def _page(course: Course, token: str, path: str = "") -> TestResponse:
    return course.browser.get(f"/evaluation/copies/{course.submission}{path}?lt={token}")


def test_the_queue_lists_copies_waiting_then_the_others_then_the_roster(
    course: Course, app: Flask, moodle: TestPlatform
) -> None:
    _launch(app, moodle, "learner", sub="43")
    other = _hand_in(course.database, "43", "Ma copie", 10)
    with course.database.session() as session:
        work = session.get(Submission, other)
        assert work is not None
        staff = session.scalars(sa.select(LtiUser).where(LtiUser.sub == "7")).one()
        factories.publish(session, work.versions[0], staff.id, factories.at(20), {"C2.1": 1.0})
    page = course.browser.get(f"/evaluation/?lt={course.staff}").get_data(as_text=True)
    assert "Copies à évaluer" in page
    awaiting, rest = page.split('id="titre-autres"')
    assert "Évaluer la copie de Léa Martin" in awaiting
    assert "Ana Costa" in rest
    assert "Évaluée" in rest
    missing = page.split('id="titre-non-remis"')[1]
    assert "Jean Roster" in missing
    assert "Léa Martin" not in missing
    assert "D’après la liste des participants de la plateforme." in missing
    assert "Paul Durand" not in missing


@pytest.mark.parametrize("roster", [BrokenRoster()])
def test_without_the_roster_the_queue_says_so_and_lists_who_launched(
    app: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    _launch(app, moodle, "learner")
    staff = _launch(app, moodle, "instructor")
    page = Browser(app.test_client()).get(f"/evaluation/?lt={staff}").get_data(as_text=True)
    missing = page.split('id="titre-non-remis"')[1]
    assert "LMS_UNAUTHORIZED" in missing
    assert "déjà ouvert l’activité" in missing
    assert "Léa Martin" in missing
    assert "Paul Durand" not in missing


def test_the_grid_saves_a_draft_refuses_a_stale_one_and_publishes(course: Course) -> None:
    page = _page(course, course.staff).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert page.count('<fieldset id="competence-') == 11
    assert 'href="https://example.org/p" rel="noopener noreferrer nofollow"' in page
    form = {**_grid(page), **_all_met(page), "action": "brouillon", "niveau-C2.1-1": "non_atteint"}
    assert form["revision"] == "0"
    assert "csrf_token" in form
    saved = _post(course, course.staff, form)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    page = course.browser.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Brouillon enregistré." in page
    assert 'name="niveau-C2.1-1" value="non_atteint" checked' in page
    # The same page posted again is stale: refused, and the draft stays as it was.
    stale = _post(course, course.staff, {**form, "niveau-C2.1-1": "atteint"})
    assert stale.status_code == 409
    assert "rien n’a été écrasé" in stale.get_data(as_text=True)
    page = _page(course, course.staff).get_data(as_text=True)
    assert 'name="niveau-C2.1-1" value="non_atteint" checked' in page
    # Publishing needs every level, and a justification for an override.
    current = _grid(page)
    incomplete = {**current, "action": "publier", "niveau-C2.2-1": ""}
    incomplete.pop("niveau-C2.2-1")
    refused = _post(course, course.staff, {**incomplete, "decision-C2.3": "acquise"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert 'href="#niveau-C2-2-1"' in text
    assert 'href="#justification-C2-3"' in text
    published = _post(
        course,
        course.staff,
        {**current, "action": "publier", "confirm": "1", "commentaire": "Bien."},
    )
    assert published.status_code == 303
    page = course.browser.get(published.headers["Location"]).get_data(as_text=True)
    assert "Évaluation publiée." in page
    assert "Décision publiée" in page
    assert "Critères atteints : 35 sur 36." in page
    # The request tried once right after its commit, and the LMS took the grade.
    assert "Acceptée par la plateforme (35 / 36)" in page
    with course.database.session() as session:
        grade = session.scalars(sa.select(GradePassback)).one()
        assert (grade.status, grade.score_given, grade.comment) == ("sent", 35.0, "Bien.")
        assert session.get(Submission, course.submission).status == SubmissionStatus.EVALUATED  # type: ignore[union-attr]
    # Published is final: posting again is refused.
    again = _post(course, course.staff, {**current, "action": "publier"})
    assert again.status_code == 409
    assert "définitive" in again.get_data(as_text=True)


def test_the_jury_sees_the_published_decisions_and_a_third_is_refused(
    course: Course, app: Flask, moodle: TestPlatform
) -> None:
    page = _page(course, course.staff).get_data(as_text=True)
    done = _post(course, course.staff, {**_grid(page), **_all_met(page), **PUBLISH})
    assert done.status_code == 303
    jury = _launch(app, moodle, "instructor", sub="8")
    page = _page(course, jury).get_data(as_text=True)
    assert "Décisions publiées par l’évaluateur" in page
    assert "en tant que jury" in page
    verdict = {
        **_grid(page),
        **_all_met(page),
        **PUBLISH,
        "decision-C2.1": "non_acquise",
        "justification-C2.1": "Aucune source citée.",
    }
    assert _post(course, jury, verdict).status_code == 303
    with course.database.session() as session:
        settled = {
            (e.role, d.competency_code): d.settlement
            for d, e in session.execute(
                sa.select(CompetencyDecision, Evaluation).join(
                    Evaluation, Evaluation.id == CompetencyDecision.evaluation_id
                )
            ).all()
        }
    assert settled[("evaluator", "C2.1")] == settled[("jury", "C2.1")] == "jury"
    assert settled[("evaluator", "C2.2")] == "agreed"
    third = _launch(app, moodle, "instructor", sub="9")
    refused = _page(course, third)
    assert refused.status_code == 409
    assert "troisième" in refused.get_data(as_text=True)


def _csrf(app: Flask, token: str) -> str:
    """Return a valid CSRF token for the launch a session token names."""
    with app.test_request_context():
        found = lti_session.read(token)
        assert found is not None
        csrf.set_principal(f"lti:{found.launch_id}")
        return csrf.generate()


def test_a_learner_reaches_no_evaluator_url(course: Course, app: Flask) -> None:
    token = course.learner_token
    assert course.browser.get(f"/evaluation/?lt={token}").status_code == 403
    assert _page(course, token).status_code == 403
    form = {"action": "brouillon", "revision": "0", "csrf_token": _csrf(app, token)}
    assert _post(course, token, form).status_code == 403
    with course.database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 0


def test_a_copy_of_another_course_is_not_found(course: Course, app: Flask) -> None:
    with course.database.session() as session:
        where = factories.course(session)
        learner = factories.person(session, where, "Hors cours")
        link = factories.placement(session, where, "E3")
        work = factories.submission(session, where, link, learner, E3, epreuve="E3")
        factories.hand_in(session, work, factories.at(0))
        foreign = work.id
    assert course.browser.get(f"/evaluation/copies/{foreign}?lt={course.staff}").status_code == 404
    posted = course.browser.post(
        f"/evaluation/copies/{foreign}?lt={course.staff}",
        data={"action": "brouillon", "revision": "0", "csrf_token": _csrf(app, course.staff)},
    )
    assert posted.status_code == 404
    with course.database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 0
    assert course.browser.get(f"/evaluation/copies/999999?lt={course.staff}").status_code == 404


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pages_follow_the_language(course: Course, lang: str) -> None:
    for url in (
        f"/evaluation/?lt={course.staff}&lang={lang}",
        f"/evaluation/copies/{course.submission}?lt={course.staff}&lang={lang}",
    ):
        page = course.browser.get(url)
        assert page.status_code == 200
        assert f'<html lang="{lang}">' in page.get_data(as_text=True)


@pytest.fixture
def served(course: Course, app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_queue_and_grid_have_no_wcag21_aa_violation(
    chromium: WebDriver, served: str, course: Course, lang: str
) -> None:
    copy = f"/evaluation/copies/{course.submission}"
    for path in ("/evaluation/", copy):
        chromium.get(f"{served}{path}?lt={course.staff}&lang={lang}")
        assert chromium.execute_script("return document.documentElement.lang") == lang
        assert_accessible(chromium, f"{path}?lang={lang}")


def test_a_copy_is_graded_and_published_with_the_keyboard_alone(
    chromium: WebDriver, served: str, course: Course
) -> None:
    """Tab through the grid, pick a level in every criterion with the keyboard, publish."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    chromium.get(f"{served}/evaluation/copies/{course.submission}?lt={course.staff}")
    groups = set(
        chromium.execute_script(
            "return [...document.querySelectorAll('input[type=radio]')].map(r => r.name)"
        )
    )
    assert len(groups) == 36  # E3: C2.1–C2.11
    chosen: set[str] = set()
    for _ in range(400):  # a radio group is one tab stop: far fewer presses than this
        ActionChains(chromium).send_keys(Keys.TAB).perform()
        focused = chromium.switch_to.active_element
        kind, name = focused.get_attribute("type"), focused.get_attribute("name")
        if kind == "radio" and name not in chosen:
            ActionChains(chromium).send_keys(Keys.SPACE).perform()
            chosen.add(name)
        elif kind == "submit" and focused.get_attribute("value") == "publier":
            assert chosen == groups, "the publish button came before every criterion"
            ActionChains(chromium).send_keys(Keys.ENTER).perform()
            break
    else:
        pytest.fail("the keyboard never reached the publish button")
    # Publishing is final: the next page asks first, and its first button confirms.
    assert chromium.find_element("css selector", "h1").text.startswith("Confirmer la publication")
    for _ in range(40):
        ActionChains(chromium).send_keys(Keys.TAB).perform()
        if chromium.switch_to.active_element.get_attribute("name") == "confirm":
            ActionChains(chromium).send_keys(Keys.ENTER).perform()
            break
    else:
        pytest.fail("the keyboard never reached the confirmation button")
    status = chromium.find_element("css selector", "[role=status]").text
    assert "Évaluation publiée." in status
    with course.database.session() as session:
        evaluation = session.scalars(sa.select(Evaluation)).one()
        assert evaluation.status == "published"
        assert len(evaluation.criteria) == 36


@pytest.mark.parametrize("action", ["brouillon", "publier"])
@pytest.mark.parametrize(
    "blank",
    ["   ", "\t\n  ", "\u00a0\u2003\u3000", "\u200b\u200b", "\ufeff \u2060"],
    ids=["spaces", "tabs-and-newlines", "unicode-spaces", "zero-width-spaces", "invisible-marks"],
)
def test_item13_an_override_justified_with_blanks_only_is_refused(
    course: Course, action: str, blank: str
) -> None:
    page = _page(course, course.staff).get_data(as_text=True)
    before = every_row(course.database)
    posted = {
        **_grid(page),
        **_all_met(page),
        "action": action,
        "decision-C2.1": "non_acquise",
        "justification-C2.1": blank,
    }
    refused = _post(course, course.staff, posted)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert 'href="#justification-C2-1"' in text
    assert "Justifiez la décision qui s’écarte de la règle du référentiel." in text
    assert every_row(course.database) == before
    # A written word is enough.
    posted["justification-C2.1"] = blank + "Sources non citées." + blank
    posted["confirm"] = "1"
    assert _post(course, course.staff, posted).status_code == 303
    with course.database.session() as session:
        decision = session.scalars(
            sa.select(CompetencyDecision).where(CompetencyDecision.competency_code == "C2.1")
        ).one()
        assert decision.justification == "Sources non citées."
