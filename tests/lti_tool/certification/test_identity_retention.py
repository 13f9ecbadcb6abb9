"""Retention of holder identities: settled at signing, purged after their date, exported, erased."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from lti_tool.certification.identity_retention import schedule_identity_deletion
from lti_tool.certification.models import CertificationSession, HolderIdentity, JuryDecision
from lti_tool.cli import main
from lti_tool.config import CertifierSettings, Settings
from lti_tool.db import Database
from lti_tool.models import LtiUser
from tests.lti_tool.certification import identity_rows as rows
from tests.lti_tool.certification.identity_rows import SIGNED_AT
from tests.lti_tool.privacy import scenario


def kept(database: Database) -> dict[int, dt.date | None]:
    with database.session() as db:
        return dict(
            db.execute(sa.select(HolderIdentity.learner_id, HolderIdentity.delete_after)).all()
        )


def test_signing_keeps_only_certified_holders_for_the_settings_days(
    clean_database: Database, settings: Settings
) -> None:
    settings = dataclasses.replace(
        settings, certifier=CertifierSettings(identity_retention_days=30)
    )
    with clean_database.session() as db:
        june = rows.session_row(db, "Juin", signed=True)
        later = rows.session_row(db, "Décembre", signed=True)
        db.get(CertificationSession, later).signed_at = SIGNED_AT.replace(month=12, day=1)  # type: ignore[union-attr]
        still_open = rows.session_row(db, "Session suivante")
        people = {
            name: rows.person(db, name)
            for name in ("certified", "failed", "again", "twice", "corrected")
        }
        for learner in people.values():
            rows.identity(db, learner)
        rows.decide(db, rows.candidate(db, june, people["certified"]), validated=True)
        rows.decide(db, rows.candidate(db, june, people["failed"]), validated=False)
        # Failed in June, but presented again to a session not yet signed: it needs it.
        rows.decide(db, rows.candidate(db, june, people["again"]), validated=False)
        rows.candidate(db, still_open, people["again"])
        # Validated in June and in December: the later signing wins.
        rows.decide(db, rows.candidate(db, june, people["twice"]), validated=True)
        rows.decide(db, rows.candidate(db, later, people["twice"]), validated=True)
        # Validated, then corrected to "not validated": nothing validated stands.
        corrected = rows.candidate(db, june, people["corrected"])
        first = rows.decide(db, corrected, validated=True)
        db.get(JuryDecision, rows.decide(db, corrected, validated=False)).supersedes_id = first  # type: ignore[union-attr]
        outsider = rows.person(db, "outsider")
        rows.identity(db, outsider)  # a candidate of no session signed here: untouched
    with clean_database.session() as db:
        report = schedule_identity_deletion(db, db.get(CertificationSession, june), settings)  # type: ignore[arg-type]
    assert (report.deleted, report.scheduled) == (2, 2)
    assert kept(clean_database) == {
        people["certified"]: dt.date(2026, 7, 30),
        people["again"]: None,
        people["twice"]: dt.date(2026, 12, 31),
        outsider: None,
    }


# The purge --------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, database_url: str, clean_database: Database) -> dict[str, str]:
    return {
        "JALON_DATABASE_URL": database_url,
        "JALON_INSTANCE_PATH": str(tmp_path),
        "JALON_BASE_URL": "https://jalon.test",
        "JALON_SECRET_KEY": "",
    }


def purge(env: dict[str, str], now: dt.datetime, *args: str) -> dict[str, int]:
    result = CliRunner(env=env).invoke(main, ["purge", *args], obj={"now": now})
    assert result.exit_code == 0, result.output
    return {
        k: int(v)
        for k, _, v in (line.partition("\t") for line in result.output.splitlines()[1:])
        if v
    }


def test_the_purge_deletes_an_identity_the_day_after_its_date(
    env: dict[str, str], clean_database: Database
) -> None:
    with clean_database.session() as db:
        dated = rows.person(db, "dated")
        rows.identity(db, dated, delete_after=dt.date(2027, 6, 30))
        undated = rows.person(db, "undated")
        rows.identity(db, undated)
    last_day = dt.datetime(2027, 6, 30, 23, 0, tzinfo=dt.UTC)
    assert purge(env, last_day, "--dry-run")["holder_identities"] == 0
    assert purge(env, last_day)["holder_identities"] == 0
    after = last_day + dt.timedelta(hours=2)
    assert purge(env, after, "--dry-run")["holder_identities"] == 1
    assert set(kept(clean_database)) == {dated, undated}  # a dry run removes nothing
    assert purge(env, after)["holder_identities"] == 1
    assert set(kept(clean_database)) == {undated}
    assert purge(env, after + dt.timedelta(days=3650))["holder_identities"] == 0


# The person's rights ---------------------------------------------------------------------


def learner_cli(settings: Settings, *args: str) -> Result:
    env = {
        "JALON_DATABASE_URL": settings.database_url,
        "JALON_INSTANCE_PATH": str(settings.instance_path),
        "JALON_SECRET_KEY": "cli-secret-key-0123456789",
        "JALON_BASE_URL": "https://jalon.example.edu",
    }
    return CliRunner(env=env).invoke(main, ["learner", *args], catch_exceptions=False)


def test_the_export_holds_the_identity_and_the_erasure_deletes_it(
    clean_database: Database, settings: Settings, tmp_path: Path
) -> None:
    scenario.build(clean_database, settings.instance_path)
    with clean_database.session() as db:
        camille = db.scalar(sa.select(LtiUser.id).where(LtiUser.sub == scenario.SUB))
        assert camille is not None
        rows.identity(db, camille, birth_name="Naissance-Unique", delete_after=dt.date(2027, 6, 30))
        other = rows.person(db, "other")
        rows.identity(db, other, birth_name="Quelqu’un-d’autre")
    archive = tmp_path / "export.zip"
    who = ("--platform", scenario.ISSUER, "--sub", scenario.SUB)
    assert learner_cli(settings, "export", *who, "--output", str(archive)).exit_code == 0
    with zipfile.ZipFile(archive) as zipped:
        document = json.loads(zipped.read("certification_identity.json"))
        readme = zipped.read("README.txt").decode()
        everything = b"".join(zipped.read(name) for name in zipped.namelist()).decode()
    assert document["birth_name"] == "Naissance-Unique"
    assert document["first_names"] == ["Camille"]
    assert (document["birth_insee_code"], document["delete_after"]) == ("75056", "2027-06-30")
    assert "certification_identity.json" in readme
    assert "Quelqu’un-d’autre" not in everything
    erased = learner_cli(settings, "erase", *who, "--requested-by", "DPO 2026-01", "--yes")
    assert erased.exit_code == 0, erased.output
    assert "holder_identity_deleted: 1" in erased.output
    assert set(kept(clean_database)) == {other}
