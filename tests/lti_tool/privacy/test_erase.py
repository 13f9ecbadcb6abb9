"""Erasure's edges: claimed statements, addresses as actors, leftovers, the setting."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from lti_tool.config import ConfigError, Settings
from lti_tool.db import Database
from lti_tool.evaluation.models import Submission
from lti_tool.evaluation.storage import MemoryFileStorage
from lti_tool.privacy.erase import ErasureReport, ErasureRequest, erase, sweep_leftovers
from lti_tool.privacy.person import find_person, person_statements
from tests.lti_tool.evaluation import factories
from tests.lti_tool.privacy import scenario
from tests.xapi.samples import statement
from xapi import outbox
from xapi.voiding import VOIDED, voiding_id

BASE_URL = "https://jalon.example.edu"


@pytest.fixture
def people(clean_database: Database, settings: Settings) -> scenario.People:
    return scenario.build(clean_database, settings.instance_path)


def _erase(database: Database, settings: Settings, storage: object = None) -> ErasureReport:
    request = ErasureRequest(True, "test", "cli", BASE_URL, settings.secret_key)
    with database.session() as session:
        person = find_person(session, scenario.ISSUER, scenario.SUB, lock=True)
        return erase(
            session,
            person,
            storage or scenario.storage(settings.instance_path),  # type: ignore[arg-type]
            request,
            dt.datetime.now(dt.UTC),
        )


def _voided(database: Database) -> list[str]:
    with database.session() as session:
        bodies = [json.loads(e.body) for e in outbox.iter_entries(session)]
    return sorted(b["object"]["id"] for b in bodies if b["verb"]["id"] == VOIDED.iri)


def test_a_statement_a_relay_is_sending_is_voided_not_just_deleted(
    people: scenario.People, clean_database: Database, settings: Settings
) -> None:
    pending = people.statements["pending"].id
    with clean_database.session() as session:
        session.execute(
            sa.update(outbox.outbox)
            .where(outbox.outbox.c.statement_id == pending)
            .values(claimed_by="relay-1", claimed_until=dt.datetime.now(dt.UTC).replace(year=2100))
        )
    report = _erase(clean_database, settings)
    assert report.counts["statements_voided"] == 2
    assert report.counts["statements_deleted_unsent"] == 1
    assert _voided(clean_database) == sorted([people.statements["delivered"].id, pending])


def test_statements_naming_the_person_by_address_are_theirs(
    people: scenario.People, clean_database: Database, settings: Settings
) -> None:
    by_mail = statement(actor={"objectType": "Agent", "mbox": f"mailto:{scenario.EMAIL}"})
    lookalike = statement(learner=f"{scenario.SUB}0")  # another sub that contains theirs
    with clean_database.session() as session:
        outbox.enqueue(session, [by_mail, lookalike])
        person = find_person(session, scenario.ISSUER, scenario.SUB)
        found = {s.statement_id for s in person_statements(session, person)}
    assert by_mail.id in found
    assert lookalike.id not in found
    assert len(found) == 4


def test_files_a_crash_kept_after_the_commit_are_swept(
    people: scenario.People, clean_database: Database, settings: Settings
) -> None:
    # The deletions after commit go to another storage: as if the process died after commit.
    report = _erase(clean_database, settings, MemoryFileStorage())
    assert scenario.NAME in scenario.stored_text(settings.instance_path)
    with clean_database.session() as session:
        swept = sweep_leftovers(
            session, scenario.storage(settings.instance_path), report.storage_keys
        )
    assert swept.files == 2
    on_disk = scenario.stored_text(settings.instance_path)
    assert scenario.NAME not in on_disk
    assert "Dominique" in on_disk


def test_voiding_ids_are_stable() -> None:
    voided = "3f7c2a4e-9b1d-4c55-8e2f-0a1b2c3d4e5f"
    assert voiding_id(BASE_URL, voided) == voiding_id(BASE_URL + "/", voided)
    assert voiding_id(BASE_URL, voided) != voiding_id("https://other.example.edu", voided)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, True), ("true", True), ("0", False), (" No ", False)]
)
def test_the_setting_keeps_decisions_by_default(value: str | None, expected: bool) -> None:
    env = {"JALON_SECRET_KEY": "x" * 32}
    if value is not None:
        env["JALON_ERASURE_KEEP_DECISIONS"] = value
    assert Settings.from_env(env).erasure_keep_decisions is expected


def test_a_wrong_setting_names_the_variable() -> None:
    env = {"JALON_SECRET_KEY": "x" * 32, "JALON_ERASURE_KEEP_DECISIONS": "maybe"}
    with pytest.raises(ConfigError, match="JALON_ERASURE_KEEP_DECISIONS must be true or false"):
        Settings.from_env(env)


def test_a_resubmission_awaiting_evaluation_goes_and_leaves_nothing_to_evaluate(
    people: scenario.People, clean_database: Database, settings: Settings
) -> None:
    with clean_database.session() as session:
        work = session.scalars(
            sa.select(Submission).where(
                Submission.learner_id == people.camille, Submission.epreuve_code == "E3"
            )
        ).one()
        factories.hand_in(session, work, factories.at(40), text="Deuxième version")
        assert work.status == "submitted"
    _erase(clean_database, settings)
    with clean_database.session() as session:
        kept = session.scalars(
            sa.select(Submission).where(Submission.learner_id == people.camille)
        ).one()
        assert kept.status == "evaluated"
        assert [(v.number, v.text) for v in kept.versions] == [(1, "")]
