"""The outbox stores serialized statements in the caller's transaction, untouched."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

import pytest
import sqlalchemy as sa

from lti_tool.db import Base, Database
from tests.xapi.samples import statement, statements
from xapi import outbox
from xapi.outbox import SerializedStatement, Status


def _bodies(database: Database) -> dict[str, str]:
    with database.session() as session:
        rows = session.execute(sa.select(outbox.outbox.c.statement_id, outbox.outbox.c.body))
        return {row[0]: row[1] for row in rows}


def test_committed_statements_wait_in_the_outbox(clean_database: Database) -> None:
    records = statements(3)
    with clean_database.session() as session:
        assert outbox.enqueue(session, records) == 3
    with clean_database.session() as session:
        summary = outbox.summary(session)
        entries = list(outbox.iter_entries(session))
    assert (summary.pending, summary.delivered, summary.dead) == (3, 0, 0)
    assert [e.statement_id for e in entries] == [r.id for r in records]
    assert all(e.status is Status.PENDING and e.attempts == 0 for e in entries)


def test_a_rolled_back_transaction_emits_nothing(clean_database: Database) -> None:
    class EvaluationError(Exception):
        pass

    def record_evaluation() -> None:
        with clean_database.session() as session:
            outbox.enqueue(session, statements(2))
            raise EvaluationError  # the event fails after its statements were written

    with pytest.raises(EvaluationError):
        record_evaluation()
    assert _bodies(clean_database) == {}


def test_enqueue_only_flushes_it_never_commits(clean_database: Database) -> None:
    session = clean_database.sessions()
    try:
        outbox.enqueue(session, statements(1))
        assert outbox.summary(session).pending == 1  # visible inside the transaction
        assert _bodies(clean_database) == {}  # and nowhere else
        session.rollback()
    finally:
        session.close()
    assert _bodies(clean_database) == {}


def test_the_stored_text_is_the_builders_text_byte_for_byte(clean_database: Database) -> None:
    # Spacing, key order, non-ASCII and a "+00:00" offset: re-serializing would change them.
    statement_id = str(uuid.uuid4())
    text = (
        '{ "timestamp" : "2026-11-29T10:00:00+00:00", "id": "' + statement_id + '",'
        ' "actor": {"account": {"name": "42", "homePage": "https://moodle.example.edu"}},'
        ' "verb": {"id": "http://adlnet.gov/expapi/verbs/launched",'
        ' "display": {"fr-FR": "a lancé l’épreuve"}},'
        ' "object": {"id": "https://jalon.test/lti/liens/1"}, "result": {"score": {"raw": 1.0}} }'
    )
    with clean_database.session() as session:
        outbox.enqueue(session, [SerializedStatement(statement_id, text)])
    assert _bodies(clean_database) == {statement_id: text}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (SerializedStatement("not-a-uuid", "{}"), "is not a UUID"),
        (SerializedStatement(str(uuid.UUID(int=1)), "{not json"), "is not valid JSON"),
        (SerializedStatement(str(uuid.UUID(int=1)), "[]"), "is not a JSON object"),
        (
            SerializedStatement(str(uuid.UUID(int=1)), json.dumps({"id": str(uuid.UUID(int=2))})),
            "carries another id",
        ),
        (SerializedStatement(str(uuid.UUID(int=1)), json.dumps({"verb": {}})), "another id"),
    ],
)
def test_a_malformed_record_fails_the_transaction(
    clean_database: Database, record: SerializedStatement, message: str
) -> None:
    with pytest.raises(ValueError, match=message), clean_database.session() as session:
        outbox.enqueue(session, [statement(), record])
    assert _bodies(clean_database) == {}


def test_the_builders_records_go_in_as_they_are(clean_database: Database) -> None:
    # xapi.statements.StatementRecord carries a uuid.UUID id beside its JSON text.
    @dataclasses.dataclass(frozen=True)
    class Record:
        id: uuid.UUID
        json: str
        verb: str

    built = statement()
    with clean_database.session() as session:
        outbox.enqueue(session, [Record(uuid.UUID(built.id), built.json, "launched")])
    assert _bodies(clean_database) == {built.id: built.json}


def test_a_statement_id_is_enqueued_once(clean_database: Database) -> None:
    record = statement()
    with clean_database.session() as session:
        outbox.enqueue(session, [record])
    with pytest.raises(sa.exc.IntegrityError), clean_database.session() as session:
        outbox.enqueue(session, [record])
    assert list(_bodies(clean_database)) == [record.id]


def test_summary_counts_and_oldest_pending_age(clean_database: Database) -> None:
    start = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
    with clean_database.session() as session:
        outbox.enqueue(session, statements(2), now=start)
        outbox.enqueue(session, statements(1), now=start + dt.timedelta(hours=1))
        session.execute(
            sa.update(outbox.outbox)
            .where(outbox.outbox.c.created_at == start)
            .values(status=Status.DELIVERED.value)
        )
        outbox.enqueue(session, statements(1), now=start + dt.timedelta(hours=2))
    with clean_database.session() as session:
        summary = outbox.summary(session)
    assert (summary.pending, summary.delivered, summary.dead) == (2, 2, 0)
    assert summary.oldest_pending_at == start + dt.timedelta(hours=1)
    later = start + dt.timedelta(hours=3, minutes=5)
    assert summary.oldest_pending_age(later) == dt.timedelta(hours=2, minutes=5)


def test_an_empty_outbox_has_no_oldest_pending(clean_database: Database) -> None:
    with clean_database.session() as session:
        summary = outbox.summary(session)
    assert summary == outbox.Summary(0, 0, 0, None)
    assert summary.oldest_pending_age(outbox.utcnow()) is None


def test_retry_dead_requeues_dead_letters_only(clean_database: Database) -> None:
    records = statements(3)
    with clean_database.session() as session:
        outbox.enqueue(session, records)
        session.execute(
            sa.update(outbox.outbox)
            .where(outbox.outbox.c.statement_id.in_([records[0].id, records[1].id]))
            .values(status=Status.DEAD.value, attempts=3, last_error="HTTP 400: bad")
        )
        session.execute(
            sa.update(outbox.outbox)
            .where(outbox.outbox.c.statement_id == records[1].id)
            .values(status=Status.DELIVERED.value)
        )
    now = outbox.utcnow()
    with clean_database.session() as session:
        assert outbox.retry_dead(session, now=now) == 1
    with clean_database.session() as session:
        entries = {e.statement_id: e for e in outbox.iter_entries(session)}
    revived = entries[records[0].id]
    assert (revived.status, revived.attempts, revived.next_attempt_at) == (Status.PENDING, 0, now)
    assert revived.last_error == "HTTP 400: bad"  # kept until delivered, for context
    assert entries[records[1].id].status is Status.DELIVERED


def test_recent_lists_newest_first_and_filters(clean_database: Database) -> None:
    records = statements(4)
    with clean_database.session() as session:
        outbox.enqueue(session, records)
        session.execute(
            sa.update(outbox.outbox)
            .where(outbox.outbox.c.statement_id == records[1].id)
            .values(status=Status.DEAD.value)
        )
    with clean_database.session() as session:
        newest = outbox.recent(session, limit=2)
        dead = outbox.recent(session, status=Status.DEAD)
        pending = list(outbox.iter_entries(session, status=Status.PENDING))
    assert [e.statement_id for e in newest] == [records[3].id, records[2].id]
    assert [e.statement_id for e in dead] == [records[1].id]
    assert [e.statement_id for e in pending] == [records[0].id, records[2].id, records[3].id]


def test_outbox_tables_follow_the_apps_naming_convention() -> None:
    assert outbox.metadata.naming_convention == Base.metadata.naming_convention
    assert not set(outbox.metadata.tables) & set(Base.metadata.tables)
