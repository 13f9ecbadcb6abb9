"""``jalon purge``: each kind goes after its retention, and nothing undelivered ever does.

The clock is fixed: the command is given ``now`` through click's context object, and the
rows are dated around it, so every boundary is exact.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from lti_tool.cli import main
from lti_tool.db import Database
from lti_tool.evaluation.models import GradePassback, PassbackStatus
from lti_tool.lti.storage import DatabaseStore
from lti_tool.models import AdminSession, CacheEntry, Platform, RegistrationInvite
from lti_tool.privacy.purge import KINDS, LEASE_KEY, PurgeBusy, lease
from tests.lti_tool.privacy import rows
from tests.lti_tool.privacy.rows import DAY, NOW
from xapi import outbox
from xapi.outbox import Status


@pytest.fixture
def env(tmp_path: Path, database_url: str, clean_database: Database) -> dict[str, str]:
    return {
        "JALON_DATABASE_URL": database_url,
        "JALON_INSTANCE_PATH": str(tmp_path),
        "JALON_BASE_URL": "https://jalon.test",
        "JALON_SECRET_KEY": "",
        "JALON_RETENTION_OUTBOX_DAYS": "30",
        "JALON_RETENTION_DRAFT_DAYS": "90",
    }


def _purge(env: dict[str, str], *args: str, now: dt.datetime = NOW) -> Result:
    return CliRunner(env=env).invoke(main, ["purge", *args], obj={"now": now})


def _counts(result: Result) -> dict[str, int]:
    assert result.exit_code == 0, result.output
    counts = {}
    for line in result.output.splitlines()[1:]:
        kind, _, number = line.partition("\t")
        if kind in KINDS:
            counts[kind] = int(number)
    return counts


def _statements(database: Database) -> dict[str, Status]:
    with database.session() as session:
        return {e.statement_id: e.status for e in outbox.iter_entries(session)}


def _grades(database: Database) -> set[int]:
    with database.session() as session:
        return set(session.scalars(sa.select(GradePassback.id)))


def test_each_kind_goes_after_its_retention_and_no_sooner(
    env: dict[str, str], clean_database: Database
) -> None:
    box = rows.outbox_rows(clean_database)
    grades = rows.grade_rows(clean_database)
    others = rows.short_lived_rows(clean_database)
    result = _purge(env)
    assert result.output.splitlines()[0] == "removed:"
    assert _counts(result) == {
        "lti_cache": 1,
        "xapi_delivered": 1,
        "xapi_dead_reviewed": 1,
        "grades_sent": 2,  # the one sent 31 days ago, and the one it superseded
        "admin_sessions": 2,
        "registration_invites": 2,
        "holder_identities": 0,
        "drafts": 0,
        "draft_files": 0,
    }
    assert set(_statements(clean_database)) == {
        box["delivered_29_days"],
        box["dead_reviewed_29_days"],
        box["dead_unreviewed"],
        box["pending_old"],
    }
    assert _grades(clean_database) == {
        grades["sent_29_days"],
        grades["pending_old"],
        grades["failed_old"],
        grades["superseded_by_pending"],
        grades["pending_newer"],
    }
    with clean_database.session() as session:
        assert set(session.scalars(sa.select(CacheEntry.key))) == {others["live_key"]}
        assert set(session.scalars(sa.select(AdminSession.id))) == {others["live_session"]}
        assert set(session.scalars(sa.select(RegistrationInvite.id))) == {
            others["live_invite"],
            others["used_invite"],
        }
        assert session.scalar(sa.select(sa.func.count()).select_from(Platform)) >= 1


def test_a_purge_never_removes_an_undelivered_statement_or_an_unsent_grade(
    env: dict[str, str], clean_database: Database
) -> None:
    """Ten years later, what never reached the LRS or the LMS is all still there."""
    box = rows.outbox_rows(clean_database)
    grades = rows.grade_rows(clean_database)
    result = _purge(env, now=NOW + 3650 * DAY)
    assert result.exit_code == 0, result.output
    statuses = _statements(clean_database)
    assert statuses[box["pending_old"]] is Status.PENDING
    assert statuses[box["dead_unreviewed"]] is Status.DEAD
    assert Status.DELIVERED not in statuses.values()
    with clean_database.session() as session:
        left = dict(session.execute(sa.select(GradePassback.id, GradePassback.status)).all())
    assert left == {
        grades["pending_old"]: PassbackStatus.PENDING,
        grades["failed_old"]: PassbackStatus.FAILED,
        grades["superseded_by_pending"]: PassbackStatus.SUPERSEDED,
        grades["pending_newer"]: PassbackStatus.PENDING,
    }


def test_a_dry_run_counts_and_removes_nothing(
    env: dict[str, str], clean_database: Database
) -> None:
    rows.outbox_rows(clean_database)
    rows.grade_rows(clean_database)
    rows.short_lived_rows(clean_database)
    before = (_statements(clean_database), _grades(clean_database))
    dry = _purge(env, "--dry-run")
    assert dry.output.splitlines()[0] == "would remove:"
    assert (_statements(clean_database), _grades(clean_database)) == before
    assert _counts(dry) == _counts(_purge(env))


def test_each_purge_is_one_log_line_of_counts_without_personal_data(
    env: dict[str, str], clean_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    box = rows.outbox_rows(clean_database)
    with caplog.at_level(logging.INFO, logger="lti_tool.privacy.purge"):
        _purge(env)
    lines = [r.getMessage() for r in caplog.records if r.name == "lti_tool.privacy.purge"]
    assert len(lines) == 1
    assert lines[0].startswith("Purge: lti_cache=0 xapi_delivered=1 xapi_dead_reviewed=1 ")
    assert "drafts=0 draft_files=0 courses_skipped=0" in lines[0]
    assert not any(statement_id in lines[0] for statement_id in box.values())


def test_one_purge_at_a_time(env: dict[str, str], clean_database: Database) -> None:
    rows.outbox_rows(clean_database)
    with lease(clean_database.sessions):
        busy = _purge(env)
    assert busy.exit_code == 1
    assert "another purge is running" in busy.output
    assert _counts(_purge(env))["xapi_delivered"] == 1  # the lease was given back


def test_a_lease_left_by_a_purge_that_died_runs_out(
    env: dict[str, str], clean_database: Database
) -> None:
    with clean_database.session() as session:
        DatabaseStore(session).add(LEASE_KEY, "a-process-that-died", 60)
        session.execute(
            sa.update(CacheEntry)
            .where(CacheEntry.key == LEASE_KEY)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert _purge(env).exit_code == 0


def test_retention_settings_are_checked_by_name(env: dict[str, str]) -> None:
    result = _purge({**env, "JALON_RETENTION_OUTBOX_DAYS": "0"})
    assert result.exit_code == 1
    assert "JALON_RETENTION_OUTBOX_DAYS must be a whole number of days" in result.output


def test_a_database_never_migrated_fails_clearly(tmp_path: Path) -> None:
    env = {"JALON_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "JALON_SECRET_KEY": ""}
    result = CliRunner(env=env).invoke(main, ["purge"])
    assert result.exit_code == 1
    assert "run `jalon db upgrade`" in result.output


def test_of_purges_started_together_one_runs_and_the_others_are_told(
    clean_database: Database,
) -> None:
    """Eight purges racing for the lease, as eight processes would: exactly one holds it."""
    barrier = threading.Barrier(8)
    held, busy = [], []

    def contend() -> None:
        barrier.wait()
        try:
            with lease(clean_database.sessions):
                held.append(1)
                time.sleep(0.2)  # still holding it while the others ask
        except PurgeBusy:
            busy.append(1)

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(held), len(busy)) == (1, 7)


def test_batches_resume_where_the_last_one_stopped(
    env: dict[str, str], clean_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small batches, kept and purged rows interleaved: every purged one goes, no other."""
    monkeypatch.setattr("lti_tool.privacy.purge.BATCH", 2)
    with clean_database.session() as session:
        session.add_all(
            CacheEntry(
                key=f"k{n:02}",
                value="1",
                expires_at=NOW + (DAY if n % 3 == 0 else -DAY),
            )
            for n in range(20)
        )
    assert _counts(_purge(env))["lti_cache"] == 13
    with clean_database.session() as session:
        assert sorted(session.scalars(sa.select(CacheEntry.key))) == [
            f"k{n:02}" for n in range(0, 20, 3)
        ]
