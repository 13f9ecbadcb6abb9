"""Prepared statements: SQLAlchemy's SQL and type conversions, run on the driver's cursor.

Each check compares with what SQLAlchemy's own execution gives, on the test database
(SQLite here, PostgreSQL under JALON_TEST_DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from lti_tool.db import Database
from lti_tool.models import LtiContext, LtiResourceLink, Platform
from xapi import outbox
from xapi.prepared import Prepared

WHEN = dt.datetime(2026, 11, 29, 8, 30, 15, 123456, tzinfo=dt.UTC)


def _pending(statement_id: str, body: str = '{"id": "x"}') -> dict[str, object]:
    return {
        "statement_id": statement_id,
        "body": body,
        "status": "pending",
        "attempts": 0,
        "created_at": WHEN,
        "next_attempt_at": WHEN + dt.timedelta(seconds=1),
    }


def test_an_insert_writes_what_sqlalchemy_reads_back(clean_database: Database) -> None:
    statement_id = str(uuid.uuid4())
    with clean_database.engine.begin() as connection:
        assert outbox._INSERT_ONE.rowcount(connection, _pending(statement_id)) == 1
    with clean_database.engine.connect() as connection:
        row = connection.execute(
            sa.select(outbox.outbox).where(outbox.outbox.c.statement_id == statement_id)
        ).one()
    assert row.id is not None  # numbered by the database
    assert (row.status, row.attempts) == ("pending", 0)
    # Datetimes go through the column type: aware, UTC, to the microsecond.
    assert row.created_at == WHEN
    assert row.next_attempt_at == WHEN + dt.timedelta(seconds=1)


def test_a_select_converts_rows_as_sqlalchemy_does(clean_database: Database) -> None:
    """JSON, booleans, datetimes and labels: the same values as SQLAlchemy's own result."""
    with clean_database.session() as session:
        platform = Platform(
            issuer="https://lms.example",
            client_id="c",
            name="LMS",
            auth_login_url="https://lms.example/auth",
            auth_token_url="https://lms.example/token",
            key_set_url="https://lms.example/jwks",
        )
        session.add(platform)
        session.flush()
        context = LtiContext(
            issuer=platform.issuer, deployment_id="1", context_id="7", title="Cours"
        )
        session.add(context)
        session.flush()
        session.add(
            LtiResourceLink(
                platform_id=platform.id,
                context_id=context.id,
                resource_link_id="3",
                title="É3",
                custom={"framework": "community-manager-n6", "epreuve": "E3", "n": [1, 2]},
                ags_scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            )
        )
    links = LtiResourceLink.__table__
    query = sa.select(
        links.c.id.label("link_id"),
        links.c.custom,
        links.c.ags_scopes,
        links.c.title,
        links.c.updated_at,
        (links.c.id > 0).label("positive"),
    ).where(links.c.resource_link_id == sa.bindparam("key"))
    with clean_database.engine.connect() as connection:
        expected = dict(connection.execute(query, {"key": "3"}).one()._mapping)
        found = Prepared(query).first(connection, {"key": "3"})
        missing = Prepared(query).first(connection, {"key": "no such link"})
    assert found == expected
    assert found is not None
    assert found["custom"]["n"] == [1, 2]
    assert found["positive"] is True
    assert missing is None


def test_statements_join_the_callers_transaction(clean_database: Database) -> None:
    kept, dropped = str(uuid.uuid4()), str(uuid.uuid4())
    with clean_database.engine.connect() as connection:
        with connection.begin():
            outbox._INSERT_ONE.rowcount(connection, _pending(kept))
        transaction = connection.begin()
        outbox._INSERT_ONE.rowcount(connection, _pending(dropped))
        transaction.rollback()
    with clean_database.engine.connect() as connection:
        ids = set(connection.scalars(sa.select(outbox.outbox.c.statement_id)))
    assert kept in ids
    assert dropped not in ids


def test_a_driver_error_is_sqlalchemys_and_hides_the_parameters(
    clean_database: Database,
) -> None:
    statement_id = str(uuid.uuid4())
    personal_body = '{"actor": {"mbox": "mailto:learner@example.edu"}}'
    with clean_database.engine.begin() as connection:
        outbox._INSERT_ONE.rowcount(connection, _pending(statement_id, personal_body))
    with pytest.raises(sa.exc.IntegrityError) as raised, clean_database.engine.begin() as c:
        outbox._INSERT_ONE.rowcount(c, _pending(statement_id, personal_body))
    assert "learner@example.edu" not in str(raised.value)
    assert "INSERT INTO xapi_outbox" in str(raised.value)


def test_a_statement_needing_values_computed_first_is_refused() -> None:
    """A Python-side default would be written as NULL by the driver alone."""
    table = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token", sa.String, default=lambda: uuid.uuid4().hex),
        sa.Column("name", sa.String),
    )
    prepared = Prepared(sa.insert(table).values(name=sa.bindparam("name")))
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection, pytest.raises(ValueError, match="computed"):
        prepared.rowcount(connection, {"name": "x"})
