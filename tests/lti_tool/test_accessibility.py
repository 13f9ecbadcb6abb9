"""Every page passes axe-core (WCAG 2.1 AA) and the basic keyboard path in a real Chromium.

The app is served on 127.0.0.1 by werkzeug in a background thread; Debian's chromium, driven
through chromedriver by selenium, loads each page, runs axe-core from ``tests/a11y`` (installed
by ``.ci/browser.sh``) and reports every violation. Without the tools the module skips, naming
what is missing; under CI (``CI`` set) a missing tool is a failure, so CI never skips silently.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium")  # Debian's packages: chromium, chromium-driver
CHROMEDRIVER = shutil.which("chromedriver")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Headless flags that keep Chromium, run as root, off every network but loopback.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,900",
]

FW = "/referentiels/community-manager-n6"
NOT_FOUND = "/referentiels/nope/"
PAGES = [
    "/referentiels/",
    f"{FW}/",
    f"{FW}/blocs/B1",
    f"{FW}/competences/C1.1",
    f"{FW}/criteres/C1.1-1",
    f"{FW}/activites/A1.1",
    f"{FW}/epreuves/E3",
    NOT_FOUND,
    "/lti/installation",
    "/admin/connexion",
]
LANGS = ["fr", "en"]

# Keep only what a failure message needs; axe's full result is large.
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}})
  .then(result => done(result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
  }))))
  .catch(error => done({error: String(error)}));
"""


def _missing_tools() -> list[str]:
    """Name each tool this module needs that this machine lacks."""
    missing = []
    # selenium is imported only once this check passes, so the module loads without it.
    if importlib.util.find_spec("selenium") is None:
        missing.append("selenium (pip install -e '.[test]')")
    if CHROMIUM is None:
        missing.append("chromium (apt-get install chromium, or run .ci/browser.sh)")
    if CHROMEDRIVER is None:
        missing.append("chromedriver (apt-get install chromium-driver, or run .ci/browser.sh)")
    if not AXE.is_file():
        missing.append(f"axe-core ({AXE.relative_to(REPO)}: run npm ci in tests/a11y)")
    return missing


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Start one headless Chromium for the module, with a fresh profile."""
    missing = _missing_tools()
    if missing:
        reason = "accessibility tests need " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must not skip them)", pytrace=False)
        pytest.skip(reason)

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # An explicit driver path keeps Selenium Manager (which downloads drivers) out of the way.
    service = Service(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port for the duration of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll lets shutdown() return at once instead of after half a second.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _open(browser: WebDriver, url: str, path: str, lang: str) -> None:
    """Load a page and check it is the page asked for, in the language asked for."""
    browser.get(f"{url}{path}?lang={lang}")
    assert browser.execute_script("return document.documentElement.lang") == lang
    status = browser.execute_script(
        "const s = document.querySelector('h1 .status'); return s && s.textContent"
    )
    assert status == ("(404)" if path == NOT_FOUND else None), f"{path} rendered status {status}"


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        rule, impact, help_, url = (violation[k] for k in ("id", "impact", "help", "helpUrl"))
        lines.append(f"- {rule} [{impact}] {help_} ({url})")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(node['target'])}")
            lines.extend(f"      {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_wcag21_aa_violation(
    browser: WebDriver, live_url: str, path: str, lang: str
) -> None:
    _open(browser, live_url, path, lang)
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    violations = browser.execute_async_script(RUN_AXE, WCAG_TAGS)
    assert isinstance(violations, list), f"axe-core failed on {path}: {violations}"
    if violations:
        heading = f"{path}?lang={lang}: {len(violations)} WCAG 2.1 AA violation(s)"
        pytest.fail(f"{heading}\n{_describe(violations)}", pytrace=False)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", [f"{FW}/epreuves/E3", NOT_FOUND])
def test_first_tab_reaches_skip_link_which_moves_focus_to_main(
    browser: WebDriver, live_url: str, path: str, lang: str
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _open(browser, live_url, path, lang)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link"
    assert focused.get_attribute("hash") == "#contenu"
    # A skip link that stays off screen once focused helps no sighted keyboard user.
    box = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", focused)
    assert box["left"] >= 0
    assert box["top"] >= 0
    assert box["width"] > 0

    ActionChains(browser).send_keys(Keys.ENTER).perform()
    focused = browser.switch_to.active_element
    assert focused.tag_name == "main"
    assert focused.get_attribute("id") == "contenu"


@pytest.mark.parametrize("path", [p for p in PAGES if p.startswith(f"{FW}/")])
def test_english_pages_mark_the_french_referentiel_text_as_french(
    browser: WebDriver, live_url: str, path: str
) -> None:
    # WCAG 3.1.2 (language of parts), which axe cannot judge: a screen reader must read the
    # référentiel's French text in French and Jalon's own English headings in English.
    _open(browser, live_url, path, "en")
    lang_of = "return document.querySelector(arguments[0]).closest('[lang]').lang"
    assert browser.execute_script(lang_of, "main h1") == "fr"
    assert browser.execute_script(lang_of, "main h2") == "en"
