"""Launches shaped like Moodle 4.x and Canvas succeed, as learner and instructor."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.lti.state import signer_for
from lti_tool.models import LtiContext, LtiMembership, LtiResourceLink, LtiUser, Platform
from tests.lti_tool.lti.conftest import counts
from tests.lti_tool.lti.platforms import (
    LAUNCH_URL,
    Browser,
    TestPlatform,
    landing_token,
    storage_data,
)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_sends_the_browser_to_the_platform(
    registered: Flask, browser: Browser, moodle: TestPlatform, method: str
) -> None:
    login = browser.login(moodle, method=method)
    assert login.response.status_code == 302
    location = login.response.headers["Location"]
    assert location.startswith(moodle.auth_login_url + "?")
    params = dict(parse_qsl(urlsplit(location).query))
    assert params["client_id"] == moodle.client_id
    assert params["redirect_uri"] == LAUNCH_URL
    assert params["response_type"] == "id_token"
    assert params["response_mode"] == "form_post"
    assert params["scope"] == "openid"
    assert params["prompt"] == "none"
    assert params["login_hint"] == "42"
    assert params["lti_message_hint"] == '{"cmid":3}'
    assert len(params["nonce"]) >= 32
    assert len(params["state"]) >= 32
    # The state cookie, named and valued by the browser id signed into the state, usable in
    # a cross-site iframe over HTTPS.
    name, value = login.cookie
    assert name == f"lti1p3-{value}"
    assert len(value) >= 24
    assert value == _browser_id(registered, params["state"])
    cookie = login.response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "SameSite=None" in cookie
    assert "HttpOnly" in cookie


def _browser_id(app: Flask, state: str) -> str:
    login_state = signer_for(app.config["SECRET_KEY"]).read(state)
    assert login_state is not None
    return login_state.browser_id


def test_two_logins_get_different_states_and_nonces(browser: Browser, moodle: TestPlatform) -> None:
    first, second = browser.login(moodle), browser.login(moodle)
    assert first.state != second.state
    assert first.nonce != second.nonce
    assert first.cookie != second.cookie


def test_login_stores_nothing(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    before = counts(clean_database)
    assert browser.login(moodle).response.status_code == 302
    assert counts(clean_database) == before


def test_login_keeps_the_query_of_the_platform_login_url(
    registered: Flask, browser: Browser, moodle: TestPlatform
) -> None:
    with registered.app_context():
        database: Database = registered.extensions["jalon.db"]
        with database.session() as session:
            platform = session.scalar(sa.select(Platform).filter_by(issuer=moodle.issuer))
            assert platform is not None
            platform.auth_login_url += "?tenant=7"
    location = browser.login(moodle).response.headers["Location"]
    assert location.startswith(moodle.auth_login_url + "?tenant=7&")
    assert dict(parse_qsl(urlsplit(location).query))["tenant"] == "7"


@pytest.mark.parametrize(
    ("platform_name", "role", "is_staff", "expected_role_text"),
    [
        ("moodle", "learner", False, "Apprenant"),
        ("moodle", "instructor", True, "Équipe pédagogique"),
        ("canvas", "learner", False, "Learner"),
        ("canvas", "instructor", True, "Teaching staff"),
    ],
)
def test_launch_succeeds_and_records_the_course(
    request: pytest.FixtureRequest,
    browser: Browser,
    clean_database: Database,
    platform_name: str,
    role: str,
    is_staff: bool,
    expected_role_text: str,
) -> None:
    platform: TestPlatform = request.getfixturevalue(platform_name)
    response = browser.launch(platform, role)
    token = landing_token(response)
    assert response.headers["Location"].startswith("/lti/accueil?lt=")

    page = browser.get(f"/lti/activite?lt={token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Moodle launches in French, this Canvas user in English (launch_presentation.locale).
    assert f'<html lang="{"fr" if platform_name == "moodle" else "en"}">' in html
    assert expected_role_text in html
    claims = platform.claims("n", role)
    context = claims["https://purl.imsglobal.org/spec/lti/claim/context"]
    assert context["title"] in html
    # Every link of the page carries the session token.
    assert f"/referentiels/community-manager-n6/?lt={token}" in html

    with clean_database.session() as session:
        row = session.scalar(sa.select(Platform).where(Platform.client_id == platform.client_id))
        stored_context = session.scalar(sa.select(LtiContext))
        assert stored_context is not None
        assert row is not None
        assert (stored_context.issuer, stored_context.context_id) == (row.issuer, context["id"])
        assert (
            stored_context.deployment_id
            == claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"]
        )
        assert stored_context.title == context["title"]
        user = session.scalar(sa.select(LtiUser))
        assert user is not None
        assert user.sub == claims["sub"]
        assert user.name == claims["name"]
        assert user.email == claims["email"]
        membership = session.scalar(sa.select(LtiMembership))
        assert membership is not None
        assert membership.is_staff is is_staff
        assert membership.roles == claims["https://purl.imsglobal.org/spec/lti/claim/roles"]
        link = session.scalar(sa.select(LtiResourceLink))
        assert link is not None
        ags = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
        nrps = claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"]
        assert link.lineitems_url == ags["lineitems"]
        assert link.lineitem_url == ags.get("lineitem")
        assert link.ags_scopes == ags["scope"]
        assert link.memberships_url == nrps["context_memberships_url"]
        assert link.custom == claims["https://purl.imsglobal.org/spec/lti/claim/custom"]
        assert link.context_id == stored_context.id


def test_moodle_landing_shows_the_placed_epreuve(browser: Browser, moodle: TestPlatform) -> None:
    token = landing_token(browser.launch(moodle))
    html = browser.get(f"/lti/activite?lt={token}").get_data(as_text=True)
    assert "Épreuve placée ici" in html
    assert f"/referentiels/community-manager-n6/epreuves/E3?lt={token}" in html
    # Épreuve 3 covers C2.1–C2.11; each competency links to its IRI.
    for number in range(1, 12):
        assert f"/referentiels/community-manager-n6/competences/C2.{number}?lt={token}" in html


def test_canvas_landing_narrows_the_competencies(browser: Browser, canvas: TestPlatform) -> None:
    token = landing_token(browser.launch(canvas))
    html = browser.get(f"/lti/activite?lt={token}").get_data(as_text=True)
    assert "/competences/C1.1?lt=" in html
    assert "/competences/C1.2?lt=" in html
    assert "/competences/C1.3?lt=" not in html


def test_a_second_launch_updates_rather_than_duplicates(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    landing_token(browser.launch(moodle, "learner"))
    landing_token(browser.launch(moodle, "learner", change=lambda c: c.update(name="Léa M.")))
    landing_token(browser.launch(moodle, "instructor"))
    after = counts(clean_database)
    assert (after["lti_contexts"], after["lti_users"], after["lti_memberships"]) == (1, 2, 2)
    assert after["lti_resource_links"] == 1
    with clean_database.session() as session:
        names = set(session.scalars(sa.select(LtiUser.name)))
    assert names == {"Léa M.", "Paul Durand"}


def test_canvas_registrations_are_told_apart_by_client_id(
    registered: Flask,
    clean_database: Database,
    canvas: TestPlatform,
    canvas_other: TestPlatform,
) -> None:
    """Canvas uses one issuer for every hosted instance: the client id picks the registration."""
    with clean_database.session() as session:
        canvas_other.register(session)
    browser = Browser(registered.test_client())
    landing_token(browser.launch(canvas_other))
    with clean_database.session() as session:
        link = session.scalar(sa.select(LtiResourceLink))
        assert link is not None
        owner = session.get(Platform, link.platform_id)
        assert owner is not None
        assert owner.client_id == canvas_other.client_id


def test_an_admin_is_staff(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    landing_token(browser.launch(moodle, "admin"))
    with clean_database.session() as session:
        membership = session.scalar(sa.select(LtiMembership))
        assert membership is not None
        assert membership.is_staff


def test_canvas_login_offers_platform_storage(
    registered: Flask, browser: Browser, canvas: TestPlatform
) -> None:
    login = browser.login(canvas)
    assert login.response.status_code == 200
    data = storage_data(login.response)
    assert data["mode"] == "put"
    assert data["target"] == "post_message_forwarding"
    assert data["origin"] == "https://sso.canvaslms.com"
    # The browser id signed into the state is what the platform keeps, with the nonce.
    name, browser_id = login.cookie
    assert data["state"] == browser_id
    assert browser_id == _browser_id(registered, login.state)
    assert data["nonce"] == login.nonce
    # The cookie is set too: it works wherever the browser keeps it.
    assert name == f"lti1p3-{browser_id}"


def test_anonymous_resource_link_launch_is_accepted(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    """LTI Core §5.3.6.1: a platform may omit sub; roles stay required."""

    def anonymous(claims: dict[str, object]) -> None:
        for name in ("sub", "name", "given_name", "family_name", "email"):
            claims.pop(name)

    token = landing_token(browser.launch(moodle, change=anonymous))
    html = browser.get(f"/lti/activite?lt={token}").get_data(as_text=True)
    assert "Lancement anonyme" in html
    after = counts(clean_database)
    assert (after["lti_users"], after["lti_memberships"], after["lti_contexts"]) == (0, 0, 1)


def test_deep_linking_request_with_moodle_string_booleans_is_accepted(
    browser: Browser, moodle: TestPlatform
) -> None:
    def deep_linking(claims: dict[str, object]) -> None:
        claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] = "LtiDeepLinkingRequest"
        claims.pop("https://purl.imsglobal.org/spec/lti/claim/resource_link")
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
            "deep_link_return_url": "https://moodle.example.edu/mod/lti/contentitem_return.php",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["frame", "iframe", "window"],
            "accept_multiple": "true",
            "auto_create": "false",
        }

    token = landing_token(browser.launch(moodle, "instructor", change=deep_linking))
    html = browser.get(f"/lti/activite?lt={token}").get_data(as_text=True)
    assert "choisir une épreuve" in html


def test_a_returning_launch_updates_each_row_in_place(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    landing_token(browser.launch(moodle, "learner"))
    before = counts(clean_database)

    def change(claims: dict[str, Any]) -> None:
        claims[CLAIM + "context"] = {**claims[CLAIM + "context"], "title": "CM6 — session 2"}
        claims[CLAIM + "resource_link"] = {**claims[CLAIM + "resource_link"], "title": "E3 bis"}
        claims[CLAIM + "roles"] = [*claims[CLAIM + "roles"], MENTOR]
        claims["email"] = "nouvelle@example.edu"

    landing_token(browser.launch(moodle, "learner", change=change))
    assert {k: v for k, v in counts(clean_database).items() if k != "lti_cache"} == {
        k: v for k, v in before.items() if k != "lti_cache"
    }
    with clean_database.session() as session:
        assert session.scalars(sa.select(LtiContext.title)).all() == ["CM6 — session 2"]
        assert session.scalars(sa.select(LtiResourceLink.title)).all() == ["E3 bis"]
        assert session.scalars(sa.select(LtiUser.email)).all() == ["nouvelle@example.edu"]
        (roles,) = session.scalars(sa.select(LtiMembership.roles)).all()
        assert MENTOR in roles
