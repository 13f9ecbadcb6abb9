"""The registration pages in a real Chromium: WCAG 2.1 AA (axe-core), and the close message.

The browser, the live server and the axe-core check come from tests/browser.py (same skip
rule: without Chromium, chromedriver or axe-core the module skips naming what is missing,
and fails under CI). The fake platform serves an LMS page that frames ``/lti/register``,
as Moodle and Canvas do, and records the messages the frame posts to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from tests.browser import assert_accessible
from tests.lti_tool.registration.conftest import ADMIN_TOKEN, loopback_http, stored
from tests.lti_tool.registration.fake_platform import FakePlatform

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

LANGS = ["fr", "en"]


@pytest.fixture
def app(settings: Settings, clean_database: Database) -> Flask:
    """The app served to the browser, with the admin pages open to ADMIN_TOKEN."""
    return create_app(
        dataclasses.replace(settings, admin_token=ADMIN_TOKEN),
        database=clean_database,
        registration_http=loopback_http(),
    )


@pytest.fixture
def moodle() -> Iterator[FakePlatform]:
    with FakePlatform("moodle") as platform:
        yield platform


def _by(css: str) -> tuple[str, str]:
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def _click_and_wait(chromium: WebDriver, css: str) -> None:
    """Click what loads a new page, and wait until the old page is gone."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # Mark the old page's window: a new document starts without the mark. (Polling an old
    # element for staleness races the navigation: Chromium may answer "node does not belong
    # to the document" instead of "stale element".)
    chromium.execute_script("window.__oldPage = true")
    chromium.find_element(*_by(css)).click()
    WebDriverWait(chromium, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: driver.execute_script(
            "return window.__oldPage === undefined && document.readyState === 'complete'"
        )
    )


def _register_url(live_url: str, platform: FakePlatform, lang: str) -> str:
    query = urlencode(
        {
            "openid_configuration": platform.configuration_url,
            "registration_token": platform.token,
            "lang": lang,
        }
    )
    return f"{live_url}/lti/register?{query}"


@pytest.mark.parametrize("lang", LANGS)
def test_installation_page(chromium: WebDriver, live_url: str, lang: str) -> None:
    chromium.get(f"{live_url}/lti/installation?lang={lang}")
    assert chromium.execute_script("return document.documentElement.lang") == lang
    # copy-code.js ran (127.0.0.1 is a secure context): one named button per value.
    names = chromium.execute_script(
        "return [...document.querySelectorAll('.copy-button')].map(b => b.textContent)"
    )
    assert len(names) == chromium.execute_script(
        "return document.querySelectorAll('[data-copy]').length"
    )
    assert len(names) == 9
    assert all(name.startswith(("Copier : ", "Copy: ")) for name in names)
    assert_accessible(chromium, f"/lti/installation?lang={lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_registration_pages(
    chromium: WebDriver, live_url: str, moodle: FakePlatform, clean_database: Database, lang: str
) -> None:
    chromium.get(_register_url(live_url, moodle, lang))
    assert chromium.execute_script("return document.documentElement.lang") == lang
    assert_accessible(chromium, f"confirmation page ({lang})")

    _click_and_wait(chromium, "main form button[type=submit]")
    assert chromium.find_element(*_by("h1")).text.startswith(
        {"fr": "Jalon est enregistré", "en": "Jalon is registered"}[lang]
    )
    assert_accessible(chromium, f"done page ({lang})")
    assert len(stored(clean_database)) == 1

    chromium.get(f"{live_url}/lti/register?lang={lang}")
    assert chromium.find_element(*_by("main code")).text == "missing_configuration_url"
    assert_accessible(chromium, f"error page ({lang})")


@pytest.mark.parametrize("lang", LANGS)
def test_admin_pages(
    chromium: WebDriver, live_url: str, clean_database: Database, lang: str
) -> None:
    chromium.delete_all_cookies()
    chromium.get(f"{live_url}/admin/plateformes/?lang={lang}")
    chromium.find_element(*_by("#token")).send_keys(ADMIN_TOKEN)
    _click_and_wait(chromium, "main form button[type=submit]")
    assert chromium.current_url.startswith(f"{live_url}/admin/plateformes/")
    assert_accessible(chromium, f"platforms page, empty ({lang})")

    values: dict[str, Any] = {
        "#issuer": "http://moodle.example.edu",  # refused: plain http elsewhere than here
        "#client_id": "HkJ3xUq2sLmN0p",
        "#auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
        "#auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
        "#key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
        "#deployment_ids": "1",
    }
    for selector, value in values.items():
        chromium.find_element(*_by(selector)).send_keys(value)
    _click_and_wait(chromium, "form.form-grid button[type=submit]")
    assert chromium.find_element(*_by("#issuer")).get_attribute("aria-invalid") == "true"
    assert_accessible(chromium, f"platforms page with errors ({lang})")

    field = chromium.find_element(*_by("#issuer"))
    field.clear()
    field.send_keys("https://moodle.example.edu")
    _click_and_wait(chromium, "form.form-grid button[type=submit]")
    assert stored(clean_database) == [("https://moodle.example.edu", "HkJ3xUq2sLmN0p", ["1"])]
    assert_accessible(chromium, f"platforms page, one platform ({lang})")

    _click_and_wait(chromium, "section.platform p > a")
    assert_accessible(chromium, f"platform removal page ({lang})")


def test_the_done_page_hands_control_back_to_the_framing_platform(
    chromium: WebDriver, live_url: str, moodle: FakePlatform, clean_database: Database
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    moodle.pages["/lms/add-tool"] = (
        "<!doctype html><html lang='en'><head><title>LMS</title></head><body>"
        f"<iframe id='tool' title='Jalon' src='{_register_url(live_url, moodle, 'fr')}'"
        " width='900' height='700'></iframe>"
        "<script>window.received = [];"
        "window.addEventListener('message', e => window.received.push(e.data));</script>"
        "</body></html>"
    )
    chromium.get(f"{moodle.base}/lms/add-tool")
    chromium.switch_to.frame("tool")
    _click_and_wait(chromium, "main form button[type=submit]")
    assert chromium.find_element(*_by("h1")).text.startswith("Jalon est enregistré")
    chromium.switch_to.default_content()
    WebDriverWait(chromium, 10).until(lambda b: b.execute_script("return window.received.length"))
    assert chromium.execute_script("return window.received") == [
        {"subject": "org.imsglobal.lti.close"}
    ]
    assert stored(clean_database) == [(moodle.issuer, moodle.client_id, ["7"])]
