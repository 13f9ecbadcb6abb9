"""Item 10: who may frame each page, where its forms may post, and what caches may keep."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.models import Platform, PlatformStatus
from tests.lti_tool.deep_linking.test_picker import (
    MOODLE_RETURN,
    answer_of,
    choose,
    open_picker,
)
from tests.lti_tool.lti.conftest import browser, canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

__all__ = ["browser", "canvas", "key_server", "moodle", "registered"]


def _policy(header: str) -> dict[str, str]:
    """Return a Content-Security-Policy as directive → sources."""
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: rest[0] if rest else "" for name, *rest in directives}


def _set_status(database: Database, platform: TestPlatform, status: PlatformStatus) -> None:
    with database.session() as session:
        stored = session.scalars(sa.select(Platform).filter_by(client_id=platform.client_id))
        stored.one().status = status


def test_item10_a_launched_page_may_be_framed_by_its_own_platform_only(
    browser: Browser, moodle: TestPlatform, canvas: TestPlatform
) -> None:
    token = landing_token(browser.launch(moodle, "learner"))
    page = browser.get(f"/lti/activite?lt={token}")
    assert page.status_code == 200

    policy = _policy(page.headers["Content-Security-Policy"])
    key_set_origin = moodle.jwks_url.rsplit("/", 2)[0]
    assert policy["frame-ancestors"] == f"'self' {key_set_origin} https://moodle.example.edu"
    assert policy["form-action"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_item10_pages_of_no_platform_may_be_framed_by_the_approved_platforms(
    registered: Flask, clean_database: Database, moodle: TestPlatform, canvas: TestPlatform
) -> None:
    client = registered.test_client()
    _set_status(clean_database, moodle, PlatformStatus.ACTIVE)
    _set_status(clean_database, canvas, PlatformStatus.PENDING)
    ancestors = _policy(client.get("/referentiels/").headers["Content-Security-Policy"])
    assert "https://moodle.example.edu" in ancestors["frame-ancestors"]
    # Canvas is registered but awaits an administrator: not yet.
    assert "canvas" not in ancestors["frame-ancestors"]

    _set_status(clean_database, canvas, PlatformStatus.ACTIVE)
    page = client.get("/referentiels/")
    ancestors = _policy(page.headers["Content-Security-Policy"])
    assert "https://canvas.instructure.com" in ancestors["frame-ancestors"]
    assert "https://sso.canvaslms.com" in ancestors["frame-ancestors"]
    assert ancestors["form-action"] == "'self'"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_item10_admin_pages_are_never_framed_nor_cached(registered: Flask) -> None:
    page = registered.test_client().get("/admin/connexion")
    assert page.status_code == 200
    assert _policy(page.headers["Content-Security-Policy"])["frame-ancestors"] == "'none'"
    assert page.headers["Cache-Control"] == "no-store"


def test_item10_the_deep_linking_answer_may_post_to_the_platform_only(
    browser: Browser, moodle: TestPlatform
) -> None:
    _token, page = open_picker(browser, moodle)
    assert _policy(page.headers["Content-Security-Policy"])["form-action"] == "'self'"
    assert page.headers["Cache-Control"] == "no-store"

    answer = choose(browser, page, "E1")
    action, _jwt = answer_of(answer)
    assert action == MOODLE_RETURN
    policy = _policy(answer.headers["Content-Security-Policy"])
    assert policy["form-action"] == "'self' https://moodle.example.edu"
    assert answer.headers["Cache-Control"] == "no-store"


def test_item10_the_launch_redirect_carrying_the_token_is_not_cached(
    browser: Browser, moodle: TestPlatform
) -> None:
    launched = browser.launch(moodle, "learner")
    assert "lt=" in launched.headers["Location"]
    assert launched.headers["Cache-Control"] == "no-store"
    # Refusals show in the LMS frame, even for a platform awaiting approval.
    refused = browser.get("/lti/refus/LTI_STATE_MISMATCH")
    assert (
        "https://moodle.example.edu"
        in _policy(refused.headers["Content-Security-Policy"])["frame-ancestors"]
    )


def test_a_body_over_the_limit_without_a_token_in_the_url_gets_the_413_page(
    registered: Flask,
) -> None:
    # Sent by no browser of Jalon's (forms carry the token in the URL), yet a 413, not a 500.
    registered.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    refused = registered.test_client().post(
        "/epreuve/remise",
        data=b"x" * 100_000,
        content_type="application/x-www-form-urlencoded",
        base_url="https://jalon.test",
    )
    assert refused.status_code == 413
    assert "rien n’a été enregistré" in refused.get_data(as_text=True)
    assert refused.headers["Cache-Control"] == "no-store"
