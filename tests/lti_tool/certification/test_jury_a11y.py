"""The jury's pages pass axe-core (WCAG 2.1 AA) in a real Chromium, in French and English."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from lti_tool import create_app
from lti_tool.certification.decisions import decide
from lti_tool.certification.models import CertificationSession
from lti_tool.certification.sessions import add_candidates_from_course
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from lti_tool.models import LtiContext
from tests.browser import assert_accessible, headless_chromium, serving
from tests.lti_tool.certification.jury_rows import open_session, promotion

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)
PORT = 9117  # in this worktree's range of ports


@pytest.fixture
def admin_app(settings: Settings, clean_database: Database) -> Flask:
    return create_app(dataclasses.replace(settings, admin_token=TOKEN), database=clean_database)


@pytest.fixture
def urls(clean_database: Database) -> dict[str, str]:
    """Build a session with two candidates, one decision taken; return the pages' paths."""
    with clean_database.session() as db:
        install_bundled(db)
        promo = promotion(db)
        session: CertificationSession = open_session(db)
        context = db.get(LtiContext, promo.course.context_id)
        assert context is not None
        ana, _bruno = add_candidates_from_course(db, session, context)
        decide(db, ana, scope="bloc", code="B2", is_validated=True, reasons="", decided_by="CM")
        root = f"/admin/certification/sessions/{session.id}"
        return {
            "list": "/admin/certification/",
            "session": root,
            "candidate": f"{root}/candidats/{ana.id}",
            "sign": f"{root}/signer",
        }


@pytest.fixture
def live(admin_app: Flask) -> Iterator[str]:
    with serving(admin_app, PORT) as url:
        yield url


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        yield driver


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_jury_pages_pass_axe_core(
    chromium: WebDriver, live: str, urls: dict[str, str], lang: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    chromium.get(f"{live}/admin/connexion?next={urls['list']}&lang={lang}")
    chromium.find_element(By.ID, "token").send_keys(TOKEN)
    chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.current_url.endswith(urls["list"]))
    for name in ("list", "session", "candidate", "sign"):
        chromium.get(f"{live}{urls[name]}?lang={lang}")
        assert chromium.execute_script("return document.documentElement.lang") == lang
        assert_accessible(chromium, f"{urls[name]}?lang={lang}")
    # A refused decision: the page again, the problem next to its field.
    chromium.get(f"{live}{urls['candidate']}?lang={lang}")
    chromium.find_element(By.ID, "B1-is_validated-non").click()
    chromium.find_element(By.ID, "B1-reasons").submit()
    WebDriverWait(chromium, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"))
    assert chromium.find_element(By.ID, "B1-reasons").get_attribute("aria-invalid") == "true"
    assert_accessible(chromium, f"refused decision ({lang})")
