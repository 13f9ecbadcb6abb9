"""The credential pages pass axe-core (WCAG 2.1 AA) in a real Chromium, in French and English."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.certification import issuance
from lti_tool.certification.models import IssuedCredential
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.models import LtiUser
from tests.browser import assert_accessible
from tests.lti_tool.certification.issue_support import NOW
from tests.lti_tool.certification.test_issue_pages import issue_session, stored
from tests.lti_tool.lti import conftest as lti
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

key_server, moodle, canvas, registered = lti.key_server, lti.moodle, lti.canvas, lti.registered
LANGS = ["fr", "en"]


@pytest.mark.parametrize("lang", LANGS)
def test_public_pages_pass_axe(
    chromium: WebDriver,
    live_url: str,
    app: Flask,
    clean_database: Database,
    settings: Settings,
    lang: str,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    valid, revoked = issue_session(clean_database, settings, learners=1)[:2]
    with clean_database.session() as db:
        found = db.scalar(sa.select(IssuedCredential).where(IssuedCredential.public_id == revoked))
        assert found is not None
        issuance.revoke(db, found, reason="Fraude constatée", now=NOW)
    for public in (valid, revoked):
        chromium.get(f"{live_url}/verifier/{public}?lang={lang}")
        assert chromium.execute_script("return document.documentElement.lang") == lang
        assert_accessible(chromium, f"/verifier/{public} ?lang={lang}")
    chromium.get(f"{live_url}/verifier?lang={lang}")
    assert_accessible(chromium, f"/verifier ?lang={lang}")
    # A tampered credential pasted in the form: the result page, each check and its reason.
    tampered: dict[str, Any] = json.loads(stored(clean_database, valid).document)
    tampered["name"] = "Autre titre"
    box = chromium.find_element(By.ID, "champ-document")
    chromium.execute_script("arguments[0].value = arguments[1]", box, json.dumps(tampered))
    chromium.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".verdict-ko"))
    assert "the signature does not match the document" in chromium.page_source
    assert_accessible(chromium, f"tampered result ?lang={lang}")
    # Nothing given: the error summary names the field.
    chromium.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"))
    assert_accessible(chromium, f"verify form errors ?lang={lang}")
    chromium.get(f"{live_url}/verifier/00000000-0000-4000-8000-000000000000?lang={lang}")
    assert_accessible(chromium, f"unknown credential ?lang={lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_my_certifications_and_the_email_form_pass_axe(
    chromium: WebDriver,
    live_url: str,
    registered: Flask,
    moodle: TestPlatform,
    clean_database: Database,
    settings: Settings,
    lang: str,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    lms = Browser(registered.test_client())
    token = landing_token(lms.launch(moodle))
    with clean_database.session() as db:
        me = db.scalar(sa.select(LtiUser.id).where(LtiUser.sub == "42"))
    assert me is not None
    issue_session(clean_database, settings, learner_ids=(me,))
    chromium.get(f"{live_url}/progression?lt={token}&lang={lang}")
    assert chromium.find_elements(By.ID, "certifications")
    assert_accessible(chromium, f"/progression with Mes certifications ?lang={lang}")
    box = chromium.find_element(By.ID, "champ-badge_email")
    box.clear()
    box.send_keys("pas une adresse")
    chromium.execute_script("arguments[0].form.noValidate = true", box)
    box.submit()
    WebDriverWait(chromium, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"))
    assert_accessible(chromium, f"badge e-mail form with errors ?lang={lang}")
