"""``/metrics``: who may read it, what a request adds, and the queues read at scrape time."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.config import ConfigError, Settings
from lti_tool.db import Database
from lti_tool.observability.metrics import ROUTE_GROUPS
from tests.lti_tool.observability.scraping import AUTH, TOKEN, scrape, total, value
from xapi import outbox


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, metrics_token=TOKEN)


def test_without_a_token_setting_there_is_no_metrics_page(
    settings: Settings, clean_database: Database
) -> None:
    app = create_app(dataclasses.replace(settings, metrics_token=None), database=clean_database)
    assert app.test_client().get("/metrics", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", f"Basic {TOKEN}", "Bearer wrong-token-0123456789abcdef", f"Bearer {TOKEN}x"],
)
def test_the_token_is_required(client: FlaskClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "jalon_" not in response.get_data(as_text=True)


def test_the_token_is_checked_when_settings_are_read() -> None:
    env = {"JALON_SECRET_KEY": "x" * 32, "JALON_METRICS_TOKEN": "too-short"}
    with pytest.raises(ConfigError, match="JALON_METRICS_TOKEN"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "JALON_METRICS_TOKEN": TOKEN}).metrics_token == TOKEN
    assert TOKEN not in repr(Settings.from_env({**env, "JALON_METRICS_TOKEN": TOKEN}))


def test_requests_are_timed_by_route_group(client: FlaskClient) -> None:
    before = scrape(client)
    client.get("/healthz")
    client.get("/referentiels/")
    client.get("/admin/")
    after = scrape(client)
    for group in ("health", "case", "admin"):
        count = "jalon_http_request_duration_seconds_count"
        assert total(after, count, group=group) >= total(before, count, group=group) + 1, group
    assert value(after, count, group="case", status="2xx") == (
        value(before, count, group="case", status="2xx") + 1
    )
    assert scrape(client)  # the scrape is cacheable by nobody
    assert client.get("/metrics", headers=AUTH).headers["Cache-Control"] == "no-store"


def test_unknown_paths_go_to_other_and_labels_stay_bounded(client: FlaskClient) -> None:
    before = scrape(client)
    for number in range(50):
        client.get(f"/no/such/page/{number}?lt=secret-{number}")
        client.post(f"/lti/unknown-{number}")
    after = scrape(client)
    count = "jalon_http_request_duration_seconds_count"
    assert value(after, count, group="other", status="4xx") >= (
        value(before, count, group="other", status="4xx") + 100
    )
    groups = {
        dict(labels)["group"]
        for name, labels in after
        if name.startswith("jalon_http_") and "group" in dict(labels)
    }
    assert groups <= set(ROUTE_GROUPS)
    assert not any("secret" in str(labels) or "unknown" in str(labels) for _, labels in after)


def test_queues_are_read_at_scrape_time(client: FlaskClient, clean_database: Database) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    with clean_database.engine.begin() as connection:
        for number, status in enumerate(["pending", "pending", "dead", "delivered"]):
            connection.execute(
                sa.insert(outbox.outbox).values(
                    statement_id=f"00000000-0000-4000-8000-00000000000{number}",
                    body="{}",
                    status=status,
                    attempts=0,
                    created_at=old + dt.timedelta(minutes=number),
                    next_attempt_at=old,
                )
            )
    found = scrape(client)
    assert value(found, "jalon_xapi_outbox_pending") == 2
    assert value(found, "jalon_xapi_outbox_dead") == 1
    assert 30 * 60 - 5 <= value(found, "jalon_xapi_relay_lag_seconds") <= 30 * 60 + 120
    assert value(found, "jalon_grades_pending") == 0
    assert value(found, "jalon_database_up") == 1


def test_an_empty_outbox_has_no_lag(client: FlaskClient) -> None:
    found = scrape(client)
    assert value(found, "jalon_xapi_outbox_pending") == 0
    assert value(found, "jalon_xapi_relay_lag_seconds") == 0


def test_pool_use_is_followed(app: Flask, client: FlaskClient) -> None:
    found = scrape(client)
    assert value(found, "jalon_db_pool_size") >= 1
    # This scrape's own connection is back in the pool by the time the body is written.
    assert value(found, "jalon_db_pool_checked_out") >= 0
    database: Database = app.extensions["jalon.db"]
    with database.engine.connect():
        assert value(scrape(client), "jalon_db_pool_checked_out") >= 1
