"""``jalon certification keys`` and ``badges`` as an administrator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lti_tool.certification.models import IssuedCredential
from lti_tool.cli import main
from lti_tool.db import Database
from tests.conftest import BASE_URL
from tests.lti_tool.certification.issue_support import credentials, signed_session


@pytest.fixture
def run(tmp_path: Path, database_url: str, app: object) -> CliRunner:
    return CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_BASE_URL": BASE_URL,
            "JALON_SECRET_KEY": "test-secret-key-0123456789abcdef",
        }
    )


def test_issue_list_and_revoke(run: CliRunner, clean_database: Database) -> None:
    with clean_database.session() as db:
        made = signed_session(db, learners=2, validated={"B4": False})
    result = run.invoke(
        main, ["certification", "badges", "issue", "--session", str(made.session_id)]
    )
    assert result.exit_code == 0, result.output
    assert "8 credential(s) issued" in result.output
    assert f"{BASE_URL}/verifier/" in result.output
    again = run.invoke(
        main, ["certification", "badges", "issue", "--session", str(made.session_id)]
    )
    assert "0 credential(s) issued" in again.output

    with clean_database.session() as db:
        first: IssuedCredential = credentials(db)[0]
        public = first.public_id
    revoked = run.invoke(
        main, ["certification", "badges", "revoke", public, "--reason", "Fraude constatée"]
    )
    assert revoked.exit_code == 0, revoked.output
    twice = run.invoke(main, ["certification", "badges", "revoke", public, "--reason", "x"])
    assert twice.exit_code == 1
    assert "PUBLIC_ID" in twice.output

    listing = run.invoke(
        main, ["certification", "badges", "list", "--session", str(made.session_id), "--json"]
    )
    rows = [json.loads(line) for line in listing.output.splitlines()]
    assert len(rows) == 8
    assert {r["state"] for r in rows if r["public_id"] == public} == {"revoked"}
    assert sum(r["state"] == "valid" for r in rows) == 7
    assert {r["code"] for r in rows} == {"B1", "B2", "B3", "community-manager-n6"}


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["badges", "issue", "--session", "999"], "--session"),
        (["badges", "list", "--session", "999"], "--session"),
        (
            ["badges", "revoke", "00000000-0000-4000-8000-000000000000", "--reason", "x"],
            "PUBLIC_ID",
        ),
    ],
)
def test_bad_arguments_exit_non_zero_naming_the_field(
    run: CliRunner, arguments: list[str], named: str
) -> None:
    result = run.invoke(main, ["certification", *arguments])
    assert result.exit_code == 1
    assert named in result.output


def test_a_revocation_without_a_reason_is_refused(run: CliRunner, clean_database: Database) -> None:
    with clean_database.session() as db:
        made = signed_session(db, learners=1)
    run.invoke(main, ["certification", "badges", "issue", "--session", str(made.session_id)])
    with clean_database.session() as db:
        public = credentials(db)[0].public_id
    result = run.invoke(main, ["certification", "badges", "revoke", public, "--reason", " "])
    assert result.exit_code == 1
    assert "--reason" in result.output
    with clean_database.session() as db:
        assert credentials(db)[0].revoked_at is None


def test_keys_list_and_rotate(run: CliRunner) -> None:
    empty = run.invoke(main, ["certification", "keys", "list"])
    assert "no key yet" in empty.output
    first = run.invoke(main, ["certification", "keys", "rotate"])
    second = run.invoke(main, ["certification", "keys", "rotate"])
    assert first.exit_code == second.exit_code == 0
    listing = run.invoke(main, ["certification", "keys", "list"]).output.splitlines()
    assert len(listing) == 2
    assert " current " in listing[0]
    assert " retired " in listing[1]
    assert f"{BASE_URL}/certification/cles/z6Mk" in listing[0]
