"""The LTI store on the database and on Redis: single-use adds, expiry, and launches."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.lti.storage import DatabaseStore, LtiStore, RedisStore
from lti_tool.models import CacheEntry
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.conftest import counts
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token, new_key


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, clean_database: Database) -> Iterator[LtiStore]:
    if request.param == "redis":
        yield RedisStore(request.getfixturevalue("redis_client"))
        return
    with clean_database.session() as session:
        yield DatabaseStore(session)


def test_add_is_single_use(store: LtiStore) -> None:
    assert store.add("nonce:a", "1", 60) is True
    assert store.add("nonce:a", "2", 60) is False
    assert store.get("nonce:a") == "1"
    assert store.add("nonce:b", "1", 60) is True


def test_set_get_delete(store: LtiStore) -> None:
    assert store.get("launch:x") is None
    store.set("launch:x", '{"a": 1}', 60)
    store.set("launch:x", '{"a": 2}', 60)
    assert store.get("launch:x") == '{"a": 2}'
    store.delete("launch:x")
    assert store.get("launch:x") is None


def test_consume_marks_and_stores_once(store: LtiStore) -> None:
    assert store.consume("nonce:n", 60, ("launch:a", "A", 60)) is True
    assert store.get_many("nonce:n", "launch:a") == {"nonce:n": "1", "launch:a": "A"}
    # The nonce is taken: a second launch with it stores nothing.
    assert store.consume("nonce:n", 60, ("launch:b", "B", 60)) is False
    assert store.get("launch:b") is None
    assert store.get("launch:a") == "A"


def test_consume_takes_an_expired_nonce(clean_database: Database) -> None:
    with clean_database.session() as session:
        store = DatabaseStore(session)
        store.add("nonce:old", "1", 60)
        session.execute(
            sa.update(CacheEntry).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
        assert store.consume("nonce:old", 60, ("launch:c", "C", 60)) is True
        assert store.get_many("nonce:old", "launch:c") == {"nonce:old": "1", "launch:c": "C"}


def test_database_entries_expire(clean_database: Database) -> None:
    with clean_database.session() as session:
        store = DatabaseStore(session)
        store.add("nonce:old", "1", 60)
        session.execute(
            sa.update(CacheEntry).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
        assert store.get("nonce:old") is None
        # An expired nonce no longer blocks its key.
        assert store.add("nonce:old", "2", 60) is True


def test_redis_entries_expire(redis_client: Any) -> None:
    store = RedisStore(redis_client)
    store.add("nonce:ttl", "1", 60)
    assert 0 < redis_client.ttl("jalon:lti:nonce:ttl") <= 60


def test_concurrent_adds_on_the_database_let_one_through(clean_database: Database) -> None:
    """Two workers consuming the same nonce at once: exactly one transaction wins."""
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def consume() -> None:
        try:
            with clean_database.session() as session:
                barrier.wait(5)
                results.append(DatabaseStore(session).add("nonce:race", "1", 60))
        except sa.exc.OperationalError:
            results.append(False)  # SQLite's writer lock: the loser may fail outright

    threads = [threading.Thread(target=consume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [False, True]


@pytest.fixture
def redis_app(
    settings: Settings,
    clean_database: Database,
    redis_client: Any,
    moodle: TestPlatform,
    canvas: TestPlatform,
) -> Flask:
    app = create_app(
        dataclasses.replace(settings, redis_url="redis://configured-but-unused"),
        database=clean_database,
        redis=redis_client,
        jwks_fetcher=loopback_key_sets(),
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        moodle.register(session)
        canvas.register(session)
    return app


def _redis_keys(client: Any) -> set[bytes]:
    return set(client.scan_iter("jalon:*"))


def test_launch_with_redis(
    redis_app: Flask, redis_client: Any, clean_database: Database, canvas: TestPlatform
) -> None:
    browser = Browser(redis_app.test_client())
    token = landing_token(browser.launch(canvas, "instructor"))
    assert browser.get(f"/lti/activite?lt={token}").status_code == 200
    kinds = sorted(key.decode().split(":")[2] for key in _redis_keys(redis_client))
    assert kinds == ["launch", "nonce"]  # the state was used up; nothing in lti_cache
    assert counts(clean_database)["lti_cache"] == 0


def test_replay_with_redis(
    redis_app: Flask, redis_client: Any, clean_database: Database, moodle: TestPlatform
) -> None:
    browser = Browser(redis_app.test_client())
    login = browser.login(moodle)
    token = moodle.sign(moodle.claims(login.nonce))
    landing_token(browser.post_token(token, login.state))
    before = (counts(clean_database), _redis_keys(redis_client))
    replay = browser.post_token(token, login.state)
    assert replay.status_code == 403
    assert "LTI_NONCE_REPLAYED" in replay.get_data(as_text=True)
    assert (counts(clean_database), _redis_keys(redis_client)) == before


def test_rejected_launch_leaves_redis_unchanged(
    redis_app: Flask, redis_client: Any, clean_database: Database, moodle: TestPlatform
) -> None:
    browser = Browser(redis_app.test_client())
    login = browser.login(moodle)
    before = (counts(clean_database), _redis_keys(redis_client))
    forger, _ = new_key()
    response = browser.post_token(moodle.sign(moodle.claims(login.nonce), key=forger), login.state)
    assert response.status_code == 403
    assert (counts(clean_database), _redis_keys(redis_client)) == before
    # The state is still usable by the genuine token: the failed attempt used nothing up.
    landing_token(browser.post_token(moodle.sign(moodle.claims(login.nonce)), login.state))


def test_nonce_released_when_the_launch_cannot_be_stored(
    redis_app: Flask, redis_client: Any, moodle: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the nonce was taken gives it back (Redis is not transactional)."""
    browser = Browser(redis_app.test_client())
    login = browser.login(moodle)
    before = _redis_keys(redis_client)

    def broken_set(self: RedisStore, key: str, value: str, ttl: int) -> None:
        raise ConnectionError("redis went away")

    monkeypatch.setattr(RedisStore, "set", broken_set)
    response = browser.post_token(moodle.sign(moodle.claims(login.nonce)), login.state)
    assert response.status_code == 500
    assert _redis_keys(redis_client) == before
