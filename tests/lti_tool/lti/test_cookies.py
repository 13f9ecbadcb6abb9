"""The state cookie as the browser reads it: the raw Set-Cookie of the login and the launch."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import Flask
from werkzeug.test import TestResponse

from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

HTTP = "http://jalon.test"  # the launch over plain HTTP, as the loopback demo serves it


def _set_cookie(response: TestResponse, prefix: str = "lti1p3-") -> tuple[str, str, list[str]]:
    """Return the name, value and attributes of the one Set-Cookie header for ``prefix``."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(prefix)]
    assert len(headers) == 1, response.headers
    pair, *attributes = headers[0].split("; ")
    name, _, value = pair.partition("=")
    return name, value, attributes


def _names(attributes: list[str]) -> set[str]:
    return {attribute.partition("=")[0] for attribute in attributes}


def test_over_https_the_state_cookie_is_partitioned_and_cross_site(
    browser: Browser, moodle: TestPlatform
) -> None:
    """A browser blocking third-party cookies keeps a partitioned one for the iframe."""
    login = browser.login(moodle)
    assert login.response.status_code == 302
    name, value, attributes = _set_cookie(login.response)
    assert name == f"lti1p3-{value}"
    assert {"Secure", "HttpOnly", "Partitioned", "Path=/", "SameSite=None", "Max-Age=600"} <= set(
        attributes
    )
    assert "Domain" not in _names(attributes)


def test_the_platform_storage_page_sets_the_same_cookie(
    browser: Browser, canvas: TestPlatform
) -> None:
    login = browser.login(canvas)
    assert login.response.status_code == 200
    _, _, attributes = _set_cookie(login.response)
    assert {"Secure", "HttpOnly", "Partitioned", "Path=/", "SameSite=None"} <= set(attributes)


def test_over_http_the_cookie_stays_first_party(registered: Flask, moodle: TestPlatform) -> None:
    """The loopback demo serves plain HTTP: Secure (implied by Partitioned) would lose it."""
    client = registered.test_client()
    response = client.post("/lti/login", data=moodle.login_params(), base_url=HTTP)
    assert response.status_code == 302
    name, value, attributes = _set_cookie(response)
    assert name == f"lti1p3-{value}"
    assert {"HttpOnly", "Path=/"} <= set(attributes)
    assert not _names(attributes) & {"Secure", "SameSite", "Partitioned"}
    assert client.get_cookie(name, domain="jalon.test") is not None


def test_the_launch_deletes_the_partitioned_cookie_as_partitioned(
    browser: Browser, moodle: TestPlatform
) -> None:
    """A Set-Cookie without Partitioned would address another jar and leave the cookie."""
    login = browser.login(moodle)
    name, _ = login.cookie
    assert browser.client.get_cookie(name, domain="jalon.test") is not None
    launched = browser.post_token(moodle.sign(moodle.claims(login.nonce)), login.state)
    landing_token(launched)
    deleted, value, attributes = _set_cookie(launched)
    assert (deleted, value) == (name, "")
    assert {"Max-Age=0", "Secure", "HttpOnly", "Partitioned", "Path=/", "SameSite=None"} <= set(
        attributes
    )
    assert browser.client.get_cookie(name, domain="jalon.test") is None


def test_over_http_the_launch_deletes_the_cookie_it_set(
    registered: Flask, moodle: TestPlatform
) -> None:
    client = registered.test_client()
    login = client.post("/lti/login", data=moodle.login_params(), base_url=HTTP)
    name, _, _ = _set_cookie(login)
    params = dict(parse_qsl(urlsplit(login.headers["Location"]).query))
    launched = client.post(
        "/lti/launch",
        data={"id_token": moodle.sign(moodle.claims(params["nonce"])), "state": params["state"]},
        base_url=HTTP,
    )
    assert launched.status_code == 303, launched.get_data(as_text=True)
    deleted, value, attributes = _set_cookie(launched)
    assert (deleted, value) == (name, "")
    assert "Max-Age=0" in attributes
    assert not _names(attributes) & {"Secure", "SameSite", "Partitioned"}
    assert client.get_cookie(name, domain="jalon.test") is None
