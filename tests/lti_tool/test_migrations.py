"""Migrations go up, down and up again, and match the models."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lti_tool import migrations
from lti_tool.certification import models as _certification_models  # noqa: F401 (tables)
from lti_tool.db import Base, make_engine
from xapi import outbox

METADATA = [Base.metadata, outbox.metadata]
TABLES = {name for metadata in METADATA for name in metadata.tables}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrations.upgrade(url)
    assert _tables(url) == TABLES
    migrations.downgrade(url, "base")
    assert _tables(url) == set()
    migrations.upgrade(url)
    assert _tables(url) == TABLES


def test_models_and_migrations_agree(database_url: str) -> None:
    """The test database (SQLite, or PostgreSQL in CI) was built by migrations alone."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), METADATA)
    finally:
        engine.dispose()
    assert diff == []
