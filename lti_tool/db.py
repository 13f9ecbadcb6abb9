"""Database engine, one session per request, and the declarative base.

Domain functions take the session as first argument and may ``flush()``; only the request
boundary (or a CLI command) commits, and only when the response is a success.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import sqlalchemy as sa
from flask import Flask, Response, g
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zones; without this, values written aware come back naive.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        """Refuse naive datetimes and store the UTC instant."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        """Read a stored instant back as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow, nullable=False)]


class Base(DeclarativeBase):
    """Declarative base of every table, with stable constraint names for migrations."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str) -> sa.Engine:
    """Create the engine, with SQLite made safe for a threaded server."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL never corrupts the file and spares an fsync per commit
            # (~7 ms here); a power cut may only lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class Database:
    """The engine and session factory of one app."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def init_app(self, app: Flask) -> None:
        """Open a session lazily per request; commit on success, roll back otherwise."""
        app.extensions["jalon.db"] = self

        @app.after_request
        def _commit_on_success(response: Response) -> Response:
            session: Session | None = g.pop("db_session", None)
            if session is not None:
                try:
                    if response.status_code < 400:
                        session.commit()
                    else:
                        session.rollback()
                finally:
                    session.close()
            return response

        @app.teardown_request
        def _close(_exc: BaseException | None) -> None:
            session: Session | None = g.pop("db_session", None)
            if session is not None:
                session.rollback()
                session.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Give a session outside a request (CLI); commit if the block succeeds."""
        with self.sessions() as session, session.begin():
            yield session


def db_session() -> Session:
    """Return the current request's session, opening it on first use."""
    if "db_session" not in g:
        from flask import current_app

        g.db_session = current_app.extensions["jalon.db"].sessions()
    session: Session = g.db_session
    return session
