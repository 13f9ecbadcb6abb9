"""Alembic environment: Jalon's metadata and the URL given by ``lti_tool.migrations``."""

from __future__ import annotations

from alembic import context

import xapi.outbox
from lti_tool import models  # noqa: F401 (registers the tables)
from lti_tool.certification import models as certification_models  # noqa: F401
from lti_tool.db import Base, make_engine
from lti_tool.evaluation import models as evaluation_models  # noqa: F401
from lti_tool.privacy import models as privacy_models  # noqa: F401

config = context.config
target_metadata = [Base.metadata, xapi.outbox.metadata]


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A batch migration recreates a table; dropping the old one with foreign keys
            # enforced would cascade to its children. Only settable outside a transaction;
            # migrations that recreate a parent table check the keys themselves.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
