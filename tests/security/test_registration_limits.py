"""Item 3: ``/lti/register`` fetches URLs its caller chose, so it is limited.

Per client address (20 requests in 10 minutes, shared by every process through the
database or Redis) and per process (2 registrations at once; the next ones are answered
503 at once, never queued), so that slow configuration URLs cannot hold every worker
thread: ``/healthz`` stays fast with registrations stuck on a slow platform.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from tests.lti_tool.registration.conftest import loopback_http
from tests.security.slow_servers import SlowPlatform, get, serving_on_threads

DELAY = 2.0


def _app(settings: Settings, database: Database) -> Flask:
    return create_app(
        dataclasses.replace(settings, registration_cache_seconds=0),
        database=database,
        registration_http=loopback_http(),
    )


@pytest.fixture
def jalon_app(settings: Settings, clean_database: Database) -> Flask:
    return _app(settings, clean_database)


def test_item3_registration_requests_are_limited_per_address(jalon_app: Flask) -> None:
    client = jalon_app.test_client()
    for _ in range(20):
        # No configuration URL: refused, but counted like any other request.
        assert client.get("/lti/register").status_code == 400
    limited = client.get("/lti/register")
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 600
    page = limited.get_data(as_text=True)
    assert "<h1>Trop de demandes" in page
    assert "Trop de demandes d’enregistrement depuis votre adresse" in page
    as_json = client.get("/lti/register", headers={"Accept": "application/json"})
    assert as_json.status_code == 429
    assert as_json.get_json()["error"]["status"] == 429
    # The confirmation counts too: it fetches the configuration again.
    assert client.post("/lti/register", data={}).status_code == 429
    # Another address is not affected.
    other = client.get("/lti/register", environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert other.status_code == 400


def test_item3_behind_the_proxy_the_client_address_counts(jalon_app: Flask) -> None:
    client = jalon_app.test_client()
    for _ in range(20):
        client.get("/lti/register", headers={"X-Forwarded-For": "203.0.113.9"})
    limited = client.get("/lti/register", headers={"X-Forwarded-For": "203.0.113.9"})
    assert limited.status_code == 429
    # The proxy's own address (127.0.0.1 here) and other clients go on.
    assert (
        client.get("/lti/register", headers={"X-Forwarded-For": "203.0.113.10"}).status_code == 400
    )
    assert client.get("/lti/register").status_code == 400


def test_item3_the_limit_is_shared_by_the_workers(
    settings: Settings, clean_database: Database
) -> None:
    first = _app(settings, clean_database).test_client()
    second = _app(settings, clean_database).test_client()
    for index in range(20):
        assert (first if index % 2 else second).get("/lti/register").status_code == 400
    assert first.get("/lti/register").status_code == 429
    assert second.get("/lti/register").status_code == 429


def test_item3_slow_configuration_urls_cannot_hold_every_worker(jalon_app: Flask) -> None:
    """Six registrations stuck on a slow platform; a server of four threads; /healthz."""
    with SlowPlatform(DELAY) as slow, serving_on_threads(jalon_app, threads=4) as base:
        url = f"{base}/lti/register?" + urlencode({"openid_configuration": slow.url})
        with ThreadPoolExecutor(6) as pool:
            started = threading.Event()

            def register() -> tuple[int, dict[str, str], float]:
                started.set()
                return get(url)

            flood = [pool.submit(register) for _ in range(6)]
            started.wait()
            time.sleep(0.3)
            status, _headers, health_seconds = get(f"{base}/healthz")
            answers = [future.result() for future in flood]
        assert status == 200
        # Two registrations wait on the platform; the server has threads left for the rest.
        assert health_seconds < DELAY / 2, f"/healthz took {health_seconds:.2f} s"
        assert slow.served == 2
        statuses = sorted(answer[0] for answer in answers)
        assert statuses == [424, 424, 503, 503, 503, 503]
        busy = [answer for answer in answers if answer[0] == 503]
        assert all(answer[2] < DELAY / 2 for answer in busy), "a busy answer must not wait"
        assert all(int(answer[1]["Retry-After"]) > 0 for answer in busy)
        # Once they are done, registrations are served again.
        assert get(url)[0] == 424
