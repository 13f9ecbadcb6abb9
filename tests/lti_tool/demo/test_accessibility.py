"""The demo LMS's pages pass axe-core (WCAG 2.1 AA) in a real Chromium, in French and English.

The pages need someone chosen, placed épreuves and received scores, so the browser first
chooses who it is through the home page's form, as a visitor does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from flask import render_template

from lti_tool import create_app, csrf
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.demo import DemoServices, InProcessKeySets, register_demo_platform
from lti_tool.demo.keys import KeyPair
from lti_tool.demo.models import Score
from lti_tool.frameworks import install_bundled
from tests.browser import describe, free_port, serving, violations
from tests.lti_tool.demo.conftest import demo_state, place

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

LANGS = ["fr", "en"]
# (who is chosen, path): the pages a visitor of the demo sees.
PAGES = [
    (None, "/demo/"),
    (2, "/demo/cours/1"),
    (1, "/demo/cours/1"),
    (1, "/demo/cours/1/notes"),
    (2, "/demo/cours/1/activites/2"),
    (None, "/essai/formulaire-lti"),
]


@pytest.fixture
def live_demo(settings: Settings, clean_database: Database, platform_key: KeyPair) -> Iterator[str]:
    """Serve Jalon and the demo, with two épreuves placed and one score received."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    in_process = InProcessKeySets()
    jalon_demo = create_app(
        dataclasses.replace(settings, base_url=base),
        database=clean_database,
        demo=DemoServices(key_sets=in_process),
        jwks_fetcher=in_process,
    )
    with clean_database.session() as session:
        install_bundled(session)
        register_demo_platform(session, base)
    place(jalon_demo, title="E1 — Étude de cas", target="window")
    place(jalon_demo, title="E3 — Projet", target="iframe")
    with demo_state(jalon_demo).database.session() as session:
        session.add(
            Score(
                line_item_id=1,
                user_id=2,
                score_given=14,
                score_maximum=20,
                comment="Bonne analyse",
                activity_progress="Completed",
                grading_progress="FullyGraded",
                timestamp=dt.datetime.now(dt.UTC),
            )
        )

    @jalon_demo.get("/essai/formulaire-lti")
    def _autopost() -> str:
        # The page /demo/auth answers; it posts to a 204 so the browser stays on it.
        return render_template(
            "demo/autopost.html", action="/essai/204", fields={"id_token": "x", "state": "y"}
        )

    @jalon_demo.post("/essai/204")
    @csrf.exempt
    def _no_content() -> tuple[str, int]:
        return "", 204

    with serving(jalon_demo, port):
        yield base
    demo_state(jalon_demo).database.engine.dispose()


def _choose(chromium: WebDriver, url: str, user: int | None, lang: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    chromium.delete_all_cookies()
    chromium.get(f"{url}/demo/?lang={lang}")
    if user is not None:
        chromium.find_element(By.ID, f"personne-{user}").click()
        chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(chromium, 10).until(lambda driver: driver.current_url.endswith("/cours/1"))


@pytest.mark.parametrize("lang", LANGS)
def test_demo_pages_have_no_wcag21_aa_violation(
    chromium: WebDriver, live_demo: str, lang: str
) -> None:
    failures: list[str] = []
    for user, path in PAGES:
        _choose(chromium, live_demo, user, lang)
        chromium.get(f"{live_demo}{path}")
        assert chromium.execute_script("return document.documentElement.lang") == lang
        # The page asked for, not an error page (those show their status in the heading).
        heading = chromium.execute_script("return document.querySelector('h1').textContent")
        error = chromium.execute_script("return document.querySelector('h1 .status')")
        assert error is None, f"{path} as {user}: {heading}"
        found = violations(chromium, path)
        if found:
            failures.append(f"{path} as {user}: {describe(found)}")
    assert not failures, "\n".join(failures)


def test_choosing_and_launching_work_with_the_keyboard(chromium: WebDriver, live_demo: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    chromium.delete_all_cookies()
    chromium.get(f"{live_demo}/demo/?lang=fr")
    actions = ActionChains(chromium)
    # Skip link, brand, languages, then the radio group: arrow down to Léa, Enter submits.
    for _ in range(5):
        actions.send_keys(Keys.TAB)
    actions.send_keys(Keys.ARROW_DOWN).send_keys(Keys.ENTER).perform()
    WebDriverWait(chromium, 10).until(lambda driver: driver.current_url.endswith("/demo/cours/1"))
    assert "Vous êtes Léa Moreau." in chromium.page_source
