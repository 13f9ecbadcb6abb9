"""The registration pages in a real Chromium: WCAG 2.1 AA (axe-core), and the close message.

The browser and the live server come from tests/lti_tool/test_accessibility.py (same skip
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
from tests.lti_tool import test_accessibility as a11y
from tests.lti_tool.registration.conftest import ADMIN_TOKEN, loopback_http, stored
from tests.lti_tool.registration.fake_platform import FakePlatform

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

LANGS = ["fr", "en"]
# The accessibility module's Chromium and live server, reused as fixtures of this module.
browser = a11y.browser
live_url = a11y.live_url


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


def _click_and_wait(browser: WebDriver, css: str) -> None:
    """Click what loads a new page, and wait until the old page is gone."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # Mark the old page's window: a new document starts without the mark. (Polling an old
    # element for staleness races the navigation: Chromium may answer "node does not belong
    # to the document" instead of "stale element".)
    browser.execute_script("window.__oldPage = true")
    browser.find_element(*_by(css)).click()
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: driver.execute_script(
            "return window.__oldPage === undefined && document.readyState === 'complete'"
        )
    )


def _check(browser: WebDriver, what: str) -> None:
    """Run axe-core on the current page; fail listing every WCAG 2.1 AA violation."""
    browser.execute_script(a11y.AXE.read_text(encoding="utf-8"))
    violations = browser.execute_async_script(a11y.RUN_AXE, a11y.WCAG_TAGS)
    assert isinstance(violations, list), f"axe-core failed on {what}: {violations}"
    if violations:
        pytest.fail(f"{what}: {len(violations)} violation(s)\n{a11y._describe(violations)}", False)


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
def test_installation_page(browser: WebDriver, live_url: str, lang: str) -> None:
    browser.get(f"{live_url}/lti/installation?lang={lang}")
    assert browser.execute_script("return document.documentElement.lang") == lang
    # copy-code.js ran (127.0.0.1 is a secure context): one named button per value.
    names = browser.execute_script(
        "return [...document.querySelectorAll('.copy-button')].map(b => b.textContent)"
    )
    assert len(names) == browser.execute_script(
        "return document.querySelectorAll('[data-copy]').length"
    )
    assert len(names) == 9
    assert all(name.startswith(("Copier : ", "Copy: ")) for name in names)
    _check(browser, f"/lti/installation?lang={lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_registration_pages(
    browser: WebDriver, live_url: str, moodle: FakePlatform, clean_database: Database, lang: str
) -> None:
    browser.get(_register_url(live_url, moodle, lang))
    assert browser.execute_script("return document.documentElement.lang") == lang
    _check(browser, f"confirmation page ({lang})")

    _click_and_wait(browser, "main form button[type=submit]")
    assert browser.find_element(*_by("h1")).text.startswith(
        {"fr": "Jalon est enregistré", "en": "Jalon is registered"}[lang]
    )
    _check(browser, f"done page ({lang})")
    assert len(stored(clean_database)) == 1

    browser.get(f"{live_url}/lti/register?lang={lang}")
    assert browser.find_element(*_by("main code")).text == "missing_configuration_url"
    _check(browser, f"error page ({lang})")


@pytest.mark.parametrize("lang", LANGS)
def test_admin_pages(
    browser: WebDriver, live_url: str, clean_database: Database, lang: str
) -> None:
    browser.delete_all_cookies()
    browser.get(f"{live_url}/admin/plateformes/?lang={lang}")
    browser.find_element(*_by("#token")).send_keys(ADMIN_TOKEN)
    _click_and_wait(browser, "main form button[type=submit]")
    assert browser.current_url.startswith(f"{live_url}/admin/plateformes/")
    _check(browser, f"platforms page, empty ({lang})")

    values: dict[str, Any] = {
        "#issuer": "http://moodle.example.edu",  # refused: plain http elsewhere than here
        "#client_id": "HkJ3xUq2sLmN0p",
        "#auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
        "#auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
        "#key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
        "#deployment_ids": "1",
    }
    for selector, value in values.items():
        browser.find_element(*_by(selector)).send_keys(value)
    _click_and_wait(browser, "form.form-grid button[type=submit]")
    assert browser.find_element(*_by("#issuer")).get_attribute("aria-invalid") == "true"
    _check(browser, f"platforms page with errors ({lang})")

    field = browser.find_element(*_by("#issuer"))
    field.clear()
    field.send_keys("https://moodle.example.edu")
    _click_and_wait(browser, "form.form-grid button[type=submit]")
    assert stored(clean_database) == [("https://moodle.example.edu", "HkJ3xUq2sLmN0p", ["1"])]
    _check(browser, f"platforms page, one platform ({lang})")

    _click_and_wait(browser, "section.platform p > a")
    _check(browser, f"platform removal page ({lang})")


def test_the_done_page_hands_control_back_to_the_framing_platform(
    browser: WebDriver, live_url: str, moodle: FakePlatform, clean_database: Database
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
    browser.get(f"{moodle.base}/lms/add-tool")
    browser.switch_to.frame("tool")
    _click_and_wait(browser, "main form button[type=submit]")
    assert browser.find_element(*_by("h1")).text.startswith("Jalon est enregistré")
    browser.switch_to.default_content()
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return window.received.length"))
    assert browser.execute_script("return window.received") == [
        {"subject": "org.imsglobal.lti.close"}
    ]
    assert stored(clean_database) == [(moodle.issuer, moodle.client_id, ["7"])]
