"""Launches from the demo LMS, judged by a bare pylti1p3 tool, and ``/demo/auth``'s refusals."""

from __future__ import annotations

import re
from typing import Any

import jwt
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.lti_tool.demo.conftest import demo_state, place
from tests.lti_tool.demo.harness import (
    AGS_CLAIM,
    CLAIM,
    INSTRUCTOR,
    ISSUER,
    JALON,
    LEA,
    NRPS_CLAIM,
    TOOL,
    Browser,
    PyltiTool,
    forms,
    login_redirect,
)

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
TEACHER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def _auth_page(browser: Browser, placement_id: int, user: int = LEA) -> TestResponse:
    """Choose a user, press Launch, go through the tool's login to the platform's answer."""
    browser.choose(user)
    start = browser.open(f"{JALON}/demo/cours/1/activites/{placement_id}/lancement")
    assert start.status_code == 302
    assert start.headers["Location"].startswith(f"{TOOL}/login?")
    to_auth = browser.open(start.headers["Location"])
    assert to_auth.headers["Location"].startswith(f"{ISSUER}/auth?")
    return browser.open(to_auth.headers["Location"])


def _launch(browser: Browser, placement_id: int, user: int = LEA) -> dict[str, Any]:
    page = _auth_page(browser, placement_id, user)
    assert page.status_code == 200, page.get_data(as_text=True)
    answer = browser.submit(page.get_data(as_text=True))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    claims: dict[str, Any] = answer.get_json()
    return claims


def test_the_launch_button_starts_a_third_party_initiated_login(
    lms: Flask, browser: Browser
) -> None:
    link = place(lms, custom={"framework": "community-manager-n6", "epreuve": "E1"})
    browser.choose(LEA)
    start = browser.open(f"{JALON}/demo/cours/1/activites/{link}/lancement")
    params = login_redirect(start)
    assert params["iss"] == ISSUER
    assert params["login_hint"] == str(LEA)
    assert params["target_link_uri"] == f"{TOOL}/launch"
    assert params["client_id"] == "jalon-demo"
    assert params["lti_deployment_id"] == "1"
    assert params["lti_message_hint"]


def test_a_learner_launch_passes_pylti1p3_validation_with_moodle_like_claims(
    lms: Flask, browser: Browser, tool: PyltiTool
) -> None:
    custom = {"framework": "community-manager-n6", "epreuve": "E1", "competencies": "C1.1"}
    link = place(lms, custom=custom)
    claims = _launch(browser, link)

    assert len(tool.launches) == 1  # pylti1p3 checked state, nonce, signature, deployment
    assert claims["iss"] == ISSUER
    assert claims["aud"] == "jalon-demo"
    assert "azp" not in claims  # Moodle sends none
    assert claims["sub"] == str(LEA)
    assert claims["given_name"] == "Léa"
    assert claims["exp"] - claims["iat"] == 60
    assert claims[CLAIM + "deployment_id"] == "1"
    assert claims[CLAIM + "message_type"] == "LtiResourceLinkRequest"
    assert claims[CLAIM + "version"] == "1.3.0"
    assert claims[CLAIM + "roles"] == [LEARNER]
    assert claims[CLAIM + "context"] == {
        "id": "1",
        "label": "CM-DEMO",
        "title": "Community Manager — promotion de démonstration",
        "type": ["CourseSection"],
    }
    assert claims[CLAIM + "resource_link"]["id"] == str(link)
    assert claims[CLAIM + "custom"] == custom
    assert claims[CLAIM + "target_link_uri"] == f"{TOOL}/launch"
    presentation = claims[CLAIM + "launch_presentation"]
    assert presentation["locale"] == "fr"
    assert presentation["return_url"] == f"{ISSUER}/cours/1"
    assert claims[CLAIM + "tool_platform"]["product_family_code"] == "jalon-demo"
    assert claims[CLAIM + "ext"]["lms"] == "moodle-2"
    ags = claims[AGS_CLAIM]
    assert ags["lineitems"] == f"{ISSUER}/courses/1/lineitems"
    assert re.fullmatch(rf"{ISSUER}/courses/1/lineitems/\d+", ags["lineitem"])
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in ags["scope"]
    assert claims[NRPS_CLAIM]["context_memberships_url"] == f"{ISSUER}/courses/1/memberships"


def test_the_id_token_is_signed_with_the_published_key(lms: Flask, browser: Browser) -> None:
    link = place(lms)
    page = _auth_page(browser, link).get_data(as_text=True)
    token = forms(page)[0]["fields"]["id_token"]
    jwks = browser.open(f"{JALON}/demo/jwks").get_json()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=["RS256"], audience="jalon-demo", issuer=ISSUER
    )
    assert claims["nonce"]


def test_an_instructor_launches_as_instructor_in_english(lms: Flask, browser: Browser) -> None:
    link = place(lms)
    browser.open(f"{JALON}/demo/?lang=en")
    claims = _launch(browser, link, INSTRUCTOR)
    assert claims[CLAIM + "roles"] == [TEACHER]
    assert claims[CLAIM + "launch_presentation"]["locale"] == "en"


def test_the_answer_posts_by_a_static_script_with_a_noscript_button(
    lms: Flask, browser: Browser
) -> None:
    link = place(lms)
    page = _auth_page(browser, link)
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/demo/autopost.js" defer>']
    assert "<noscript>" in html
    assert re.search(r"<noscript>.*<button type=\"submit\">", html, re.S)
    form = forms(html)[0]
    assert form["action"] == f"{TOOL}/launch"
    assert form["method"] == "post"
    assert set(form["fields"]) == {"id_token", "state"}
    script = browser.open(f"{JALON}/static/demo/autopost.js")
    assert script.status_code == 200
    assert "form.submit()" in script.get_data(as_text=True)
    script.close()


def _valid_auth_query(browser: Browser, lms: Flask) -> dict[str, str]:
    link = place(lms)
    browser.choose(LEA)
    start = browser.open(f"{JALON}/demo/cours/1/activites/{link}/lancement")
    return login_redirect(browser.open(start.headers["Location"]))


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"client_id": "someone-else"}, 400),
        ({"redirect_uri": f"{TOOL}/launch/"}, 400),  # a trailing slash is another URI
        ({"redirect_uri": "https://evil.test/launch"}, 400),
        ({"login_hint": "3"}, 403),
        ({"nonce": ""}, 400),
        ({"state": ""}, 400),
        ({"response_mode": "query"}, 400),
        ({"response_type": "code"}, 400),
        ({"scope": "openid profile"}, 400),
        ({"prompt": "login"}, 400),
        ({"lti_message_hint": "forged"}, 400),
    ],
)
def test_auth_refuses_a_bad_request(
    lms: Flask, browser: Browser, change: dict[str, str], status: int
) -> None:
    query = _valid_auth_query(browser, lms)
    assert browser.open(f"{ISSUER}/auth", query_string=query).status_code == 200
    response = browser.open(f"{ISSUER}/auth", query_string={**query, **change})
    assert response.status_code == status
    assert forms(response.get_data(as_text=True)) == []  # no form carrying an id_token


def test_auth_refuses_a_browser_where_nobody_was_chosen(lms: Flask, browser: Browser) -> None:
    query = _valid_auth_query(browser, lms)
    stranger = Browser({"jalon.test": lms})
    assert stranger.open(f"{ISSUER}/auth", query_string=query).status_code == 403


def test_auth_accepts_a_post(lms: Flask, browser: Browser) -> None:
    query = _valid_auth_query(browser, lms)
    response = browser.open(f"{ISSUER}/auth", "POST", data=query)
    assert response.status_code == 200
    assert forms(response.get_data(as_text=True))[0]["fields"]["state"] == query["state"]


def test_a_rotated_platform_key_signs_the_next_launch(lms: Flask, browser: Browser) -> None:
    link = place(lms)
    before = demo_state(lms).keys.current.kid
    demo_state(lms).keys.rotate()
    page = _auth_page(browser, link).get_data(as_text=True)
    kid = jwt.get_unverified_header(forms(page)[0]["fields"]["id_token"])["kid"]
    published = [k["kid"] for k in browser.open(f"{JALON}/demo/jwks").get_json()["keys"]]
    assert kid != before
    assert published == [kid, before]
