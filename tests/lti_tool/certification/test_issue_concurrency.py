"""Issuance running in several processes at once never gives two credentials one bit."""

from __future__ import annotations

import threading

import pytest

from lti_tool.certification import issuance, keys
from lti_tool.certification.models import CertificationSession, StatusList
from lti_tool.certification.ob3.status_list import new_bitstring
from lti_tool.config import Settings
from lti_tool.db import Database
from tests.lti_tool.certification.issue_support import NOW, credentials, signed_session

SESSIONS = 4


@pytest.mark.postgres
def test_concurrent_issuance_never_reuses_a_status_index(
    app: object, clean_database: Database, settings: Settings
) -> None:
    if clean_database.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (JALON_TEST_DATABASE_URL): SQLite serialises writers")
    with clean_database.session() as db:
        made = [signed_session(db, learners=2).session_id for _ in range(SESSIONS)]
        # One small open list (64 bits, so 32 credentials) and the key already there: every
        # thread contends for that row, and random draws without its lock would collide.
        small = StatusList(size=64, bits=new_bitstring(64), next_index=0)
        db.add(small)
        keys.current_key(db)
        db.flush()
        small_id = small.id
    start = threading.Barrier(SESSIONS)
    failures: list[BaseException] = []

    def issue(session_id: int) -> None:
        try:
            with clean_database.session() as db:
                session = db.get(CertificationSession, session_id)
                assert session is not None
                start.wait(timeout=30)
                issuance.issue_for_session(db, session, settings, now=NOW)
        except BaseException as error:  # reported below, with the thread's own traceback
            failures.append(error)

    threads = [threading.Thread(target=issue, args=(s,)) for s in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with clean_database.session() as db:
        issued = credentials(db)
    assert len(issued) == SESSIONS * 2 * 5
    slots = {(c.status_list_id, c.status_index) for c in issued}
    assert len(slots) == len(issued)
    assert sum(c.status_list_id == small_id for c in issued) == 32  # then a new list
