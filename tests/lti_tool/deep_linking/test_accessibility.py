"""The picker in a real Chromium: reached through the demo's "Ajouter une épreuve", it passes
axe-core (WCAG 2.1 AA) in French and English, and its answer is posted by the static script
under the ``script-src 'self'`` policy, back to the demo course."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.demo import DemoServices, InProcessKeySets, register_demo_platform
from lti_tool.demo.keys import KeyPair
from lti_tool.frameworks import install_bundled
from tests.browser import describe, free_port, serving, violations
from tests.lti_tool.demo.conftest import demo_state

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver


@pytest.fixture
def live_demo(settings: Settings, clean_database: Database, platform_key: KeyPair) -> Iterator[str]:
    """Serve Jalon and the demo on a loopback port, nothing placed yet."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    in_process = InProcessKeySets()
    app = create_app(
        dataclasses.replace(settings, base_url=base),
        database=clean_database,
        demo=DemoServices(key_sets=in_process),
        jwks_fetcher=in_process,
    )
    with clean_database.session() as session:
        install_bundled(session)
        register_demo_platform(session, base)
    with serving(app, port):
        yield base
    demo_state(app).database.engine.dispose()


def _open_picker(chromium: WebDriver, base: str, lang: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    chromium.delete_all_cookies()
    chromium.get(f"{base}/demo/?lang={lang}")
    chromium.find_element(By.ID, "personne-1").click()
    chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.current_url.endswith("/cours/1"))
    add = chromium.find_element(By.CSS_SELECTOR, "form[action$='ajouter-une-epreuve'] button")
    add.click()
    WebDriverWait(chromium, 10).until(lambda d: "/lti/selection" in d.current_url)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_picker_has_no_wcag21_aa_violation(
    chromium: WebDriver, live_demo: str, lang: str
) -> None:
    _open_picker(chromium, live_demo, lang)
    assert chromium.execute_script("return document.documentElement.lang") == lang
    assert chromium.execute_script("return document.querySelector('h1 .status')") is None
    found = violations(chromium, f"the picker ({lang})")
    assert not found, describe(found)


def test_the_answer_is_posted_back_by_the_static_script(
    chromium: WebDriver, live_demo: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    _open_picker(chromium, live_demo, "fr")
    # Keyboard: the E2 form's first box, unticked with the space bar, then its button.
    box = chromium.find_element(By.ID, "competence-E2-C1-6")
    box.send_keys(" ")
    chromium.find_element(By.XPATH, "//button[contains(., 'E2')]").send_keys("\n")
    WebDriverWait(chromium, 10).until(lambda d: "ajout=" in d.current_url)
    assert "« E2 — " in chromium.page_source
    assert "a été ajoutée au cours." in chromium.page_source
