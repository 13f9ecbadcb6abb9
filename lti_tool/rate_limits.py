"""Per-address rate limits: failed admin sign-ins, Dynamic Registration requests.

Each limit is a fixed-window counter per (limit, client address). With ``JALON_REDIS_URL``
the counters live in Redis, shared by every process; otherwise in the ``lti_cache`` table,
written on a connection of their own and committed at once, so that a refused request
(whose own transaction is rolled back) still counts, and sibling workers share them too.
Addresses are kept hashed, and only until their window ends.

The client address is ``request.remote_addr``: behind the one reverse proxy that
``create_app`` trusts (``ProxyFix``), the address that proxy saw.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app, request
from sqlalchemy.dialects import postgresql, sqlite

from lti_tool.db import utcnow
from lti_tool.models import CacheEntry


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events per address in a window of ``seconds``."""

    name: str
    count: int
    seconds: int


# Failed sign-ins to the admin area, per address: slows token guessing to a crawl.
ADMIN_SIGN_IN_FAILURES = Limit("admin-sign-in", 5, 15 * 60)
# /lti/register requests per address (a registration is a GET then a POST): each fetches a
# URL the caller chose, so a caller may not make Jalon fetch without end.
REGISTRATION_REQUESTS = Limit("lti-register", 20, 10 * 60)


class Counter(Protocol):
    """Counts events in fixed windows."""

    def hit(self, key: str, seconds: int) -> tuple[int, int]:
        """Count one event; return the window's count and the seconds left in it."""

    def peek(self, key: str, seconds: int) -> tuple[int, int]:
        """Return the window's count and the seconds left in it, counting nothing."""


class RedisCounter:
    """Redis counters with a time to live: atomic across processes."""

    def __init__(self, client: Any, prefix: str = "jalon:rate:") -> None:
        self.client = client
        self.prefix = prefix

    def hit(self, key: str, seconds: int) -> tuple[int, int]:
        """``SET NX EX`` (opens the window), ``INCR``, ``TTL``, in one transaction."""
        name = self.prefix + key
        pipe = self.client.pipeline(transaction=True)
        pipe.set(name, 0, ex=seconds, nx=True)
        pipe.incr(name)
        pipe.ttl(name)
        _, count, ttl = pipe.execute()
        return int(count), max(1, int(ttl))

    def peek(self, key: str, seconds: int) -> tuple[int, int]:
        """``GET`` and ``TTL``."""
        pipe = self.client.pipeline(transaction=False)
        pipe.get(self.prefix + key)
        pipe.ttl(self.prefix + key)
        value, ttl = pipe.execute()
        return (int(value) if value is not None else 0), max(1, int(ttl))


TABLE = CacheEntry.__table__


@functools.cache
def _increment(dialect: str) -> sa.Executable:
    """Return the upsert that adds one to a window's counter and returns it."""
    insert: postgresql.Insert | sqlite.Insert
    insert = postgresql.insert(TABLE) if dialect == "postgresql" else sqlite.insert(TABLE)
    counted = sa.cast(sa.cast(TABLE.c.value, sa.Integer) + 1, sa.Text)
    return (
        insert.values(key=sa.bindparam("key"), value="1", expires_at=sa.bindparam("expires_at"))
        .on_conflict_do_update(index_elements=["key"], set_={"value": counted})
        .returning(TABLE.c.value)
    )


class DatabaseCounter:
    """Counters in the ``lti_cache`` table, one row per address and window.

    The row expires with its window; the LTI store's purge deletes it.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @staticmethod
    def _window(key: str, seconds: int) -> tuple[str, dt.datetime, int]:
        now = time.time()
        index = int(now // seconds)
        end = (index + 1) * seconds
        expires_at = dt.datetime.fromtimestamp(end, dt.UTC)
        return f"rate:{key}:{index}", expires_at, max(1, math.ceil(end - now))

    def hit(self, key: str, seconds: int) -> tuple[int, int]:
        """Insert the window's row or add one to it, committed at once."""
        name, expires_at, left = self._window(key, seconds)
        with self.engine.begin() as connection:
            statement = _increment(connection.dialect.name)
            value = connection.execute(statement, {"key": name, "expires_at": expires_at}).scalar()
        return int(value or 0), left

    def peek(self, key: str, seconds: int) -> tuple[int, int]:
        """Read the window's row."""
        name, _, left = self._window(key, seconds)
        query = sa.select(TABLE.c.value).where(TABLE.c.key == name, TABLE.c.expires_at > utcnow())
        with self.engine.connect() as connection:
            value = connection.execute(query).scalar()
        return (int(value) if value is not None else 0), left


def counter() -> Counter:
    """Return the current app's counters: Redis when configured, else the database."""
    found: Counter | None = current_app.extensions.get("jalon.rate_counter")
    if found is None:
        redis = current_app.extensions["jalon.lti"].redis
        if redis is not None:
            found = RedisCounter(redis)
        else:
            found = DatabaseCounter(current_app.extensions["jalon.db"].engine)
        current_app.extensions["jalon.rate_counter"] = found
    return found


def client_address() -> str:
    """Return the address the request came from (behind the trusted proxy, the client's)."""
    return request.remote_addr or "unknown"


def _key(limit: Limit, address: str) -> str:
    # Hashed: the counters need to tell addresses apart, not to know them.
    digest = hashlib.sha256(f"{limit.name}\n{address}".encode()).hexdigest()[:32]
    return f"{limit.name}:{digest}"


def count(limit: Limit, address: str | None = None) -> int | None:
    """Count one event of the current client; return seconds to wait if it is over the limit."""
    events, left = counter().hit(_key(limit, address or client_address()), limit.seconds)
    return left if events > limit.count else None


def blocked(limit: Limit, address: str | None = None) -> int | None:
    """Return seconds to wait if the current client already used up the limit, else None."""
    events, left = counter().peek(_key(limit, address or client_address()), limit.seconds)
    return left if events >= limit.count else None
