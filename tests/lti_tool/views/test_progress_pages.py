"""The progress pages after a real launch: who sees what, the settings form, FR/EN, a11y."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask import Flask

from lti_tool import csrf
from lti_tool.db import Database
from lti_tool.evaluation.models import CourseSettings, LearnerProgress
from lti_tool.frameworks import bundled_frameworks
from lti_tool.models import LtiContext, LtiResourceLink, LtiUser
from tests.browser import assert_accessible, page_screenshot
from tests.conftest import REPO
from tests.database_rows import every_row
from tests.lti_tool.evaluation import factories
from tests.lti_tool.evaluation.factories import Course, course_of
from tests.lti_tool.lti import conftest as lti
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

# Fixtures of another module: the Moodle and Canvas platforms.
key_server, moodle, canvas, registered = lti.key_server, lti.moodle, lti.canvas, lti.registered
FRAMEWORK = next(f for f in bundled_frameworks() if f.code == factories.FRAMEWORK)


@pytest.fixture
def lms(registered: Flask) -> Browser:
    return Browser(registered.test_client())


def launch(lms: Browser, platform: TestPlatform, role: str = "learner") -> str:
    """Launch as the platform's learner or instructor; return the session token."""
    return landing_token(lms.launch(platform, role))


def ids(database: Database, sub: str) -> tuple[Course, int, int]:
    """Return the Moodle course, the user with this ``sub`` and the E3 link, as launched."""
    with database.session() as session:
        user = session.scalar(sa.select(LtiUser).where(LtiUser.sub == sub))
        context = session.scalar(sa.select(LtiContext).where(LtiContext.context_id == "7"))
        link = session.scalar(
            sa.select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "3")
        )
        assert user is not None
        assert context is not None
        assert link is not None
        return course_of(session, context), user.id, link.id


def evaluate(
    database: Database, where: Course, link: int, learner: int, comment: str, share: float = 1.0
) -> None:
    """Publish one evaluation of E3 for a learner and update their progress."""
    factories.evaluated_e3(
        database,
        FRAMEWORK,
        where,
        link,
        learner,
        comment=comment,
        share=share,
        files=["campagne.pdf"],
    )


@pytest.fixture
def launched(lms: Browser, moodle: TestPlatform, clean_database: Database) -> dict[str, object]:
    """A Moodle learner and instructor launched; the learner has one evaluation."""
    learner_token = launch(lms, moodle)
    staff_token = launch(lms, moodle, "instructor")
    where, learner, link = ids(clean_database, "42")
    evaluate(clean_database, where, link, learner, "Mon commentaire à moi")
    return {"learner": learner_token, "staff": staff_token, "id": learner, "where": where}


def page(lms: Browser, url: str, token: str, status: int = 200, **query: str) -> str:
    response = lms.get(url, query_string={"lt": token, **query})
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_an_empty_progress_page(lms: Browser, moodle: TestPlatform) -> None:
    html = page(lms, "/progression", launch(lms, moodle))
    assert "<h1>Ma progression</h1>" in html
    assert "Aucune évaluation n’a encore été publiée pour vous" in html
    assert "Non évalué" in html


def test_a_learner_sees_their_own_record_only(
    lms: Browser, moodle: TestPlatform, clean_database: Database, launched: dict[str, object]
) -> None:
    where = launched["where"]
    assert isinstance(where, Course)
    with clean_database.session() as session:
        other = factories.person(session, where, "Zoé Autre")
        link = session.scalar(
            sa.select(LtiResourceLink.id).where(LtiResourceLink.context_id == where.context_id)
        )
    assert link is not None
    evaluate(clean_database, where, link, other, "Le commentaire de Zoé", share=0.0)
    html = page(lms, "/progression", str(launched["learner"]))
    assert "Mon commentaire à moi" in html
    assert "campagne.pdf" in html
    assert "Zoé" not in html
    assert "Le commentaire de Zoé" not in html
    # C2.1 is acquired, C2.2 is not acquired; B1 has nothing left but is not evaluated.
    assert re.search(r"<th scope=\"row\">C2\.1 [^<]*</th><td>Acquise</td>", html)
    assert re.search(r"<th scope=\"row\">C2\.2 [^<]*</th><td>Non acquise</td><td>50", html)


def test_a_learner_cannot_reach_staff_pages(
    lms: Browser, registered: Flask, clean_database: Database, launched: dict[str, object]
) -> None:
    token = str(launched["learner"])
    page(lms, f"/classe/apprenants/{launched['id']}", token, 403)
    page(lms, "/cours/reglages", token, 403)
    with registered.test_request_context(f"/progression?lt={token}"):
        registered.preprocess_request()
        form_token = csrf.generate()  # what the learner's own pages carry
    before = every_row(clean_database)
    for url, form in [
        ("/cours/reglages", {"lt": token, "method": "highest"}),
        ("/cours/reglages/assistants", {"lt": token, "teaching_assistants": "non"}),
    ]:
        # With the session's valid form token, the role is what refuses.
        response = lms.post(url, data={**form, "csrf_token": form_token})
        assert response.status_code == 403, url
        assert "LTI_ROLE_FORBIDDEN" in response.get_data(as_text=True)
        # Without it, CSRF refuses first.
        response = lms.post(url, data=form)
        assert response.status_code == 400, url
        assert "Le formulaire a expiré" in response.get_data(as_text=True)
    assert every_row(clean_database) == before


def test_staff_see_a_learner_of_their_course(lms: Browser, launched: dict[str, object]) -> None:
    html = page(lms, f"/classe/apprenants/{launched['id']}", str(launched["staff"]))
    assert "<h1>Progression de Léa Martin</h1>" in html
    assert "Mon commentaire à moi" in html


def test_staff_get_404_for_anyone_outside_their_course(
    lms: Browser,
    moodle: TestPlatform,
    canvas: TestPlatform,
    clean_database: Database,
    launched: dict[str, object],
) -> None:
    launch(lms, canvas)  # a Canvas learner: another platform, another course
    with clean_database.session() as session:
        stranger = session.scalar(
            sa.select(LtiUser.id).where(LtiUser.sub == "535fa085-f685-4df3-8e7d-7a4f1d4a1e2c")
        )
    staff = str(launched["staff"])
    page(lms, f"/classe/apprenants/{stranger}", staff, 404)
    page(lms, "/classe/apprenants/999999", staff, 404)


def test_progression_needs_a_launch(lms: Browser) -> None:
    response = lms.get("/progression")
    assert response.status_code == 401
    assert "LTI_SESSION_EXPIRED" in response.get_data(as_text=True)


def settings_rows(database: Database) -> list[tuple[str, int | None]]:
    with database.session() as session:
        return [(s.method, s.method_parameter) for s in session.scalars(sa.select(CourseSettings))]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"method": "median"}, "Méthode", "n’est pas une méthode connue."),
        ({}, "Méthode", "choisissez une méthode."),
        ({"method": "weighted_average", "weight": "150"}, "Poids", "entre 1 et 99"),
        ({"method": "decaying_average", "weight": "abc"}, "Poids", "pas un nombre entier"),
        ({"method": "n_mastery", "count": "0"}, "Nombre", "entre 1 et 10"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    lms: Browser,
    clean_database: Database,
    launched: dict[str, object],
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    token = str(launched["staff"])
    html = page(lms, "/cours/reglages", token)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf is not None
    response = lms.post("/cours/reglages", data={"lt": token, "csrf_token": csrf[1], **form})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert re.search(rf"<li><a href=\"#champ-\w+\">{field}[^<]*: [^<]*{message}", body), body
    assert settings_rows(clean_database) == []


def test_settings_save_and_recompute(
    lms: Browser, clean_database: Database, launched: dict[str, object]
) -> None:
    token = str(launched["staff"])
    html = page(lms, "/cours/reglages", token)
    assert 'value="latest" aria-describedby="explication-latest" checked' in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf is not None
    # Without the CSRF token, nothing happens.
    refused = lms.post("/cours/reglages", data={"lt": token, "method": "highest"})
    assert refused.status_code == 400
    assert settings_rows(clean_database) == []
    response = lms.post(
        "/cours/reglages",
        data={"lt": token, "csrf_token": csrf[1], "method": "n_mastery", "count": "1"},
    )
    assert response.status_code == 303
    assert settings_rows(clean_database) == [("n_mastery", 1)]
    with clean_database.session() as session:
        c21 = session.scalar(
            sa.select(LearnerProgress).where(
                LearnerProgress.learner_id == launched["id"], LearnerProgress.code == "C2.1"
            )
        )
        assert c21 is not None
        assert c21.status == "acquis"
    shown = lms.get(response.headers["Location"]).get_data(as_text=True)
    assert "progression recalculée pour 1 apprenant" in shown
    assert 'value="n_mastery" aria-describedby="explication-n_mastery" checked' in shown


def test_charts_are_accessible_svg_with_a_table_and_no_inline_style(
    lms: Browser, launched: dict[str, object]
) -> None:
    html = page(lms, "/progression", str(launched["learner"]))
    svgs = re.findall(r"<svg[^>]*>", html)
    assert len(svgs) == 1 + len(FRAMEWORK.blocs)
    for svg in svgs:
        assert 'role="img"' in svg
        assert "aria-labelledby" in svg
    assert html.count("<title id=") == len(svgs)
    assert html.count("<desc id=") == len(svgs)
    # Each chart's figure is followed by its table.
    assert len(re.findall(r"</figure>\s*<table class=\"progress-table\"", html)) == len(svgs)
    assert " style=" not in html
    assert "progress.css" in html


def test_text_is_escaped(
    lms: Browser, clean_database: Database, launched: dict[str, object]
) -> None:
    with clean_database.session() as session:
        user = session.get(LtiUser, launched["id"])
        assert user is not None
        user.name = "<script>alert(1)</script>"
    html = page(lms, f"/classe/apprenants/{launched['id']}", str(launched["staff"]))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _english_catalogue_has(message: str) -> bool:
    path = REPO / "lti_tool" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        entry = read_po(po).get(message)
    return bool(entry and entry.string)


def test_pages_in_english(lms: Browser, launched: dict[str, object]) -> None:
    html = page(lms, "/progression", str(launched["learner"]), lang="en")
    assert '<html lang="en">' in html
    settings = page(lms, "/cours/reglages", str(launched["staff"]), lang="en")
    assert '<html lang="en">' in settings
    if not _english_catalogue_has("Ma progression"):
        pytest.skip("the progress messages are not merged into the English catalogue yet")
    assert "<h1>My progress</h1>" in html
    assert "Ma progression" not in html


# Accessibility ---------------------------------------------------------------------------


def _axe(chromium: WebDriver, url: str, what: str) -> None:
    chromium.get(url)
    assert_accessible(chromium, what)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_progress_pages_pass_axe(
    chromium: WebDriver,
    live_url: str,
    lms: Browser,
    moodle: TestPlatform,
    clean_database: Database,
    lang: str,
) -> None:
    empty = launch(lms, moodle)
    _axe(chromium, f"{live_url}/progression?lt={empty}&lang={lang}", "empty /progression")
    staff = launch(lms, moodle, "instructor")
    where, learner, link = ids(clean_database, "42")
    evaluate(clean_database, where, link, learner, "Très bien")
    _axe(chromium, f"{live_url}/progression?lt={empty}&lang={lang}", "/progression")
    _axe(chromium, f"{live_url}/classe/apprenants/{learner}?lt={staff}&lang={lang}", "staff view")
    _axe(chromium, f"{live_url}/cours/reglages?lt={staff}&lang={lang}", "settings")


def test_settings_errors_pass_axe(
    chromium: WebDriver, live_url: str, lms: Browser, moodle: TestPlatform
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    staff = launch(lms, moodle, "instructor")
    chromium.get(f"{live_url}/cours/reglages?lt={staff}")
    chromium.find_element(By.ID, "methode-weighted_average").click()
    weight = chromium.find_element(By.ID, "champ-weight")
    weight.clear()
    weight.send_keys("150")
    # The chromium's own check would stop 150 here; the server must refuse it too.
    chromium.execute_script("document.querySelector('main form').noValidate = true")
    chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, ".error-summary")
    )
    assert "Rien n’a été enregistré" in chromium.page_source
    assert_accessible(chromium, "settings with errors")


def test_item9_assistants_setting_errors_pass_axe(
    chromium: WebDriver, live_url: str, lms: Browser, moodle: TestPlatform
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    staff = launch(lms, moodle, "instructor")
    chromium.get(f"{live_url}/cours/reglages?lt={staff}")
    assert_accessible(chromium, "settings with the assistants form")
    # No answer at all (a form tampered with): the server names the field.
    chromium.execute_script(
        "document.querySelectorAll('input[name=teaching_assistants]')"
        ".forEach(function (radio) { radio.checked = false; });"
    )
    chromium.find_element(By.CSS_SELECTOR, "form[aria-labelledby=titre-assistants] button").click()
    WebDriverWait(chromium, 10).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, ".error-summary")
    )
    assert "répondez oui ou non" in chromium.page_source
    assert_accessible(chromium, "assistants form with errors")


def test_item12_ma_progression_fits_1280_px_screenshot(
    chromium: WebDriver, live_url: str, launched: dict[str, object], tmp_path: Path
) -> None:
    chromium.get(f"{live_url}/progression?lt={launched['learner']}")
    assert chromium.find_element("css selector", "main h1").text
    page_screenshot(chromium, tmp_path, "progress", at="body")
