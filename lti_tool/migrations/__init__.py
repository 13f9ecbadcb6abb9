"""Run Alembic migrations without an ini file: the URL comes from Jalon's settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config pointing at Jalon's migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Upgrade the database to ``revision`` (default: every head)."""
    # The engine of env.py creates a SQLite file (and its folder) owner-only.
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Downgrade the database to ``revision`` (``base`` empties it)."""
    command.downgrade(alembic_config(database_url), revision)
