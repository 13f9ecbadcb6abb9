"""``/readyz``: the database, Redis when configured, and the schema at the code's head."""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask.testing import FlaskClient

from lti_tool import create_app, migrations
from lti_tool.config import Settings


def _free_port() -> int:
    """Return a port of this suite's range on which nothing listens."""
    for port in range(18690, 18700):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.fail("no free port in 18690-18699")


def test_ready(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "redis": "not configured"},
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"


def test_a_database_behind_the_code_is_not_ready(settings: Settings, tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))
    (head,) = script.get_heads()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrations.upgrade(url, previous)
    app = create_app(dataclasses.replace(settings, database_url=url))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["migrations"]
    assert response.json["checks"]["migrations"] == (f"database at {previous}, code expects {head}")
    # Liveness is another question: the process is alive.
    assert app.test_client().get("/healthz").status_code == 200
    migrations.upgrade(url)
    # The revision is read again after a short while, not at each request.
    app.extensions["jalon.readiness"]._revision_checked = 0.0
    assert app.test_client().get("/readyz").status_code == 200


def test_a_database_upgraded_by_a_newer_version_stays_ready(
    settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    migrations.upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    response = (
        create_app(dataclasses.replace(settings, database_url=url)).test_client().get("/readyz")
    )
    assert response.status_code == 200, response.json
    assert response.json["checks"]["migrations"] == (
        "ok (database at 9999_future, newer than this code)"
    )


def test_an_empty_database_is_not_ready(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(dataclasses.replace(settings, database_url=url))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["migrations"]
    assert response.json["checks"]["migrations"].startswith("database at none")


def test_redis_down_is_not_ready(settings: Settings, clean_database: object) -> None:
    down = f"redis://127.0.0.1:{_free_port()}/0"
    app = create_app(dataclasses.replace(settings, redis_url=down), database=clean_database)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["redis"]
    assert response.json["checks"]["database"] == "ok"


def test_redis_up_is_ready(settings: Settings, clean_database: object) -> None:
    redis = pytest.importorskip("redis")
    url = os.environ.get("JALON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_timeout=2.0).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {url} (CI must start it)")
        pytest.skip(f"Redis is not reachable at {url} (start redis-server)")
    app = create_app(dataclasses.replace(settings, redis_url=url), database=clean_database)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["redis"] == "ok"
