"""Migration 0009 merges the courses and people one issuer named through two client ids.

The database is built by migrations up to 0008 and filled as launches through two Open edX
components (two client ids of one issuer) left it: the course twice, the learner and the
instructor twice, with work, evaluations, grades, progress and settings on each side; and
a third platform, of another issuer, with the very same context id and ``sub``. On
SQLite in a file of its own; on PostgreSQL (``JALON_TEST_DATABASE_URL``) in the test
database, which is left migrated and empty.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lti_tool import migrations
from lti_tool.db import make_engine

EDX, OTHER = "https://edx.example", "https://other.example"
COURSE, LEARNER, TEACHER = "course-v1:Jalon+CM+2026", "learner-uuid", "teacher-uuid"
T0 = dt.datetime(2026, 11, 1, 9, 0)
LEARNER_URI = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    pg = os.environ.get("JALON_TEST_DATABASE_URL")
    yield pg or f"sqlite:///{tmp_path / 'm.db'}"
    if pg:  # the shared test database: back to the head, emptied
        migrations.upgrade(pg)
        engine = make_engine(pg)
        with engine.begin() as connection:
            meta = sa.MetaData()
            meta.reflect(connection)
            for table in reversed(meta.sorted_tables):
                if table.name != "alembic_version":
                    connection.execute(sa.delete(table))
        engine.dispose()


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _seed(connection: sa.Connection) -> None:
    """Write what launches through two components of one course (and another LMS) left."""
    meta = sa.MetaData()
    meta.reflect(connection)
    t = meta.tables

    def add(table: str, **values: Any) -> None:
        connection.execute(sa.insert(t[table]).values(**values))

    for pid, issuer, client in ((1, EDX + "/", "block-a"), (2, EDX, "block-b"), (3, OTHER, "x")):
        add("platforms", id=pid, issuer=issuer, client_id=client, name="", created_at=T0,
            auth_login_url=f"{EDX}/auth", auth_token_url=f"{EDX}/token",
            key_set_url=f"{EDX}/keys/{client}")  # fmt: skip
        add("deployments", id=pid, platform_id=pid, deployment_id="1", created_at=T0)
    for cid, pid in ((1, 1), (2, 2), (3, 3)):
        add("lti_contexts", id=cid, platform_id=pid, context_id=COURSE, title="CM", created_at=T0)
        add("lti_resource_links", id=cid, platform_id=pid, context_id=cid, custom={},
            resource_link_id=f"block-{cid}", ags_scopes=[], updated_at=T0)  # fmt: skip
    # Learners 1, 2 (edX, twice) and 3 (the other issuer); instructors 4 and 5 (edX, twice).
    for uid, pid, sub in ((1, 1, LEARNER), (2, 2, LEARNER), (3, 3, LEARNER),
                          (4, 1, TEACHER), (5, 2, TEACHER)):  # fmt: skip
        add("lti_users", id=uid, platform_id=pid, sub=sub, created_at=T0)
    for mid, cid, uid, minutes, staff in ((1, 1, 1, 1, False), (2, 2, 2, 5, False),
                                          (3, 3, 3, 1, False), (4, 1, 4, 1, True),
                                          (5, 2, 5, 2, True)):  # fmt: skip
        add("lti_memberships", id=mid, context_id=cid, user_id=uid, is_staff=staff,
            roles=[f"{LEARNER_URI}-{mid}"], updated_at=_at(minutes))  # fmt: skip
    for sid, cid, uid, evaluator in ((1, 1, 1, 4), (2, 2, 2, 5), (3, 3, 3, None)):
        add("submissions", id=sid, context_id=cid, resource_link_id=cid, learner_id=uid,
            deployment_id="1", framework_code="CM", framework_version="1",
            competency_codes=["C1"], status="submitted", revision=1, created_at=T0,
            updated_at=T0)  # fmt: skip
        add("submission_versions", id=sid, submission_id=sid, number=1, text="copie",
            links=[], is_draft=False, created_at=T0)  # fmt: skip
        if evaluator is not None:
            add("evaluations", id=sid, submission_id=sid, version_id=sid, evaluator_id=evaluator,
                role="evaluator", status="published", comment="", revision=1, created_at=T0,
                updated_at=T0)  # fmt: skip
            add("grade_passbacks", id=sid, evaluation_id=sid, resource_link_id=cid,
                learner_id=uid, score_given=1.0, score_maximum=1.0, activity_progress="Completed",
                grading_progress="FullyGraded", scored_at=T0, status="sent", attempts=1,
                next_attempt_at=T0, created_at=T0)  # fmt: skip
    # Progress on C1 through both components (the later wins), on C2 through the second.
    for pid, cid, uid, code, status, minutes in ((1, 1, 1, "C1", "acquired", 1),
                                                 (2, 2, 2, "C1", "in_progress", 9),
                                                 (3, 2, 2, "C2", "acquired", 3),
                                                 (4, 3, 3, "C1", "acquired", 1)):  # fmt: skip
        add("learner_progress", id=pid, context_id=cid, learner_id=uid, framework_code="CM",
            kind="competency", code=code, status=status, attempts=1,
            updated_at=_at(minutes))  # fmt: skip
    add("course_settings", context_id=1, method="latest", updated_at=_at(1))
    add("course_settings", context_id=2, method="highest", updated_at=_at(4))
    add("placements", id=1, context_id=2, framework_code="CM", epreuve_code="E1",
        competencies=["C1"], custom={}, source="deep_linking", placed_at=T0)  # fmt: skip


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


COUNTS = (
    "SELECT (SELECT count(*) FROM submissions), (SELECT count(*) FROM submission_versions),"
    " (SELECT count(*) FROM evaluations), (SELECT count(*) FROM grade_passbacks),"
    " (SELECT count(*) FROM lti_resource_links), (SELECT count(*) FROM placements)"
)


def _assert_merged(url: str) -> None:
    """One edX course and learner and instructor; the other issuer's untouched; nothing lost."""
    assert _rows(
        url, "SELECT id, issuer, deployment_id, context_id FROM lti_contexts ORDER BY id"
    ) == [
        (1, EDX, "1", COURSE),
        (3, OTHER, "1", COURSE),
    ]
    assert _rows(url, "SELECT id, issuer, sub FROM lti_users ORDER BY id") == [
        (1, EDX, LEARNER),
        (3, OTHER, LEARNER),
        (4, EDX, TEACHER),
    ]
    assert _rows(url, COUNTS) == [(3, 3, 2, 2, 3, 1)]
    # Each link keeps its client id (grades go back with its credentials), in the one course.
    assert _rows(url, "SELECT id, platform_id, context_id FROM lti_resource_links ORDER BY id") == [
        (1, 1, 1),
        (2, 2, 1),
        (3, 3, 3),
    ]
    assert _rows(url, "SELECT id, context_id, learner_id FROM submissions ORDER BY id") == [
        (1, 1, 1),
        (2, 1, 1),
        (3, 3, 3),
    ]
    assert _rows(url, "SELECT evaluator_id FROM evaluations ORDER BY id") == [(4,), (4,)]
    assert _rows(url, "SELECT learner_id FROM grade_passbacks ORDER BY id") == [(1,), (1,)]
    # Roles as of the latest launch; the later standing on C1; the later settings.
    memberships = _rows(url, "SELECT context_id, user_id, roles FROM lti_memberships ORDER BY id")
    assert [(c, u, r if isinstance(r, list) else json.loads(r)) for c, u, r in memberships] == [
        (1, 1, [f"{LEARNER_URI}-2"]),
        (3, 3, [f"{LEARNER_URI}-3"]),
        (1, 4, [f"{LEARNER_URI}-5"]),
    ]
    assert _rows(
        url, "SELECT context_id, learner_id, code, status FROM learner_progress ORDER BY id"
    ) == [(1, 1, "C1", "in_progress"), (1, 1, "C2", "acquired"), (3, 3, "C1", "acquired")]
    assert _rows(url, "SELECT context_id, method FROM course_settings") == [(1, "highest")]
    assert _rows(url, "SELECT context_id FROM placements") == [(1,)]


def test_two_client_ids_of_one_issuer_become_one_course_and_one_person(url: str) -> None:
    migrations.downgrade(url, "base")
    migrations.upgrade(url, "0008")
    engine = make_engine(url)
    with engine.begin() as connection:
        _seed(connection)
    engine.dispose()

    migrations.upgrade(url, "0009")
    _assert_merged(url)

    migrations.downgrade(url, "0008")
    assert _rows(url, "SELECT id, platform_id, context_id FROM lti_contexts ORDER BY id") == [
        (1, 1, COURSE),
        (3, 3, COURSE),
    ]
    assert _rows(url, "SELECT id, platform_id, sub FROM lti_users ORDER BY id") == [
        (1, 1, LEARNER),
        (3, 3, LEARNER),
        (4, 1, TEACHER),
    ]
    assert _rows(url, COUNTS) == [(3, 3, 2, 2, 3, 1)]

    migrations.upgrade(url)
    _assert_merged(url)
