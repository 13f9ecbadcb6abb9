"""A launch whose cookie the browser blocked: the refusal page opens the login in a new window.

The iframe's browser keeps no cookie (``use_cookies=False``: third-party cookies blocked,
partitioned ones too); the new window is a top-level browsing context, where
Jalon's cookie is first-party and kept.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

from flask import Flask
from werkzeug.test import TestResponse

from lti_tool.db import Database
from lti_tool.lti.state import RELAUNCH_MAX_CHARS, signer_for
from tests.lti_tool.lti.conftest import counts
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token
from tests.lti_tool.lti.test_rejections import _refused

LINK = re.compile(r'<a href="([^"]*)" target="_blank" rel="noopener">([^<]*)</a>')


def _cookieless(app: Flask) -> Browser:
    return Browser(app.test_client(use_cookies=False))


def _relaunch_link(response: TestResponse) -> tuple[str, str] | None:
    """Return the href and text of the page's new-window link, or None."""
    found = LINK.findall(response.get_data(as_text=True))
    assert len(found) <= 1
    return (html.unescape(found[0][0]), found[0][1]) if found else None


def _blocked_launch(app: Flask, platform: TestPlatform) -> tuple[TestResponse, str, str]:
    """Log in and launch in an iframe whose cookies are blocked; return page, token, state."""
    iframe = _cookieless(app)
    login = iframe.login(platform)
    token = platform.sign(platform.claims(login.nonce))
    return iframe.post_token(token, login.state), token, login.state


def test_the_refusal_offers_the_same_login_in_a_new_window(
    registered: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    before = counts(clean_database)
    page, token, state = _blocked_launch(registered, moodle)
    _refused(page, "LTI_STATE_MISMATCH")
    assert page.status_code == 403
    link = _relaunch_link(page)
    assert link is not None
    href, text = link
    assert text == "Ouvrir dans une nouvelle fenêtre"
    # Jalon's own login endpoint, with the parameters the platform sent to the first login.
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("", "", "/lti/login")
    expected = moodle.login_params()
    assert dict(parse_qsl(parts.query)) == expected
    assert set(expected) == {
        "iss",
        "login_hint",
        "lti_message_hint",
        "target_link_uri",
        "client_id",
        "lti_deployment_id",
    }
    # Neither the token nor the state is on the page.
    body = page.get_data(as_text=True)
    assert token not in body
    assert state not in body
    assert token.split(".")[1] not in body
    assert counts(clean_database) == before


def test_following_the_link_top_level_launches(
    registered: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    """Blocked in the iframe, the launch succeeds in the new window, cookie kept."""
    page, _, _ = _blocked_launch(registered, moodle)
    link = _relaunch_link(page)
    assert link is not None
    window = Browser(registered.test_client())  # top-level: the cookie is first-party
    login = window.get(link[0])
    assert login.status_code == 302
    location = login.headers["Location"]
    assert location.startswith(moodle.auth_login_url + "?")
    params = dict(parse_qsl(urlsplit(location).query))
    assert params["login_hint"] == "42"
    assert params["lti_message_hint"] == '{"cmid":3}'
    assert params["prompt"] == "none"
    # The platform authenticates its user again and answers with a new token.
    launched = window.post_token(moodle.sign(moodle.claims(params["nonce"])), params["state"])
    opened = window.get(f"/lti/accueil?lt={landing_token(launched)}")
    assert opened.status_code == 303
    assert opened.headers["Location"].startswith("/epreuve?lt=")
    assert counts(clean_database)["lti_users"] == 1


def test_the_page_is_in_english_for_an_english_launch(
    registered: Flask, moodle: TestPlatform
) -> None:
    iframe = _cookieless(registered)
    login = iframe.login(moodle)
    claims = moodle.claims(login.nonce)
    claims["https://purl.imsglobal.org/spec/lti/claim/launch_presentation"]["locale"] = "en"
    page = iframe.post_token(moodle.sign(claims), login.state)
    link = _relaunch_link(page)
    assert link is not None
    assert link[1] == "Open in a new window"
    assert "third-party cookies" in page.get_data(as_text=True)


def test_a_replay_gets_no_new_window(
    registered: Flask, browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    """A used token is refused as a replay, with nothing that would start again."""
    login = browser.login(moodle)
    token = moodle.sign(moodle.claims(login.nonce))
    landing_token(browser.post_token(token, login.state))
    before = counts(clean_database)
    for replayer in (browser, _cookieless(registered)):
        page = replayer.post_token(token, login.state)
        _refused(page, "LTI_NONCE_REPLAYED")
        assert _relaunch_link(page) is None
        assert "/lti/login" not in page.get_data(as_text=True)
    assert counts(clean_database) == before


def test_a_state_jalon_did_not_sign_gets_no_new_window(
    registered: Flask, moodle: TestPlatform
) -> None:
    iframe = _cookieless(registered)
    login = iframe.login(moodle)
    page = iframe.post_token(moodle.sign(moodle.claims(login.nonce)), "state-made-up")
    _refused(page, "LTI_STATE_MISMATCH")
    assert _relaunch_link(page) is None


def test_the_platform_storage_path_keeps_no_login_parameters(
    registered: Flask, canvas: TestPlatform
) -> None:
    """Canvas's state stays as short as before: its launch checks the platform storage."""
    login = _cookieless(registered).login(canvas)
    state = signer_for(registered.config["SECRET_KEY"]).read(login.state)
    assert state is not None
    assert state.storage_target == "post_message_forwarding"
    assert state.relaunch() is None


def test_login_parameters_too_long_for_the_state_are_not_kept(
    registered: Flask, moodle: TestPlatform
) -> None:
    """The state travels in a URL: an oversized hint leaves the page without the link."""
    iframe = _cookieless(registered)
    login = iframe.login(moodle, lti_message_hint="x" * RELAUNCH_MAX_CHARS)
    assert login.response.status_code == 302
    page = iframe.post_token(moodle.sign(moodle.claims(login.nonce)), login.state)
    _refused(page, "LTI_STATE_MISMATCH")
    assert _relaunch_link(page) is None


def test_the_link_is_encoded_whatever_the_platform_sent(
    registered: Flask, moodle: TestPlatform
) -> None:
    """Quotes, angle brackets and ampersands in a hint stay inside one parameter."""
    hint = '"><script>alert(1)</script>&iss=https://evil.example&x='
    iframe = _cookieless(registered)
    login = iframe.login(moodle, lti_message_hint=hint)
    page = iframe.post_token(moodle.sign(moodle.claims(login.nonce)), login.state)
    assert "<script>alert(1)" not in page.get_data(as_text=True)
    link = _relaunch_link(page)
    assert link is not None
    parts = urlsplit(link[0])
    assert parts.path == "/lti/login"
    params = parse_qsl(parts.query)
    assert dict(params)["lti_message_hint"] == hint
    assert [value for name, value in params if name == "iss"] == [moodle.issuer]


def test_the_json_refusal_names_the_relaunch(registered: Flask, moodle: TestPlatform) -> None:
    iframe = _cookieless(registered)
    login = iframe.login(moodle)
    answer = iframe.post_token(
        moodle.sign(moodle.claims(login.nonce)), login.state, Accept="application/json"
    )
    assert answer.status_code == 403
    error = answer.get_json()["error"]
    assert error["code"] == "LTI_STATE_MISMATCH"
    assert dict(parse_qsl(urlsplit(error["relaunch"]).query)) == moodle.login_params()
