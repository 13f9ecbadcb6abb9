"""Fixtures of the LTI tests: a key set server, Moodle and Canvas registrations, browsers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.models import CacheEntry, LtiContext, LtiMembership, LtiResourceLink, LtiUser
from tests.lti_tool.lti.platforms import Browser, JwksServer, TestPlatform, jwks_server

CANVAS_ISSUER = "https://canvas.instructure.com"


@pytest.fixture(scope="session")
def key_server() -> Iterator[JwksServer]:
    with jwks_server() as server:
        yield server


@pytest.fixture
def moodle(key_server: JwksServer) -> TestPlatform:
    return TestPlatform(
        kind="moodle",
        issuer="https://moodle.example.edu",
        client_id="Xq3kP0vZ8mLrT2a",
        deployment_id="1",
        server=key_server,
        name="moodle",
    )


@pytest.fixture
def canvas(key_server: JwksServer) -> TestPlatform:
    return TestPlatform(
        kind="canvas",
        issuer=CANVAS_ISSUER,
        client_id="10000000000042",
        deployment_id="2:4dde05e8ca1973bcca9bffc13e1548820eee93a3",
        server=key_server,
        name="canvas",
    )


@pytest.fixture
def canvas_other(key_server: JwksServer, canvas: TestPlatform) -> TestPlatform:
    """Another hosted Canvas: same issuer and key set, another developer key."""
    other = TestPlatform(
        kind="canvas",
        issuer=CANVAS_ISSUER,
        client_id="10000000000077",
        deployment_id="5:0f2d6c1e9b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c",
        server=key_server,
        name="canvas",
    )
    # Canvas signs every instance's launches with the same keys.
    other.key, other.jwk = canvas.key, canvas.jwk
    other.publish()
    return other


@pytest.fixture
def registered(
    app: Flask, clean_database: Database, moodle: TestPlatform, canvas: TestPlatform
) -> Flask:
    """The app, with the Moodle and Canvas registrations stored."""
    with clean_database.session() as session:
        moodle.register(session)
        canvas.register(session)
    return app


@pytest.fixture
def browser(registered: Flask) -> Browser:
    return Browser(registered.test_client())


def counts(database: Database) -> dict[str, int]:
    """Return how many rows each launch-written table holds."""
    with database.engine.connect() as connection:
        return {
            model.__tablename__: connection.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (LtiContext, LtiUser, LtiMembership, LtiResourceLink, CacheEntry)
        }


def redis_url() -> str:
    return os.environ.get("JALON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_client() -> Iterator[object]:
    """A Redis client on a test database, emptied of Jalon's keys; skips without Redis."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(redis_url(), socket_timeout=2.0)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {redis_url()} (CI must start it)")
        pytest.skip(f"Redis is not reachable at {redis_url()} (start redis-server)")
    try:
        yield client
    finally:
        for key in client.scan_iter("jalon:*"):
            client.delete(key)
        client.close()
