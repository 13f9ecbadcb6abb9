"""LTI postMessage storage: the launch works in an iframe whose cookies are all blocked."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import Flask

from lti_tool.db import Database
from tests.lti_tool.lti.conftest import counts
from tests.lti_tool.lti.platforms import Browser, TestPlatform, storage_data

CONFIRM = {
    "X-Jalon-Storage": "checked",
    "Accept": "application/json",
    "Sec-Fetch-Site": "same-origin",
}


def _cookieless(app: Flask) -> Browser:
    return Browser(app.test_client(use_cookies=False))


def test_launch_through_platform_storage(
    registered: Flask, canvas: TestPlatform, clean_database: Database
) -> None:
    browser = _cookieless(registered)
    login = browser.login(canvas)
    token = canvas.sign(canvas.claims(login.nonce))
    before = counts(clean_database)
    check = browser.post_token(token, login.state)
    # No cookie came back: Jalon asks the page's script to read the platform storage.
    assert check.status_code == 200
    data = storage_data(check)
    assert data["mode"] == "get"
    # What the login page put in the platform storage: the browser id and the nonce.
    assert (data["state"], data["nonce"]) == (login.cookie[1], login.nonce)
    assert data["target"] == "post_message_forwarding"
    assert data["origin"] == "https://sso.canvaslms.com"
    assert counts(clean_database) == before  # nothing recorded before the check
    confirmed = browser.post_token(token, login.state, **CONFIRM)
    assert confirmed.status_code == 200
    landing = confirmed.get_json()["redirect"]
    assert landing.startswith("/lti/accueil?lt=")
    # The learner's launch of a placed épreuve opens on their épreuve page.
    opened = browser.get(landing)
    assert opened.status_code == 303
    assert opened.headers["Location"].startswith("/epreuve?lt=")
    assert browser.get(opened.headers["Location"]).status_code == 200
    assert counts(clean_database)["lti_users"] == 1


def test_a_cross_site_post_cannot_skip_the_storage_check(
    registered: Flask, canvas: TestPlatform, clean_database: Database
) -> None:
    """Without the script's header (a form from another site), the check page comes back."""
    attacker = _cookieless(registered)
    login = attacker.login(canvas)
    token = canvas.sign(canvas.claims(login.nonce))
    victim = _cookieless(registered)
    before = counts(clean_database)
    for headers in ({}, {**CONFIRM, "Sec-Fetch-Site": "cross-site"}):
        response = victim.post_token(token, login.state, **headers)
        assert response.status_code == 200
        assert storage_data(response)["mode"] == "get"
    assert counts(clean_database) == before


def test_a_refused_confirmation_points_to_the_refusal_page(
    registered: Flask, canvas: TestPlatform, clean_database: Database
) -> None:
    browser = _cookieless(registered)
    login = browser.login(canvas)
    token = canvas.sign(canvas.claims(login.nonce, aud="someone-else"))
    before = counts(clean_database)
    response = browser.post_token(token, login.state, **CONFIRM)
    assert response.status_code == 403
    answer = response.get_json()
    assert answer["error"]["code"] == "LTI_WRONG_AUDIENCE"
    page = browser.get(answer["page"])
    assert page.status_code == 403
    assert '<code class="code">LTI_WRONG_AUDIENCE</code>' in page.get_data(as_text=True)
    assert dict(parse_qsl(urlsplit(answer["page"]).query))["lang"] == "en"
    assert counts(clean_database) == before


def test_the_platform_without_storage_still_needs_the_cookie(
    registered: Flask, moodle: TestPlatform
) -> None:
    browser = _cookieless(registered)
    login = browser.login(moodle)
    response = browser.post_token(moodle.sign(moodle.claims(login.nonce)), login.state, **CONFIRM)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "LTI_STATE_MISMATCH"


def test_storage_pages_load_the_script_and_no_inline_code(
    registered: Flask, canvas: TestPlatform
) -> None:
    browser = _cookieless(registered)
    login = browser.login(canvas)
    html = login.response.get_data(as_text=True)
    assert '<script src="/static/lti-storage.js" defer></script>' in html
    assert '<script type="application/json" id="lti-storage-data">' in html
    assert html.count("<script") == 2  # the CSP allows no inline script
    script = browser.get("/static/lti-storage.js")
    assert script.status_code == 200
    assert b"lti.put_data" in script.data
    script.close()
