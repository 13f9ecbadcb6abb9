"""A real Chromium for the page tests: the browser, a live server and the axe-core check.

The app is served on 127.0.0.1 by werkzeug in a background thread; Debian's chromium, driven
through chromedriver by selenium, loads each page, runs axe-core from ``tests/a11y`` (installed
by ``.ci/browser.sh``) and reports every WCAG 2.1 AA violation. Without the tools a test that
asks for the browser skips, naming what is missing; under CI (``CI`` set) a missing tool is a
failure, so CI never skips silently.

``tests/conftest.py`` loads this module as a plugin: any test may ask for ``chromium`` (one
browser per test module) and ``live_url`` (the ``app`` fixture, served for one test).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

REPO = Path(__file__).resolve().parents[1]
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
    # localhost too, as a second loopback site (tests/lti_tool/lti/test_relaunch_browser.py).
    "--host-resolver-rules=MAP localhost 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,900",
]

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


def missing_tools() -> list[str]:
    """Name each tool the browser tests need that this machine lacks."""
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


@contextmanager
def headless_chromium(
    profile: Path, prefs: dict[str, Any] | None = None, flags: tuple[str, ...] = ()
) -> Iterator[WebDriver]:
    """Start a headless Chromium with a fresh profile; skip (fail under CI) without the tools.

    ``prefs`` are the profile's preferences (a user's settings: cookie controls…), ``flags``
    more command-line switches.
    """
    missing = missing_tools()
    if missing:
        reason = "accessibility tests need " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must not skip them)", pytrace=False)
        pytest.skip(reason)

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, *flags):
        options.add_argument(flag)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    options.add_argument(f"--user-data-dir={profile}")
    # An explicit driver path keeps Selenium Manager (which downloads drivers) out of the way.
    service = Service(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Start one headless Chromium for the test module."""
    with headless_chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def free_port() -> int:
    """Return a loopback port free now (for an app that must know its URL before serving)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: Any, port: int = 0, *, https: bool = False) -> Iterator[str]:
    """Serve ``app`` on a loopback port (any free one by default) in a background thread.

    With ``https``, over TLS with a self-signed certificate made for the occasion (the
    browser must be told to accept it: ``--ignore-certificate-errors``).
    """
    server = make_server(
        "127.0.0.1", port, app, threaded=True, ssl_context="adhoc" if https else None
    )
    # A short poll lets shutdown() return at once instead of after half a second.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"{'https' if https else 'http'}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port for the duration of one test."""
    with serving(app) as url:
        yield url


def describe(violations: list[dict[str, Any]]) -> str:
    """Format axe-core's violations: rule, impact, help, and each node with what to fix."""
    lines = []
    for violation in violations:
        rule, impact, help_, url = (violation[k] for k in ("id", "impact", "help", "helpUrl"))
        lines.append(f"- {rule} [{impact}] {help_} ({url})")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(node['target'])}")
            lines.extend(f"      {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


def violations(driver: WebDriver, what: str) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.1 AA rules on the page loaded; return the violations."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(RUN_AXE, WCAG_TAGS)
    assert isinstance(found, list), f"axe-core failed on {what}: {found}"
    return found


def assert_accessible(driver: WebDriver, what: str) -> None:
    """Fail listing every WCAG 2.1 AA violation of the page loaded, if it has any."""
    found = violations(driver, what)
    if found:
        heading = f"{what}: {len(found)} WCAG 2.1 AA violation(s)"
        pytest.fail(f"{heading}\n{describe(found)}", pytrace=False)


SCREENSHOTS = REPO / "docs" / "screenshots"


def page_screenshot(
    driver: WebDriver, folder: Path, name: str, width: int = 1280, at: str | None = None
) -> Path:
    """Photograph the whole page at ``width`` px; kept in docs/ with ``JALON_SCREENSHOTS=1``.

    Fails when the page scrolls sideways at that width (what a reader of the screenshot, and
    of the page, would trip on). Returns the PNG, written in ``folder``, and copied to
    docs/screenshots/ only when asked, so a test run leaves the repository unchanged. With
    ``at`` (a CSS selector), one screen from that element down instead of the whole page.
    """
    driver.set_window_size(width, 900)
    sideways = driver.execute_script(
        "const e = document.documentElement; return [e.scrollWidth, e.clientWidth]"
    )
    assert sideways[0] <= sideways[1], f"{name}: the page scrolls sideways at {width} px"
    if at is None:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(int(height) + 100, 900), 4000))
    else:
        driver.set_window_size(width, 1100)
        driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", at)
    shot = folder / f"{name}.png"
    try:
        driver.save_screenshot(str(shot))
    finally:
        driver.set_window_size(1280, 1024)
    assert shot.stat().st_size > 10_000, f"{name}: an empty screenshot"
    if os.environ.get("JALON_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / shot.name)
    return shot
