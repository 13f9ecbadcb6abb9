"""The demo LMS's own SQLite file, and one session per request like Jalon's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.db import make_engine
from lti_tool.demo.models import DemoBase

DATABASE_FILE = "demo-lms.db"


class DemoDatabase:
    """The engine and sessions of the demo LMS (``demo-lms.db`` in the instance folder)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(f"sqlite:///{path}")
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_all(self) -> None:
        """Create the tables that are missing (the demo has no migrations)."""
        DemoBase.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Give a session outside a request; commit if the block succeeds."""
        with self.sessions() as session, session.begin():
            yield session

    def init_app(self, app: Flask) -> None:
        """Commit the request's demo session on success, roll it back otherwise."""

        @app.after_request
        def _commit_on_success(response: Response) -> Response:
            session: Session | None = g.pop("demo_session", None)
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
            session: Session | None = g.pop("demo_session", None)
            if session is not None:
                session.rollback()
                session.close()


def demo_session() -> Session:
    """Return the current request's demo session, opening it on first use."""
    if "demo_session" not in g:
        g.demo_session = current_app.extensions["jalon.demo"].database.sessions()
    session: Session = g.demo_session
    return session
