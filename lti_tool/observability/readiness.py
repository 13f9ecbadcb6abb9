"""Whether this process can serve: its database answers, Redis too, migrations are at head.

A load balancer asks ``/readyz`` every few seconds on every instance: the database and Redis
are pinged each time (one round trip each); the schema's revision, which changes only on an
upgrade, is read at most every :data:`MIGRATIONS_TTL` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from redis.exceptions import RedisError

from lti_tool import migrations

log = logging.getLogger(__name__)
MIGRATIONS_TTL = 10.0
OK = "ok"


def _package_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """Return the heads and all revisions of the migrations this package ships (read once)."""
    global _revisions
    if _revisions is None:
        script = ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))
        known = frozenset(revision.revision for revision in script.walk_revisions())
        _revisions = frozenset(script.get_heads()), known
    return _revisions


_revisions: tuple[frozenset[str], frozenset[str]] | None = None


class Readiness:
    """The checks of one app: its database engine and, when configured, its Redis client."""

    def __init__(self, engine: sa.Engine, redis: Any | None) -> None:
        self.engine = engine
        self.redis = redis
        self._revision_checked = 0.0
        self._revision_result = OK
        self._lock = threading.Lock()

    def checks(self) -> dict[str, str]:
        """Return each check's result: ``ok``, ``not configured`` or what is wrong."""
        result = {"database": self._database()}
        result["migrations"] = (
            self._migrations() if result["database"] == OK else "unknown (database unreachable)"
        )
        result["redis"] = self._redis()
        return result

    def _database(self) -> str:
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            log.warning("readiness: database unreachable (%s)", type(exc).__name__)
            return "unreachable"
        return OK

    def _migrations(self) -> str:
        now = time.monotonic()
        with self._lock:
            if self._revision_checked and now - self._revision_checked < MIGRATIONS_TTL:
                return self._revision_result
        try:
            with self.engine.connect() as connection:
                current = frozenset(MigrationContext.configure(connection).get_current_heads())
        except sa.exc.SQLAlchemyError as exc:
            log.warning("readiness: revision unreadable (%s)", type(exc).__name__)
            return "unreadable"
        expected, known = _package_revisions()
        if current == expected:
            result = OK
        elif current and not current <= known:
            # Upgraded by a newer version during a rolling upgrade: its migrations keep the
            # previous version working, so this instance goes on serving.
            result = f"{OK} (database at {_names(current)}, newer than this code)"
        else:
            # Revision ids only: they say which `jalon db upgrade` is missing.
            result = f"database at {_names(current)}, code expects {_names(expected)}"
        with self._lock:
            self._revision_checked, self._revision_result = now, result
        return result

    def _redis(self) -> str:
        if self.redis is None:
            return "not configured"
        try:
            self.redis.ping()
        except (RedisError, OSError) as exc:
            log.warning("readiness: Redis unreachable (%s)", type(exc).__name__)
            return "unreachable"
        return OK


def _names(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "none"


def failing(checks: dict[str, str]) -> list[str]:
    """Return the names of the checks that failed."""
    return [
        name
        for name, result in checks.items()
        if result != "not configured" and result.partition(" ")[0] != OK
    ]
