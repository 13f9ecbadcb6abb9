"""Database engine, one session per request, and the declarative base.

Domain functions take the session as first argument and may ``flush()``; only the request
boundary (or a CLI command) commits, and only when the response is a success.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from flask import Flask, Response, g
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from lti_tool.instance import private_file
from xapi.columns import NAMING_CONVENTION, UTCDateTime, utcnow

created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow, nullable=False)]


class Base(DeclarativeBase):
    """Declarative base of every table, with stable constraint names for migrations."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str) -> sa.Engine:
    """Create the engine, with SQLite made safe for a threaded server.

    Statements' parameters never reach logs or error messages (``hide_parameters``): they
    hold names, e-mail addresses, submitted work and tokens.
    """
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False}, hide_parameters=True
        )

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
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _private_sqlite_file(url: str) -> None:
    """Create a SQLite database file owner-only before SQLite makes it with the umask's mode.

    SQLite gives the ``-wal`` and ``-shm`` files the database file's mode, so they follow.
    """
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    private_file(Path(database))


class Database:
    """An engine, its session factory, and one session per request of an app.

    ``name`` tells databases of one app apart (Jalon's, and the demo LMS's own file).
    """

    def __init__(self, url: str, name: str = "jalon.db") -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.name = name
        self._key = f"session:{name}"

    def request_session(self) -> Session:
        """Return the current request's session, opening it on first use."""
        session: Session | None = g.get(self._key)
        if session is None:
            session = self.sessions()
            setattr(g, self._key, session)
        return session

    def init_app(self, app: Flask) -> None:
        """Open a session lazily per request; commit on success, roll back otherwise."""
        app.extensions[self.name] = self

        @app.after_request
        def _commit_on_success(response: Response) -> Response:
            session: Session | None = g.pop(self._key, None)
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
            session: Session | None = g.pop(self._key, None)
            if session is not None:
                session.rollback()
                session.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Give a session outside a request (CLI); commit if the block succeeds."""
        with self.sessions() as session, session.begin():
            yield session


def db_session() -> Session:
    """Return the current request's session of Jalon's database."""
    from flask import current_app

    database: Database = current_app.extensions["jalon.db"]
    return database.request_session()
