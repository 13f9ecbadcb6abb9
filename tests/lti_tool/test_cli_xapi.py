"""``jalon xapi`` as an administrator uses it: status, export, retry-dead, relay."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from lti_tool.cli.xapi import format_age, start_background_relay, xapi
from lti_tool.config import LrsSettings, Settings
from lti_tool.db import Database
from tests.conftest import REPO
from tests.xapi.http_fakes import LocalHttpServer
from tests.xapi.samples import statement, statements
from xapi import outbox
from xapi.outbox import SerializedStatement, Status

PASSWORD = "lrs-password-never-shown"  # noqa: S105 (a test value)


@pytest.fixture
def env(tmp_path: Path, database_url: str, clean_database: Database) -> dict[str, str]:
    return {
        "JALON_DATABASE_URL": database_url,
        "JALON_INSTANCE_PATH": str(tmp_path),
        "JALON_BASE_URL": "https://jalon.test",
        "JALON_SECRET_KEY": "",
        "JALON_LRS_ENDPOINT": "",
        "JALON_LRS_USERNAME": "",
        "JALON_LRS_PASSWORD": "",
    }


@pytest.fixture
def stub() -> Iterator[LocalHttpServer]:
    server = LocalHttpServer().start()
    yield server
    server.stop()


def _with_lrs(env: dict[str, str], endpoint: str) -> dict[str, str]:
    # The stub LRS listens on loopback over http, which only a Jalon served on loopback
    # (the demo) may call: these tests run one.
    loopback = endpoint.startswith("http://127.0.0.1")
    return {
        **env,
        **({"JALON_BASE_URL": "http://127.0.0.1:8000"} if loopback else {}),
        "JALON_LRS_ENDPOINT": endpoint,
        "JALON_LRS_USERNAME": "jalon",
        "JALON_LRS_PASSWORD": PASSWORD,
    }


def _enqueue(database: Database, records: list[SerializedStatement]) -> None:
    with database.session() as session:
        outbox.enqueue(session, records)


def _bury(database: Database, statement_id: str) -> None:
    with database.session() as session:
        session.execute(
            sa.update(outbox.outbox)
            .where(outbox.outbox.c.statement_id == statement_id)
            .values(status=Status.DEAD.value, last_error="HTTP 400: refused")
        )


def test_status_of_an_empty_outbox_without_lrs(env: dict[str, str]) -> None:
    result = CliRunner(env=env).invoke(xapi, ["status"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "pending\t0",
        "delivered\t0",
        "dead\t0",
        "oldest pending\t-",
        "LRS\tnone configured",
    ]


def test_status_counts_and_names_the_lrs_but_never_its_password(
    env: dict[str, str], clean_database: Database
) -> None:
    records = statements(3)
    _enqueue(clean_database, records)
    _bury(clean_database, records[0].id)
    result = CliRunner(env=_with_lrs(env, "https://lrs.example.org/xAPI/")).invoke(xapi, ["status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == ["pending\t2", "delivered\t0", "dead\t1"]
    assert lines[3].startswith("oldest pending\t")
    assert lines[3].endswith(" s")
    assert lines[4] == "LRS\thttps://lrs.example.org/xAPI/ (user jalon)"
    assert PASSWORD not in result.output


def test_export_writes_the_stored_statements_as_json_lines(
    env: dict[str, str], clean_database: Database
) -> None:
    records = statements(3)
    # A builder that indented its JSON still gets one line per statement.
    spread = statement()
    records.append(SerializedStatement(spread.id, json.dumps(json.loads(spread.json), indent=2)))
    _enqueue(clean_database, records)
    _bury(clean_database, records[1].id)
    run = CliRunner(env=env)

    everything = run.invoke(xapi, ["export"])
    assert everything.exit_code == 0, everything.output
    lines = everything.output.splitlines()
    assert lines[:3] == [r.json for r in records[:3]]  # the stored text itself
    assert [json.loads(line)["id"] for line in lines] == [r.id for r in records]
    assert json.loads(lines[3]) == json.loads(spread.json)

    dead = run.invoke(xapi, ["export", "--status", "dead"]).output.splitlines()
    assert dead == [records[1].json]
    pending = run.invoke(xapi, ["export", "--status", "pending"]).output.splitlines()
    assert len(pending) == 3
    assert run.invoke(xapi, ["export", "--status", "delivered"]).output == ""
    assert run.invoke(xapi, ["export", "--status", "lost"]).exit_code == 2


def test_retry_dead_queues_dead_letters_again(
    env: dict[str, str], clean_database: Database
) -> None:
    records = statements(2)
    _enqueue(clean_database, records)
    _bury(clean_database, records[0].id)
    run = CliRunner(env=env)
    result = run.invoke(xapi, ["retry-dead"])
    assert result.exit_code == 0, result.output
    assert result.output == "1 dead letters queued again\n"
    assert "pending\t2" in run.invoke(xapi, ["status"]).output


def test_relay_without_an_lrs_says_which_settings_are_missing(env: dict[str, str]) -> None:
    result = CliRunner(env=env).invoke(xapi, ["relay", "--once"])
    assert result.exit_code == 1
    assert "no LRS configured: set JALON_LRS_ENDPOINT, JALON_LRS_USERNAME" in result.output


def test_relay_on_a_database_never_migrated(tmp_path: Path, env: dict[str, str]) -> None:
    fresh = {**env, "JALON_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = CliRunner(env=_with_lrs(fresh, "http://127.0.0.1:9/xAPI/")).invoke(
        xapi, ["relay", "--once"]
    )
    assert result.exit_code == 1
    assert "the database is not ready: run `jalon db upgrade`" in result.output


def test_relay_once_delivers_with_the_configured_credentials(
    env: dict[str, str], clean_database: Database, stub: LocalHttpServer
) -> None:
    records = statements(5)
    _enqueue(clean_database, records)
    result = CliRunner(env=_with_lrs(env, stub.endpoint)).invoke(
        xapi, ["relay", "--once", "--batch-size", "2"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "delivered 5, dead letters 0, to retry 0 (3 requests)\n"
    assert [len(json.loads(body)) for body in stub.posted] == [2, 2, 1]
    credentials = base64.b64encode(f"jalon:{PASSWORD}".encode()).decode()
    assert {s.headers["Authorization"] for s in stub.seen} == {f"Basic {credentials}"}
    assert stub.seen[0].headers["User-Agent"].startswith("Jalon/")
    with clean_database.session() as session:
        assert outbox.summary(session).delivered == 5


def test_the_relay_worker_stops_on_sigterm(
    env: dict[str, str], clean_database: Database, stub: LocalHttpServer
) -> None:
    records = statements(3)
    _enqueue(clean_database, records)
    code = "from lti_tool.cli.xapi import xapi; xapi(['relay'])"
    worker = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, **_with_lrs(env, stub.endpoint)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(stub.posted) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, output
    assert "3 statements pending (SIGTERM or Ctrl+C to stop)" in output
    assert output.rstrip().endswith("delivered 3, dead letters 0, to retry 0 (1 requests)")
    assert PASSWORD not in output


def test_a_background_relay_delivers_until_stopped(
    settings: Settings, clean_database: Database, stub: LocalHttpServer
) -> None:
    lrs = LrsSettings(stub.endpoint, "jalon", PASSWORD)
    on_loopback = dataclasses.replace(settings, lrs=lrs, base_url="http://127.0.0.1:8000")
    stop = start_background_relay(on_loopback, clean_database)
    try:
        _enqueue(clean_database, statements(3))
        deadline = time.monotonic() + 30
        while not stub.posted and time.monotonic() < deadline:
            time.sleep(0.05)
        while time.monotonic() < deadline:
            with clean_database.session() as session:
                if outbox.summary(session).delivered == 3:
                    break
            time.sleep(0.05)
    finally:
        started = time.monotonic()
        stop()
    assert time.monotonic() - started < 5  # the idle worker wakes up to stop
    assert not [t for t in threading.enumerate() if t.name == "jalon-xapi-relay"]
    assert len(stub.posted) == 1
    with clean_database.session() as session:
        assert outbox.summary(session).delivered == 3


def test_without_an_lrs_no_background_relay_runs(
    settings: Settings, clean_database: Database
) -> None:
    stop = start_background_relay(settings, clean_database)
    assert not [t for t in threading.enumerate() if t.name == "jalon-xapi-relay"]
    stop()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (45, "45 s"), (60, "1 min"), (3725, "1 h 2 min"), (90061, "1 d 1 h")],
)
def test_ages_read_like_a_person_would_say_them(seconds: int, text: str) -> None:
    assert format_age(dt.timedelta(seconds=seconds)) == text


def test_review_dead_marks_dead_letters_reviewed(
    env: dict[str, str], clean_database: Database
) -> None:
    records = statements(2)
    _enqueue(clean_database, records)
    _bury(clean_database, records[0].id)
    run = CliRunner(env=env)
    result = run.invoke(xapi, ["review-dead"])
    assert result.output == "1 dead letters marked as reviewed\n"
    with clean_database.session() as session:
        assert outbox.summary(session).unreviewed_dead == 0
    assert run.invoke(xapi, ["review-dead"]).output == "0 dead letters marked as reviewed\n"
