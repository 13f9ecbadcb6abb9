"""A real Chromium that blocks third-party cookies, an LMS iframing Jalon from another site.

Jalon is served over HTTPS at ``https://localhost:<port>`` (a self-signed certificate the
browser is told to accept); a small LMS at ``http://127.0.0.1:<port>``, another site, shows
a course page that frames Jalon's login without ``lti_storage_target`` (as Open edX's inline
iframe does), authorizes the user its own first-party cookie names, and auto-posts the
signed id_token back. The browser blocks third-party cookies: Chromium 156 already does in a
fresh headless profile; ``--test-third-party-cookie-phaseout`` blocks them even when the
setting allows them, and the setting says so too (``profile.cookie_controls_mode`` = 1,
what "Block third-party cookies" writes). ``--block-third-party-cookies`` does nothing.

- Partitioned (CHIPS), Jalon's state cookie survives in the iframe: the launch opens there.
- With Jalon's cookies blocked in the LMS's frames altogether (a user's site setting; a
  browser without CHIPS), the launch is refused, and the refusal's link opens the login in
  a new window, where the launch succeeds.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import pytest
from flask import Flask
from werkzeug.wrappers import Request, Response

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from lti_tool.models import Deployment, Platform, PlatformStatus
from tests.browser import free_port, headless_chromium, serving
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.platforms import TestPlatform

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

BLOCK_THIRD_PARTY = {"profile.cookie_controls_mode": 1}
USER = "42"  # the LMS's user id, the Moodle test platform's learner


class Lms:
    """The LMS: a course page framing Jalon's login, and the OIDC authorization step."""

    def __init__(self, platform: TestPlatform, jalon: str) -> None:
        self.platform = platform
        self.jalon = jalon
        self.url = ""  # known once served
        self.authorized: list[str] = []

    def login_params(self) -> dict[str, str]:
        """Return the third-party initiated login, as this LMS's iframe sends it."""
        return {
            **self.platform.login_params(),
            "iss": self.url,
            "target_link_uri": f"{self.jalon}/lti/launch",
        }

    @Request.application
    def __call__(self, request: Request) -> Response:
        if request.path == "/course":
            src = html.escape(f"{self.jalon}/lti/login?{urlencode(self.login_params())}")
            page = Response(
                f'<!doctype html><title>Course</title><iframe id="tool" src="{src}" '
                'width="900" height="700"></iframe>',
                mimetype="text/html",
            )
            page.set_cookie("lms_session", USER, httponly=True, samesite="Lax")
            return page
        if request.path == "/auth":
            return self.authorize(request)
        return Response("not found", 404)

    def authorize(self, request: Request) -> Response:
        """Sign an id_token for the user logged in here (by its own cookie), or refuse."""
        user = request.cookies.get("lms_session")
        args = request.args
        if user != USER or args.get("login_hint") != USER:
            return Response("not logged in", 401)
        if args.get("redirect_uri") != f"{self.jalon}/lti/launch":
            return Response("unknown redirect_uri", 400)
        self.authorized.append(args["nonce"])
        token = self.platform.sign(self.platform.claims(args["nonce"], iss=self.url))
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (("id_token", token), ("state", args["state"]))
        )
        return Response(
            f'<!doctype html><title>…</title><form method="post" '
            f'action="{html.escape(args["redirect_uri"])}">{fields}</form>'
            "<script>document.forms[0].submit()</script>",
            mimetype="text/html",
        )


@pytest.fixture
def served(
    settings: Settings, clean_database: Database, moodle: TestPlatform
) -> Iterator[tuple[str, Lms]]:
    """Serve Jalon on https://localhost and the LMS on http://127.0.0.1, registered."""
    port = free_port()
    jalon = f"https://localhost:{port}"
    app: Flask = create_app(
        dataclasses.replace(settings, base_url=jalon),
        database=clean_database,
        jwks_fetcher=loopback_key_sets(),
    )
    app.config["TESTING"] = True
    lms = Lms(moodle, jalon)
    with serving(lms) as lms_url:
        lms.url = lms_url
        with clean_database.session() as session:
            install_bundled(session)
            session.add(
                Platform(
                    issuer=lms_url,
                    client_id=moodle.client_id,
                    name="LMS",
                    auth_login_url=f"{lms_url}/auth",
                    auth_token_url=f"{lms_url}/token",
                    key_set_url=moodle.jwks_url,
                    status=PlatformStatus.ACTIVE,
                    deployments=[Deployment(deployment_id=moodle.deployment_id)],
                )
            )
        with serving(app, port, https=True):
            yield jalon, lms


def _chromium(tmp_path: Path, prefs: dict[str, Any]) -> Any:
    return headless_chromium(
        tmp_path / "chromium-profile",
        prefs=prefs,
        flags=("--ignore-certificate-errors", "--test-third-party-cookie-phaseout"),
    )


def _wait(driver: WebDriver, condition: Callable[[WebDriver], Any]) -> Any:
    from selenium.webdriver.support.wait import WebDriverWait

    return WebDriverWait(driver, 20).until(condition)


def _path(driver: WebDriver) -> str:
    return str(driver.execute_script("return location.pathname"))


def test_the_partitioned_cookie_launches_in_the_iframe(
    served: tuple[str, Lms], tmp_path: Path
) -> None:
    jalon, lms = served
    with _chromium(tmp_path, BLOCK_THIRD_PARTY) as driver:
        driver.get(f"{lms.url}/course")
        driver.switch_to.frame("tool")
        _wait(driver, lambda d: _path(d) == "/epreuve")
        assert driver.execute_script("return location.origin") == jalon
        assert 'role="alert"' not in driver.page_source
        assert len(lms.authorized) == 1


def test_a_blocked_cookie_relaunches_in_a_new_window(
    served: tuple[str, Lms], tmp_path: Path
) -> None:
    jalon, lms = served
    # Jalon's cookies, even partitioned, refused when framed by the LMS; first-party kept.
    block_in_lms = {
        "profile.content_settings.exceptions.cookies": {f"{jalon},{lms.url}": {"setting": 2}}
    }
    with _chromium(tmp_path, {**BLOCK_THIRD_PARTY, **block_in_lms}) as driver:
        driver.get(f"{lms.url}/course")
        course = driver.current_window_handle
        driver.switch_to.frame("tool")
        _wait(driver, lambda d: _path(d) == "/lti/launch")
        code = driver.find_element("css selector", "code.code").text
        assert code == "LTI_STATE_MISMATCH"
        link = driver.find_element("css selector", "main a[target=_blank]")
        assert link.get_attribute("rel") == "noopener"
        assert link.text == "Ouvrir dans une nouvelle fenêtre"
        relaunch = dict(parse_qsl(link.get_attribute("href").split("?", 1)[1]))
        assert relaunch == lms.login_params()
        link.click()
        window = _wait(driver, lambda d: [h for h in d.window_handles if h != course] or None)
        driver.switch_to.window(window[0])
        _wait(driver, lambda d: _path(d) == "/epreuve")
        assert driver.execute_script("return location.origin") == jalon
        # noopener: the new window cannot reach the LMS's page.
        assert driver.execute_script("return window.opener") is None
        assert len(lms.authorized) == 2
        assert not driver.find_elements("css selector", "code.code")  # not a refusal
