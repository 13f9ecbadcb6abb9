"""Short-lived LTI data on the server: used nonces and launch data.

Two implementations of one small interface: the ``lti_cache`` table (the default; its
writes join the request's transaction, so a rejected launch leaves nothing behind) and
Redis (``JALON_REDIS_URL``, shared by every app process). ``add`` is the atomic
"add if absent" that makes a nonce single-use. Expired rows of the table are deleted by
the retention purge (:mod:`lti_tool.privacy.purge`, every few minutes in ``jalon serve``);
until then they are ignored by reads and overwritten by adds.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import CacheEntry
from xapi.prepared import Prepared


class LtiStore(Protocol):
    """Keys with a time to live (seconds); values are text (JSON)."""

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Store ``value`` only if ``key`` is absent; return whether it was stored."""

    def set(self, key: str, value: str, ttl: int) -> None:
        """Store ``value`` under ``key``, replacing any previous one."""

    def get(self, key: str) -> str | None:
        """Return the live value of ``key``, or None."""

    def get_many(self, *keys: str) -> dict[str, str]:
        """Return the live values of several keys in one round trip (absent keys left out)."""

    def delete(self, key: str) -> None:
        """Forget ``key``."""

    def consume(self, key: str, ttl: int, entry: tuple[str, str, int]) -> bool:
        """Mark ``key`` used if it is not yet (a nonce); if so, also store ``entry``.

        ``entry`` is a ``(key, value, ttl)`` stored only when ``key`` was marked here.
        Return whether it was: ``False`` leaves the store as it was.
        """


TABLE = CacheEntry.__table__
_KEY, _VALUE, _EXPIRES = sa.bindparam("key"), sa.bindparam("value"), sa.bindparam("expires_at")
_NOW = sa.bindparam("now")
# Built once: a launch runs several of these, and building and keying a statement costs
# about as much as running it on SQLite.
_GET_MANY = sa.select(TABLE.c.key, TABLE.c.value).where(
    TABLE.c.key.in_(sa.bindparam("keys", expanding=True)), TABLE.c.expires_at > _NOW
)
# One key, on the driver: every page of a launched session reads its launch this way.
_GET = Prepared(sa.select(TABLE.c.value).where(TABLE.c.key == _KEY, TABLE.c.expires_at > _NOW))
_DELETE = sa.delete(TABLE).where(TABLE.c.key == _KEY)


@functools.cache
def _consume(dialect: str) -> Prepared:
    """Return the one statement of :meth:`DatabaseStore.consume`.

    Two rows: the used key and the entry. A live row blocks its key, so the statement
    writes two rows exactly when the used key was free (the entry's key is fresh). The
    row count says so: RETURNING several rows costs SQLite four times the statement.
    """
    insert = _insert(dialect)
    # INSERT ... SELECT rather than a multi-row VALUES, which SQLAlchemy compiles anew at
    # every execution (~0.3 ms); "WHERE true" keeps SQLite's upsert parser unambiguous.
    rows = sa.union_all(
        *(
            sa.select(
                sa.bindparam(f"key{n}", type_=TABLE.c.key.type),
                sa.bindparam(f"value{n}", type_=TABLE.c.value.type),
                sa.bindparam(f"expires_at{n}", type_=TABLE.c.expires_at.type),
            ).where(sa.true())
            for n in range(2)
        )
    )
    return Prepared(
        insert.from_select(["key", "value", "expires_at"], rows).on_conflict_do_update(
            index_elements=["key"],
            set_={"value": insert.excluded.value, "expires_at": insert.excluded.expires_at},
            where=TABLE.c.expires_at <= _NOW,
        )
    )


def _insert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(TABLE)
    if dialect == "sqlite":
        return sqlite.insert(TABLE)
    raise NotImplementedError(f"no atomic insert for {dialect}")


@functools.cache
def _upserts(dialect: str) -> tuple[sa.Executable, sa.Executable]:
    """Return the (add if absent or expired, set) statements of a dialect."""
    insert = _insert(dialect)
    values = insert.values(key=_KEY, value=_VALUE, expires_at=_EXPIRES)
    replace = {"value": insert.excluded.value, "expires_at": insert.excluded.expires_at}
    add = values.on_conflict_do_update(
        # An expired entry does not block its key: it is overwritten in the same statement.
        index_elements=["key"],
        set_=replace,
        where=TABLE.c.expires_at <= _NOW,
    ).returning(TABLE.c.key)
    put = values.on_conflict_do_update(index_elements=["key"], set_=replace)
    return add, put


class DatabaseStore:
    """The ``lti_cache`` table, written in the given (request) session.

    Statements are Core ones on the session's connection: same transaction, less overhead.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Insert unless a live entry exists; concurrent adds wait for each other's commit."""
        now = utcnow()
        connection = self.session.connection()
        add, _ = _upserts(connection.dialect.name)
        parameters = {
            "key": key,
            "value": value,
            "expires_at": now + dt.timedelta(seconds=ttl),
            "now": now,
        }
        # RETURNING rather than rowcount, which drivers report differently for upserts.
        return connection.execute(add, parameters).first() is not None

    def set(self, key: str, value: str, ttl: int) -> None:
        """Insert or replace an entry."""
        connection = self.session.connection()
        _, put = _upserts(connection.dialect.name)
        expires_at = utcnow() + dt.timedelta(seconds=ttl)
        connection.execute(put, {"key": key, "value": value, "expires_at": expires_at})

    def get(self, key: str) -> str | None:
        """Return a live value."""
        row = _GET.first(self.session.connection(), {"key": key, "now": utcnow()})
        return None if row is None else str(row["value"])

    def get_many(self, *keys: str) -> dict[str, str]:
        """Return live values, one query."""
        rows = self.session.connection().execute(_GET_MANY, {"keys": list(keys), "now": utcnow()})
        return dict(rows.all())

    def delete(self, key: str) -> None:
        """Delete an entry."""
        self.session.connection().execute(_DELETE, {"key": key})

    def consume(self, key: str, ttl: int, entry: tuple[str, str, int]) -> bool:
        """Mark and store in one statement; concurrent ones wait for each other.

        The entry's key must be fresh (a launch id): a live entry under it would not be
        replaced, and the call would report ``key`` as taken.
        """
        now = utcnow()
        entry_key, value, entry_ttl = entry
        parameters = {
            "now": now,
            "key0": key,
            "value0": "1",
            "expires_at0": now + dt.timedelta(seconds=ttl),
            "key1": entry_key,
            "value1": value,
            "expires_at1": now + dt.timedelta(seconds=entry_ttl),
        }
        connection = self.session.connection()
        if _consume(connection.dialect.name).rowcount(connection, parameters) == 2:
            return True
        # ``key`` was taken: take back the entry.
        connection.execute(_DELETE, {"key": entry_key})
        return False


class RedisStore:
    """Redis, shared by every app process; keys carry a prefix."""

    def __init__(self, client: RedisClient, prefix: str = "jalon:lti:") -> None:
        self.client = client
        self.prefix = prefix

    def add(self, key: str, value: str, ttl: int) -> bool:
        """``SET NX EX``: atomic across processes."""
        return bool(self.client.set(self.prefix + key, value, nx=True, ex=max(1, ttl)))

    def set(self, key: str, value: str, ttl: int) -> None:
        """``SET EX``."""
        self.client.set(self.prefix + key, value, ex=max(1, ttl))

    def get(self, key: str) -> str | None:
        """``GET``, decoded."""
        value = self.client.get(self.prefix + key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def get_many(self, *keys: str) -> dict[str, str]:
        """``MGET``, decoded."""
        values = self.client.mget([self.prefix + key for key in keys])
        return {
            key: value.decode() if isinstance(value, bytes) else str(value)
            for key, value in zip(keys, values, strict=True)
            if value is not None
        }

    def delete(self, key: str) -> None:
        """``DEL``."""
        self.client.delete(self.prefix + key)

    def consume(self, key: str, ttl: int, entry: tuple[str, str, int]) -> bool:
        """``SET NX EX``, then ``SET EX``; a failure in between gives ``key`` back.

        Redis is not transactional, and a nonce kept by a launch that was not stored
        would refuse the genuine retry.
        """
        if not self.add(key, "1", ttl):
            return False
        try:
            self.set(*entry)
        except BaseException:
            self.delete(key)
            raise
        return True


class RedisClient(Protocol):
    """The part of ``redis.Redis`` the store uses."""

    def set(self, name: str, value: str, ex: int | None = None, nx: bool = False) -> bool | None:
        """Set a value."""

    def get(self, name: str) -> bytes | str | None:
        """Get a value."""

    def mget(self, keys: list[str]) -> list[bytes | str | None]:
        """Get several values."""

    def delete(self, *names: str) -> int:
        """Delete keys."""
