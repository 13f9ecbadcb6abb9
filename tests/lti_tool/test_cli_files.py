"""``jalon files purge``: what a crash or a deleted submission left on disk goes, nothing else."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from lti_tool.cli import main
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation.models import Submission, SubmissionFile
from lti_tool.evaluation.storage import LocalFileStorage
from tests.lti_tool.lti.conftest import browser, canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

__all__ = ["browser", "canvas", "key_server", "moodle", "registered"]
HOUR = 3600


@pytest.fixture
def run(settings: Settings, database_url: str) -> CliRunner:
    return CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(settings.instance_path),
            "JALON_SECRET_KEY": "",
        }
    )


def _hand_in(browser: Browser, platform: TestPlatform, files: list[tuple[bytes, str]]) -> None:
    token = landing_token(browser.launch(platform, "learner"))
    html = browser.get("/epreuve", query_string={"lt": token}).get_data(as_text=True)
    form = dict(re.findall(r'name="(csrf_token|revision)" value="([^"]*)"', html))
    response = browser.post(
        "/epreuve/remise",
        query_string={"lt": token},
        data={**form, "text": "x", "files": [(io.BytesIO(data), name) for data, name in files]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303


def _age(path: Path, seconds: int) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _on_disk(uploads: Path) -> set[str]:
    return {path.name for path in uploads.rglob("*") if path.is_file()}


@pytest.fixture
def disk(
    browser: Browser,
    moodle: TestPlatform,
    canvas: TestPlatform,
    settings: Settings,
    clean_database: Database,
) -> dict[str, str]:
    """Return the stored files by what they are: named, orphaned, partial, young."""
    _hand_in(browser, moodle, [(b"m" * 1000, "moodle.pdf")])
    _hand_in(browser, canvas, [(b"c" * 3000, "canvas.pdf")])
    with clean_database.session() as session:
        query = sa.select(SubmissionFile.name, SubmissionFile.storage_key)
        keys = dict(session.execute(query).all())
        # The Canvas learner's submission is erased: its rows go, its bytes stay behind.
        session.execute(
            sa.delete(Submission).where(
                Submission.id.in_(
                    sa.select(Submission.id)
                    .join(Submission.versions)
                    .join(SubmissionFile)
                    .where(SubmissionFile.name == "canvas.pdf")
                )
            )
        )
    uploads = settings.instance_path / "uploads"
    storage = LocalFileStorage(uploads)
    young = storage.save(io.BytesIO(b"y" * 500), 10_000).key  # an upload in flight
    partial = uploads / keys["moodle.pdf"][:2] / ".upload-crashed"
    partial.write_bytes(b"p" * 200)
    for path in uploads.rglob("*"):
        if path.is_file() and path.name != young:
            _age(path, 2 * HOUR)
    return {
        "named": keys["moodle.pdf"],
        "orphan": keys["canvas.pdf"],
        "partial": partial.name,
        "young": young,
    }


def test_item6_purge_dry_run_counts_and_removes_nothing(
    run: CliRunner, settings: Settings, disk: dict[str, str]
) -> None:
    before = _on_disk(settings.instance_path / "uploads")

    result = run.invoke(main, ["files", "purge", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "would remove 1 unreferenced files, 3000 bytes" in result.output
    assert "1 interrupted writes, 200 bytes" in result.output
    assert "kept 2" in result.output
    assert _on_disk(settings.instance_path / "uploads") == before


def test_item6_purge_removes_only_old_bytes_no_row_names(
    run: CliRunner, settings: Settings, disk: dict[str, str]
) -> None:
    result = run.invoke(main, ["files", "purge"])

    assert result.exit_code == 0, result.output
    assert "removed 1 unreferenced files, 3000 bytes" in result.output
    assert _on_disk(settings.instance_path / "uploads") == {disk["named"], disk["young"]}
    again = run.invoke(main, ["files", "purge"])
    assert "removed 0 unreferenced files, 0 bytes" in again.output


def test_item6_purge_grace_is_at_least_ten_minutes(run: CliRunner, disk: dict[str, str]) -> None:
    result = run.invoke(main, ["files", "purge", "--grace-minutes", "1"])
    assert result.exit_code == 2
    assert "--grace-minutes" in result.output


def test_item6_purge_of_a_database_never_migrated_fails_clearly(
    settings: Settings, tmp_path: Path
) -> None:
    runner = CliRunner(
        env={
            "JALON_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
            "JALON_INSTANCE_PATH": str(settings.instance_path),
        }
    )
    result = runner.invoke(main, ["files", "purge"])
    assert result.exit_code == 1
    assert "the database is not ready" in result.output
