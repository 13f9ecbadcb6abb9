"""The purge ``jalon serve`` runs: one process's turn at a time, drafts once a day."""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa
from flask import Flask

from lti_tool import create_app
from lti_tool.cli.purge import scheduled_purge, start_background_purge
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.models import CacheEntry
from lti_tool.privacy.purge import LEASE_PREFIX


def _expired(database: Database, *keys: str) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with database.session() as session:
        session.add_all(CacheEntry(key=key, value="1", expires_at=past) for key in keys)


def _keys(database: Database) -> set[str]:
    with database.session() as session:
        return set(session.scalars(sa.select(CacheEntry.key)))


def _process(settings: Settings, database: Database) -> Flask:
    """An app as each worker of ``jalon serve`` builds its own."""
    return create_app(settings, database=database)


def test_processes_take_turns_and_only_the_first_purges(
    settings: Settings, clean_database: Database
) -> None:
    first, second = _process(settings, clean_database), _process(settings, clean_database)
    _expired(clean_database, "nonce-1", "nonce-2")
    report = scheduled_purge(first)
    assert report is not None
    assert report.counts["lti_cache"] == 2
    _expired(clean_database, "nonce-3")
    # Within the ten minutes of the first one's turn, the second does not purge.
    assert scheduled_purge(second) is None
    assert scheduled_purge(first) is None
    assert "nonce-3" in _keys(clean_database)
    # The turns are rows of the cache the purge never removes itself.
    assert {LEASE_PREFIX + "turn", LEASE_PREFIX + "drafts-turn"} <= _keys(clean_database)


def test_the_background_thread_purges_and_stops(
    settings: Settings, clean_database: Database
) -> None:
    _expired(clean_database, "nonce-1")
    stop = start_background_purge(_process(settings, clean_database), spread=0)
    try:
        deadline = time.monotonic() + 30
        while "nonce-1" in _keys(clean_database) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()
    assert "nonce-1" not in _keys(clean_database)
