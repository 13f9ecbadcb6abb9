"""Item 7: the admin area — where ``next=`` may lead, server-side sessions, sign-in limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.config import ConfigError, Settings
from lti_tool.db import Database
from lti_tool.models import AdminSession

TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)
HOME = "/admin/"


def _app(settings: Settings, database: Database, **services: Any) -> Flask:
    return create_app(
        dataclasses.replace(settings, admin_token=TOKEN, admin_session_hours=2),
        database=database,
        **services,
    )


@pytest.fixture
def admin_app(settings: Settings, clean_database: Database) -> Flask:
    return _app(settings, clean_database)


def _csrf(client: FlaskClient, **kwargs: Any) -> str:
    page = client.get("/admin/connexion", **kwargs).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the sign-in page has no CSRF field"
    return match.group(1)


def _sign_in(client: FlaskClient, token: str = TOKEN, query: str = "", **kwargs: Any) -> Any:
    return client.post(
        f"/admin/connexion{query}",
        data={"token": token, "csrf_token": _csrf(client, **kwargs)},
        **kwargs,
    )


def _is_admin(client: FlaskClient) -> bool:
    response = client.get("/admin/plateformes/", headers={"Accept": "application/json"})
    assert response.status_code in {200, 401}
    return response.status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example/",
        "//evil",
        "/\\evil",
        "\n",
        "/admin/\r\nSet-Cookie: x=1",
        "https://evil",
        "/%2F/evil.example/",
        "/%5Cevil.example/",
        "/%09/evil.example/",
        "javascript:alert(1)",
        "/\u200b/evil.example",
    ],
)
def test_item7_next_accepts_only_a_local_path(admin_app: Flask, target: str) -> None:
    response = _sign_in(admin_app.test_client(), query="?" + urlencode({"next": target}))
    assert response.status_code == 302
    assert response.headers["Location"] == HOME


def test_item7_next_from_the_raw_query_never_gives_a_500(admin_app: Flask) -> None:
    # As a browser sends them: percent-encoded tab, newline, backslash.
    for query in ("?next=/%09/evil.example/", "?next=%0a", "?next=/%5Cevil", "?next=/%0d%0aX:1"):
        response = _sign_in(admin_app.test_client(), query=query)
        assert response.status_code == 302, query
        assert response.headers["Location"] == HOME, query


def test_item7_next_keeps_a_local_path(admin_app: Flask) -> None:
    response = _sign_in(admin_app.test_client(), query="?next=/admin/plateformes/%3Fx%3D1")
    assert response.headers["Location"] == "/admin/plateformes/?x=1"


def test_item7_sign_out_ends_the_session_on_the_server(
    admin_app: Flask, clean_database: Database
) -> None:
    client = admin_app.test_client()
    assert _sign_in(client).status_code == 302
    cookie = client.get_cookie("jalon_admin")
    assert cookie is not None
    assert _is_admin(client)
    copy = admin_app.test_client()
    copy.set_cookie("jalon_admin", cookie.value)
    assert _is_admin(copy)

    token = _csrf(client)
    assert client.post("/admin/deconnexion", data={"csrf_token": token}).status_code == 302

    assert not _is_admin(client)
    # The copied cookie is still validly signed, but its session is over.
    assert not _is_admin(copy)
    assert copy.get("/admin/plateformes/").status_code == 302
    with clean_database.session() as session:
        row = session.scalars(sa.select(AdminSession)).one()
        assert row.ended_at is not None


def test_item7_sessions_have_an_absolute_lifetime(
    admin_app: Flask, clean_database: Database
) -> None:
    client = admin_app.test_client()
    _sign_in(client)
    with clean_database.session() as session:
        row = session.scalars(sa.select(AdminSession)).one()
        assert row.expires_at - row.created_at == dt.timedelta(hours=2)
        # Only a hash of the cookie's secret is stored.
        assert client.get_cookie("jalon_admin").value.find(row.id) == -1  # type: ignore[union-attr]
    assert _is_admin(client)
    with clean_database.session() as session:
        # Two hours later, however busy the administrator was.
        session.execute(
            sa.update(AdminSession).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
    assert not _is_admin(client)
    assert client.get("/admin/plateformes/").status_code == 302
    # Signing in again opens a new session; the sessions that are over are deleted.
    _sign_in(client)
    assert _is_admin(client)
    with clean_database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AdminSession)) == 1


def test_item7_failed_sign_ins_are_limited_and_logged(
    admin_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = admin_app.test_client()
    wrong = "wrong-token-guess-0123456789"
    with caplog.at_level(logging.WARNING, logger="lti_tool.auth"):
        for _ in range(5):
            assert _sign_in(client, wrong).status_code == 401
        # The right token no longer opens anything from this address for a while.
        refused = _sign_in(client)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    page = refused.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "Trop d’essais" in page
    assert not _is_admin(client)
    failures = [r for r in caplog.records if "sign-in failed" in r.getMessage()]
    assert len(failures) == 5
    assert all(r.levelno == logging.WARNING and "127.0.0.1" in r.getMessage() for r in failures)
    assert all(wrong not in r.getMessage() and TOKEN not in r.getMessage() for r in caplog.records)
    assert wrong not in caplog.text
    assert TOKEN not in caplog.text

    # Another address is not affected.
    elsewhere = admin_app.test_client()
    other = {"environ_base": {"REMOTE_ADDR": "192.0.2.7"}}
    assert _sign_in(elsewhere, **other).status_code == 302


def test_item7_the_limit_is_shared_by_the_workers(
    settings: Settings, clean_database: Database
) -> None:
    """Two apps on one database stand for two gunicorn workers."""
    first = _app(settings, clean_database).test_client()
    second = _app(settings, clean_database).test_client()
    for client in (first, second, first, second, first):
        assert _sign_in(client, "nope-nope-nope-nope-nope").status_code == 401
    assert _sign_in(second).status_code == 429


def test_item7_a_success_is_not_counted(admin_app: Flask) -> None:
    client = admin_app.test_client()
    for _ in range(6):
        assert _sign_in(client).status_code == 302


@pytest.fixture
def redis_client() -> Iterator[Any]:
    redis = pytest.importorskip("redis")
    url = os.environ.get("JALON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url, socket_timeout=2.0)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        pytest.skip(f"Redis is not reachable at {url} (start redis-server)")
    try:
        yield client
    finally:
        for key in client.scan_iter("jalon:*"):
            client.delete(key)
        client.close()


def test_item7_the_limit_lives_in_redis_when_configured(
    settings: Settings, clean_database: Database, redis_client: Any
) -> None:
    first = _app(settings, clean_database, redis=redis_client).test_client()
    second = _app(settings, clean_database, redis=redis_client).test_client()
    for client in (first, second, first, second, first):
        assert _sign_in(client, "nope-nope-nope-nope-nope").status_code == 401
    assert _sign_in(second).status_code == 429
    assert list(redis_client.scan_iter("jalon:rate:*"))
    with clean_database.engine.connect() as connection:
        assert not connection.scalar(sa.text("SELECT count(*) FROM lti_cache"))


@pytest.mark.parametrize("value", ["0", "73", "eight", "-1"])
def test_item7_session_hours_setting_is_checked(value: str) -> None:
    env = {"JALON_SECRET_KEY": "x" * 32, "JALON_ADMIN_SESSION_HOURS": value}
    with pytest.raises(ConfigError, match="JALON_ADMIN_SESSION_HOURS"):
        Settings.from_env(env)


def test_item7_session_hours_setting_default_and_value() -> None:
    env = {"JALON_SECRET_KEY": "x" * 32}
    assert Settings.from_env(env).admin_session_hours == 8
    assert Settings.from_env({**env, "JALON_ADMIN_SESSION_HOURS": "72"}).admin_session_hours == 72
