"""Every row of the database, to prove a refused request wrote nothing."""

from __future__ import annotations

import sqlalchemy as sa

from lti_tool.db import Base, Database
from xapi.outbox import outbox


def every_row(database: Database) -> dict[str, list[str]]:
    """Return the rows of every table (the xAPI outbox included), each table sorted."""
    with database.engine.connect() as connection:
        return {
            table.name: sorted(map(repr, connection.execute(sa.select(table)).all()))
            for table in [*Base.metadata.sorted_tables, outbox]
        }
