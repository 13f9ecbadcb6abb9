"""What every command needs: settings, a database session, clear failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.config import ConfigError, Settings
from lti_tool.db import Database


def settings_from_env(**kwargs: Any) -> Settings:
    """Return the settings, or stop the command naming the wrong variable."""
    try:
        return Settings.from_env(**kwargs)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """Give a session that commits on success; close every connection afterwards.

    A database that was never migrated gets one clear message instead of a traceback.
    """
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            yield session
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise click.ClickException("the database is not ready: run `jalon db upgrade`") from exc
    finally:
        database.engine.dispose()
