"""The demo LMS's own SQLite file, and one session per request like Jalon's."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.demo.models import DemoBase

DATABASE_FILE = "demo-lms.db"


class DemoDatabase(Database):
    """The engine and sessions of the demo LMS (``demo-lms.db`` in the instance folder)."""

    def __init__(self, path: Path) -> None:
        # The engine creates the file and its folder owner-only.
        super().__init__(f"sqlite:///{path}", name="jalon.demo.db")

    def create_all(self) -> None:
        """Create the tables that are missing (the demo has no migrations)."""
        DemoBase.metadata.create_all(self.engine)


def demo_session() -> Session:
    """Return the current request's demo session, opening it on first use."""
    database: DemoDatabase = current_app.extensions["jalon.demo"].database
    return database.request_session()
