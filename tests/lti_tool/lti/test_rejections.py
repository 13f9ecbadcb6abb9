"""The negative suite: every bad launch gets a 4xx, its reason code, and stores nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from werkzeug.test import TestResponse

from lti_tool.db import Database
from tests.database_rows import every_row
from tests.lti_tool.lti.conftest import counts
from tests.lti_tool.lti.platforms import CLAIM, Browser, TestPlatform, landing_token, new_key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refused(response: TestResponse, code: str) -> None:
    html = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, html
    assert f'<code class="code">{code}</code>' in html, html
    assert 'role="alert"' in html


def _attempt(
    browser: Browser,
    database: Database,
    platform: TestPlatform,
    code: str,
    *,
    change: Callable[[dict[str, Any]], None] | None = None,
    token: Callable[[dict[str, Any]], str] | None = None,
    role: str = "learner",
) -> TestResponse:
    """Log in, then post a doctored id_token; assert the refusal and that nothing changed."""
    login = browser.login(platform)
    before = counts(database)
    claims = platform.claims(login.nonce, role)
    if change is not None:
        change(claims)
    id_token = token(claims) if token is not None else platform.sign(claims)
    response = browser.post_token(id_token, login.state)
    _refused(response, code)
    assert counts(database) == before
    return response


def test_bad_signature(browser: Browser, clean_database: Database, moodle: TestPlatform) -> None:
    forger, _ = new_key()
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_BAD_SIGNATURE",
        token=lambda claims: moodle.sign(claims, key=forger),
    )


def test_alg_none(browser: Browser, clean_database: Database, moodle: TestPlatform) -> None:
    def unsigned(claims: dict[str, Any]) -> str:
        header = {"alg": "none", "typ": "JWT", "kid": moodle.jwk["kid"]}
        return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."

    _attempt(browser, clean_database, moodle, "LTI_BAD_ALGORITHM", token=unsigned)


def test_hs256_signed_with_the_public_key(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    """The classic key-confusion attack: HMAC keyed with the platform's public PEM."""
    public_pem = moodle.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def confused(claims: dict[str, Any]) -> str:
        header = {"alg": "HS256", "typ": "JWT", "kid": moodle.jwk["kid"]}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(mac)}"

    _attempt(browser, clean_database, moodle, "LTI_BAD_ALGORITHM", token=confused)


def test_unknown_kid_even_after_a_refetch(
    registered: Flask, browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    landing_token(browser.launch(moodle))  # the key set is now cached
    hits = moodle.server.hits[moodle.jwks_path]
    stranger, _ = new_key()
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_UNKNOWN_KID",
        token=lambda claims: moodle.sign(claims, key=stranger, kid="not-a-moodle-key"),
    )
    assert moodle.server.hits[moodle.jwks_path] == hits + 1
    # A second unknown kid within the minute does not fetch again (rate limit).
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_UNKNOWN_KID",
        token=lambda claims: moodle.sign(claims, key=stranger, kid="another-forged-kid"),
    )
    assert moodle.server.hits[moodle.jwks_path] == hits + 1


def test_expired_token(browser: Browser, clean_database: Database, moodle: TestPlatform) -> None:
    now = int(time.time())
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_TOKEN_EXPIRED",
        change=lambda c: c.update(iat=now - 180, exp=now - 61),
    )


def test_expired_within_the_leeway_is_accepted(browser: Browser, moodle: TestPlatform) -> None:
    now = int(time.time())
    landing_token(browser.launch(moodle, change=lambda c: c.update(iat=now - 90, exp=now - 30)))


def test_iat_in_the_future_beyond_the_leeway(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    now = int(time.time())
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_TOKEN_NOT_YET_VALID",
        change=lambda c: c.update(iat=now + 120, exp=now + 180),
    )


def test_platform_clock_30_seconds_ahead_is_accepted(
    browser: Browser, moodle: TestPlatform
) -> None:
    """pylti1p3 alone refuses this launch ("iat"), the most reported LTI 1.3 failure."""
    now = int(time.time())
    landing_token(browser.launch(moodle, change=lambda c: c.update(iat=now + 30, exp=now + 90)))


def test_nbf_in_the_future_beyond_the_leeway(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    now = int(time.time())
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_TOKEN_NOT_YET_VALID",
        change=lambda c: c.update(nbf=now + 120),
    )


def test_wrong_aud(browser: Browser, clean_database: Database, moodle: TestPlatform) -> None:
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_WRONG_AUDIENCE",
        change=lambda c: c.update(aud="other"),
    )


def test_several_audiences_need_azp(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_WRONG_AUDIENCE",
        change=lambda c: c.update(aud=[moodle.client_id, "another-tool"]),
    )


def test_several_audiences_with_azp_are_accepted(browser: Browser, moodle: TestPlatform) -> None:
    landing_token(
        browser.launch(
            moodle,
            change=lambda c: c.update(aud=["another-tool", moodle.client_id], azp=moodle.client_id),
        )
    )


def test_azp_mismatch(browser: Browser, clean_database: Database, canvas: TestPlatform) -> None:
    _attempt(
        browser,
        clean_database,
        canvas,
        "LTI_AZP_MISMATCH",
        change=lambda c: c.update(azp="10000000000077"),
    )


def _login_refused(
    browser: Browser, database: Database, platform: TestPlatform, code: str, **params: str
) -> None:
    before = counts(database)
    login = browser.login(platform, **params)
    _refused(login.response, code)
    assert "Set-Cookie" not in login.response.headers
    assert counts(database) == before


def test_unknown_issuer_at_login(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    _login_refused(
        browser, clean_database, moodle, "LTI_UNKNOWN_ISSUER", iss="https://moodle.unknown.example"
    )


def test_unknown_issuer_in_the_token(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_UNKNOWN_ISSUER",
        change=lambda c: c.update(iss="https://moodle.unknown.example"),
    )


def test_token_from_another_registered_issuer(
    browser: Browser, clean_database: Database, moodle: TestPlatform, canvas: TestPlatform
) -> None:
    """Canvas's genuine token posted against a state Moodle's login created."""
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_ISSUER_MISMATCH",
        change=lambda c: c.update(iss=canvas.issuer),
    )


def test_unknown_client_id(
    browser: Browser, clean_database: Database, canvas: TestPlatform
) -> None:
    _login_refused(browser, clean_database, canvas, "LTI_UNKNOWN_CLIENT", client_id="99999")


def test_unknown_deployment_at_login(
    browser: Browser, clean_database: Database, canvas: TestPlatform
) -> None:
    _login_refused(
        browser, clean_database, canvas, "LTI_UNKNOWN_DEPLOYMENT", lti_deployment_id="7:abc"
    )


def test_unknown_deployment_in_the_token(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_UNKNOWN_DEPLOYMENT",
        change=lambda c: c.update({CLAIM + "deployment_id": "2"}),
    )


def test_target_link_uri_of_another_site(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    _login_refused(
        browser,
        clean_database,
        moodle,
        "LTI_BAD_TARGET_LINK_URI",
        target_link_uri="https://evil.example/lti/launch",
    )


def test_incomplete_login(browser: Browser, clean_database: Database, moodle: TestPlatform) -> None:
    _login_refused(browser, clean_database, moodle, "LTI_LOGIN_INCOMPLETE", login_hint=None)


def test_replay_in_the_same_browser(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    login = browser.login(moodle)
    token = moodle.sign(moodle.claims(login.nonce))
    landing_token(browser.post_token(token, login.state))
    before = counts(clean_database)
    _refused(browser.post_token(token, login.state), "LTI_NONCE_REPLAYED")
    assert counts(clean_database) == before


def test_replay_from_another_browser(
    registered: Flask, browser: Browser, clean_database: Database, canvas: TestPlatform
) -> None:
    login = browser.login(canvas)
    token = canvas.sign(canvas.claims(login.nonce))
    landing_token(browser.post_token(token, login.state))
    before = counts(clean_database)
    thief = Browser(registered.test_client())
    _refused(thief.post_token(token, login.state), "LTI_NONCE_REPLAYED")
    # Even with the state cookie stolen too.
    thief.client.set_cookie(f"lti1p3-{login.state}", login.state, domain="jalon.test")
    _refused(thief.post_token(token, login.state), "LTI_NONCE_REPLAYED")
    assert counts(clean_database) == before


def test_item13_replay_with_the_real_state_cookie_in_another_browser(
    registered: Flask, browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    """The thief holds the id_token, the state and the very cookie the login set."""
    login = browser.login(moodle)
    name, value = login.cookie
    assert name.startswith("lti1p3-")
    token = moodle.sign(moodle.claims(login.nonce))
    landing_token(browser.post_token(token, login.state))
    before = every_row(clean_database)
    thief = Browser(registered.test_client())
    thief.client.set_cookie(name, value, domain="jalon.test")
    _refused(thief.post_token(token, login.state), "LTI_NONCE_REPLAYED")
    assert every_row(clean_database) == before


def test_missing_state(browser: Browser, clean_database: Database, moodle: TestPlatform) -> None:
    login = browser.login(moodle)
    before = counts(clean_database)
    response = browser.client.post(
        "/lti/launch",
        data={"id_token": moodle.sign(moodle.claims(login.nonce))},
        base_url="https://jalon.test",
    )
    _refused(response, "LTI_STATE_MISSING")
    assert counts(clean_database) == before


def test_state_of_another_browser(
    registered: Flask, browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    """Login CSRF: the attacker's own state and token, posted from the victim's browser."""
    attacker = Browser(registered.test_client())
    login = attacker.login(moodle)
    token = moodle.sign(moodle.claims(login.nonce))
    before = counts(clean_database)
    _refused(browser.post_token(token, login.state), "LTI_STATE_MISMATCH")
    assert counts(clean_database) == before


def test_unknown_state(browser: Browser, clean_database: Database, moodle: TestPlatform) -> None:
    login = browser.login(moodle)
    token = moodle.sign(moodle.claims(login.nonce))
    before = counts(clean_database)
    _refused(browser.post_token(token, "state-made-up"), "LTI_STATE_MISMATCH")
    assert counts(clean_database) == before


def test_nonce_mismatch(browser: Browser, clean_database: Database, moodle: TestPlatform) -> None:
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_NONCE_MISMATCH",
        change=lambda c: c.update(nonce="a-nonce-jalon-never-sent"),
    )


def test_wrong_message_type(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_UNSUPPORTED_MESSAGE_TYPE",
        change=lambda c: c.update({CLAIM + "message_type": "LtiSubmissionReviewRequest"}),
    )


def test_wrong_lti_version(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    _attempt(
        browser,
        clean_database,
        moodle,
        "LTI_WRONG_VERSION",
        change=lambda c: c.update({CLAIM + "version": "1.1"}),
    )


@pytest.mark.parametrize(
    "claim",
    [
        "exp",
        "iat",
        "nonce",
        CLAIM + "deployment_id",
        CLAIM + "message_type",
        CLAIM + "roles",
        CLAIM + "resource_link",
        CLAIM + "target_link_uri",
    ],
)
def test_missing_required_claim(
    browser: Browser, clean_database: Database, moodle: TestPlatform, claim: str
) -> None:
    response = _attempt(
        browser, clean_database, moodle, "LTI_MISSING_CLAIM", change=lambda c: c.pop(claim)
    )
    assert f"<code>{claim}</code>" in response.get_data(as_text=True)


def test_deep_linking_without_sub_is_refused(
    browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    def anonymous_deep_linking(claims: dict[str, Any]) -> None:
        claims[CLAIM + "message_type"] = "LtiDeepLinkingRequest"
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
            "deep_link_return_url": "https://moodle.example.edu/mod/lti/contentitem_return.php",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe"],
        }
        claims.pop("sub")

    _attempt(browser, clean_database, moodle, "LTI_MISSING_CLAIM", change=anonymous_deep_linking)


def test_garbled_token(browser: Browser, clean_database: Database, moodle: TestPlatform) -> None:
    _attempt(browser, clean_database, moodle, "LTI_MALFORMED_TOKEN", token=lambda c: "a.b")


def test_refusal_speaks_the_launch_language(
    browser: Browser, clean_database: Database, canvas: TestPlatform, moodle: TestPlatform
) -> None:
    english = _attempt(
        browser, clean_database, canvas, "LTI_NONCE_MISMATCH", change=lambda c: c.update(nonce="x")
    )
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert "What an administrator should check" in english.get_data(as_text=True)
    french = _attempt(
        browser, clean_database, moodle, "LTI_NONCE_MISMATCH", change=lambda c: c.update(nonce="x")
    )
    assert '<html lang="fr">' in french.get_data(as_text=True)
    assert "Ce que l’administrateur doit vérifier" in french.get_data(as_text=True)


def test_refusal_follows_accept_language_without_a_token(browser: Browser) -> None:
    response = browser.post(
        "/lti/launch", data={"state": "s"}, headers={"Accept-Language": "en-GB,en;q=0.8"}
    )
    _refused(response, "LTI_TOKEN_MISSING")
    assert '<html lang="en">' in response.get_data(as_text=True)


def test_refusal_as_json(browser: Browser, moodle: TestPlatform) -> None:
    login = browser.login(moodle)
    response = browser.post(
        "/lti/launch",
        data={"id_token": "x.y.z", "state": login.state},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "LTI_MALFORMED_TOKEN"
    assert error["check"]


def test_refusal_log_names_the_reason_and_the_platform_only(
    browser: Browser,
    clean_database: Database,
    moodle: TestPlatform,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    forger, _ = new_key()
    login = browser.login(moodle)
    claims = moodle.claims(login.nonce)
    token = moodle.sign(claims, key=forger)
    _refused(browser.post_token(token, login.state), "LTI_BAD_SIGNATURE")
    refusals = [r for r in caplog.records if r.name == "lti_tool.lti.views"]
    assert len(refusals) == 1
    message = refusals[0].getMessage()
    assert "LTI_BAD_SIGNATURE" in message
    assert moodle.issuer in message
    assert moodle.client_id in message
    logged = caplog.text
    for secret in (token, claims["name"], claims["email"], claims["family_name"], login.nonce):
        assert secret not in logged
    assert f"sub={claims['sub']}" not in logged
