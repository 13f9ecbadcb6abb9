"""No launch locale (Open edX): the browser's Accept-Language, then JALON_DEFAULT_LOCALE."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.platforms import CLAIM, Browser, TestPlatform, landing_token


def _open_edx(claims: dict[str, Any]) -> None:
    """Reshape a Moodle launch as Open edX sends it: no locale, no title, no names."""
    for name in ("name", "given_name", "family_name", "email", CLAIM + "ext"):
        claims.pop(name, None)
    claims["sub"] = "6f1c2b9e-8d7a-4e3f-9a1b-2c3d4e5f6a7b"
    claims[CLAIM + "launch_presentation"] = {"document_target": "iframe"}
    claims[CLAIM + "resource_link"] = {"id": claims[CLAIM + "resource_link"]["id"]}
    claims[CLAIM + "tool_platform"] = {"guid": "lms.example.edu", "name": "Open edX"}


def _pages(app: Flask, platform: TestPlatform, **headers: str) -> list[str]:
    browser = Browser(app.test_client())
    response = browser.launch(platform, "learner", change=_open_edx)
    token = landing_token(response)
    pages = [
        browser.get(path, query_string={"lt": token}, headers=headers)
        for path in ("/lti/activite", "/epreuve")
    ]
    assert [page.status_code for page in pages] == [200, 200]
    return [page.get_data(as_text=True) for page in pages]


@pytest.mark.parametrize(
    ("accept_language", "lang"),
    [("en", "en"), ("en-GB,en;q=0.8", "en"), ("fr-FR,fr;q=0.9", "fr"), ("de", "fr"), (None, "fr")],
)
def test_item1_open_edx_launch_without_locale_follows_accept_language(
    registered: Flask, moodle: TestPlatform, accept_language: str | None, lang: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    for html in _pages(registered, moodle, **headers):
        assert f'<html lang="{lang}">' in html


@pytest.mark.parametrize(("accept_language", "lang"), [(None, "en"), ("de", "en"), ("fr", "fr")])
def test_item1_open_edx_launch_without_locale_falls_back_to_the_default_locale(
    settings: Settings,
    clean_database: Database,
    moodle: TestPlatform,
    accept_language: str | None,
    lang: str,
) -> None:
    app = create_app(
        dataclasses.replace(settings, default_locale="en"),
        database=clean_database,
        jwks_fetcher=loopback_key_sets(),
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
        moodle.register(session)
    headers = {"Accept-Language": accept_language} if accept_language else {}
    for html in _pages(app, moodle, **headers):
        assert f'<html lang="{lang}">' in html


def test_item1_a_launch_locale_still_wins_over_accept_language(
    registered: Flask, moodle: TestPlatform
) -> None:
    browser = Browser(registered.test_client())
    token = landing_token(browser.launch(moodle, "learner"))  # Moodle sends locale "fr"
    html = browser.get(
        "/lti/activite", query_string={"lt": token}, headers={"Accept-Language": "en"}
    )
    assert '<html lang="fr">' in html.get_data(as_text=True)
