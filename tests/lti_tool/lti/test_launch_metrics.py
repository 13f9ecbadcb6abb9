"""Launches are counted by outcome and by refusal code."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.config import Settings
from tests.lti_tool.lti.platforms import Browser, TestPlatform, new_key
from tests.lti_tool.lti.test_platform_storage import CONFIRM
from tests.lti_tool.observability.scraping import TOKEN, scrape, value

LAUNCHES = "jalon_lti_launches_total"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, metrics_token=TOKEN)


def test_accepted_and_refused_launches_are_counted(
    browser: Browser, client: FlaskClient, moodle: TestPlatform
) -> None:
    before = scrape(client)
    assert browser.launch(moodle).status_code == 303
    forger, _ = new_key()
    login = browser.login(moodle)
    refused = browser.post_token(moodle.sign(moodle.claims(login.nonce), key=forger), login.state)
    assert 400 <= refused.status_code < 500
    unknown = browser.login(moodle, iss="https://unknown.example.edu")
    assert unknown.response.status_code >= 400
    after = scrape(client)

    def grew(**labels: str) -> float:
        return value(after, LAUNCHES, **labels) - value(before, LAUNCHES, **labels)

    assert grew(step="launch", outcome="accepted", code="") == 1
    assert grew(step="launch", outcome="refused", code="LTI_BAD_SIGNATURE") == 1
    assert grew(step="login", outcome="refused", code="LTI_UNKNOWN_ISSUER") == 1
    assert grew(step="login", outcome="accepted", code="") == 2


def test_a_launch_through_platform_storage_is_counted_once_accepted(
    registered: Flask, client: FlaskClient, canvas: TestPlatform
) -> None:
    browser = Browser(registered.test_client(use_cookies=False))
    login = browser.login(canvas)
    token = canvas.sign(canvas.claims(login.nonce))
    before = scrape(client)
    assert browser.post_token(token, login.state).status_code == 200  # the storage page
    confirmed = browser.post_token(token, login.state, **CONFIRM)
    assert confirmed.status_code == 200
    assert confirmed.get_json()["redirect"].startswith("/lti/accueil?lt=")
    replayed = browser.post_token(token, login.state, **CONFIRM)
    assert replayed.status_code >= 400
    after = scrape(client)

    def grew(**labels: str) -> float:
        return value(after, LAUNCHES, **labels) - value(before, LAUNCHES, **labels)

    assert grew(step="launch", outcome="storage_check", code="") == 1
    assert grew(step="launch", outcome="accepted", code="") == 1
    refused = replayed.get_json()["error"]["code"]
    assert grew(step="launch", outcome="refused", code=refused) == 1
