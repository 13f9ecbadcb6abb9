"""``jalon learner export`` and ``erase``: everything about a person out, then nothing left."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from lti_tool.cli import main
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation.models import (
    CompetencyDecision,
    Evaluation,
    LearnerProgress,
    Submission,
    SubmissionVersion,
)
from lti_tool.models import LtiUser
from lti_tool.privacy import erase as erase_module
from lti_tool.privacy.models import Erasure
from tests.database_rows import every_row
from tests.lti_tool.privacy import scenario
from tests.lti_tool.privacy.scenario import EMAIL, ISSUER, NAME, PERSONAL, SUB
from xapi import outbox
from xapi.voiding import VOIDED

SECRET = "cli-secret-key-0123456789"  # noqa: S105 (a test value)


@pytest.fixture
def people(clean_database: Database, settings: Settings) -> scenario.People:
    return scenario.build(clean_database, settings.instance_path)


def _run(settings: Settings, *args: str, keep: str = "true") -> Result:
    env = {
        "JALON_DATABASE_URL": settings.database_url,
        "JALON_INSTANCE_PATH": str(settings.instance_path),
        "JALON_SECRET_KEY": SECRET,
        "JALON_BASE_URL": "https://jalon.example.edu",
        "JALON_ERASURE_KEEP_DECISIONS": keep,
    }
    return CliRunner(env=env).invoke(main, ["learner", *args], catch_exceptions=False)


def _export(settings: Settings, path: Path, sub: str = SUB) -> Result:
    return _run(settings, "export", "--platform", ISSUER, "--sub", sub, "--output", str(path))


def _erase(settings: Settings, sub: str = SUB, keep: str = "true") -> Result:
    return _run(
        settings,
        "erase",
        "--issuer",
        f"{ISSUER}/",  # as typed, with a trailing slash: the issuer is normalised
        "--sub",
        sub,
        "--requested-by",
        "DPO 2026-042",
        "--yes",
        keep=keep,
    )


def _read(path: Path) -> dict[str, object]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: json.loads(archive.read(name)) if name.endswith(".json") else archive.read(name)
            for name in archive.namelist()
        }


def test_export_holds_everything_about_the_person(
    settings: Settings, people: scenario.People, tmp_path: Path
) -> None:
    result = _export(settings, tmp_path / "camille.zip")
    assert result.exit_code == 0, result.output
    files = _read(tmp_path / "camille.zip")
    readme = files["README.txt"].decode()  # type: ignore[attr-defined]
    assert "Vos données dans Jalon" in readme
    assert "Your data in Jalon" in readme
    for name in (n for n in files if n.endswith(".json")):
        assert f"- {name}" in readme, f"the README does not describe {name}"
    person = files["person.json"]
    assert person["sub"] == SUB  # type: ignore[index]
    assert person["email"] == EMAIL  # type: ignore[index]
    assert person["exported_at"].endswith("+00:00")  # type: ignore[index]
    submissions = files["submissions.json"]
    assert [s["epreuve_code"] for s in submissions] == ["E3", "E1"]  # type: ignore[attr-defined]
    paths = [f["path"] for s in submissions for v in s["versions"] for f in v["files"]]  # type: ignore[attr-defined]
    assert [files[p] for p in paths] == [NAME.encode(), EMAIL.encode()]
    evaluations = files["evaluations.json"]
    assert [e["status"] for e in evaluations] == ["published", "draft"]  # type: ignore[attr-defined]
    assert "evaluator_id" not in evaluations[0]  # type: ignore[index]
    decisions = files["decisions.json"]
    assert {d["competency_code"]: d["is_acquired"] for d in decisions} == {  # type: ignore[attr-defined]
        "C2.1": True,
        "C2.2": True,
    }
    assert files["as_evaluator.json"] == {"has_evaluated": False, "evaluations": []}
    assert {p["kind"] for p in files["progress.json"]} >= {"competency", "bloc"}  # type: ignore[attr-defined]
    assert [g["status"] for g in files["grades.json"]] == ["sent"]  # type: ignore[attr-defined]
    statements = files["xapi_statements.json"]
    assert sorted(s["statement_id"] for s in statements) == sorted(  # type: ignore[attr-defined]
        people.statements[k].id for k in ("delivered", "pending", "dead")
    )
    assert files["courses.json"][0]["course"]["context_id"] == "cm-2026"  # type: ignore[index]


def test_export_erase_export_leaves_nothing_personal(
    settings: Settings, people: scenario.People, clean_database: Database, tmp_path: Path
) -> None:
    assert _export(settings, tmp_path / "before.zip").exit_code == 0
    before = scenario.dump(clean_database)
    assert all(value in before for value in PERSONAL)

    result = _erase(settings)
    assert result.exit_code == 0, result.output
    assert "statements_voided: 1" in result.output

    again = _export(settings, tmp_path / "after.zip")
    assert again.exit_code != 0
    assert "no person with sub" in again.output
    assert not (tmp_path / "after.zip").exists()
    after = scenario.dump(clean_database)
    for value in PERSONAL:
        assert value not in after, f"{value!r} is still in the database"
    on_disk = scenario.stored_text(settings.instance_path)
    assert NAME not in on_disk
    assert EMAIL not in on_disk
    assert "Dominique" in on_disk  # the other learner's file stays
    with clean_database.session() as session:
        # The LRS had the delivered statement: it is voided. The others never left: gone.
        bodies = [json.loads(e.body) for e in outbox.iter_entries(session)]
        voiding = [b for b in bodies if b["verb"]["id"] == VOIDED.iri]
        assert [b["object"] for b in voiding] == [
            {"objectType": "StatementRef", "id": people.statements["delivered"].id}
        ]
        assert {b["id"] for b in bodies} == {
            voiding[0]["id"],
            people.statements["other"].id,
        }
        # The decisions stay, pseudonymised and without their free texts.
        kept = session.scalars(
            sa.select(Evaluation).where(Evaluation.evaluator_id == people.paul)
        ).all()
        assert sorted(e.comment for e in kept) == ["", ""]
        assert session.get(LtiUser, people.camille).sub.startswith("erased:")  # type: ignore[union-attr]
        assert (
            session.scalar(
                sa.select(CompetencyDecision.justification).where(
                    CompetencyDecision.competency_code == "C2.2",
                    CompetencyDecision.override.is_not(None),
                )
            )
            == ""
        )
        assert session.scalars(sa.select(SubmissionVersion.text)).all().count("") == 1
        (erasure,) = session.scalars(sa.select(Erasure)).all()
        assert erasure.issuer == ISSUER
        assert erasure.requested_by == "DPO 2026-042"
        assert erasure.is_decisions_kept
        assert erasure.counts["submissions_deleted"] == 1
        assert erasure.counts["evaluations_kept"] == 1
        assert erasure.counts["statements_deleted_unsent"] == 2
        assert len(erasure.person_hash or "") == 64
        assert SUB not in repr(erasure.__dict__)


def test_erasure_without_keeping_decisions_deletes_the_person(
    settings: Settings, people: scenario.People, clean_database: Database
) -> None:
    result = _erase(settings, keep="false")
    assert result.exit_code == 0, result.output
    with clean_database.session() as session:
        assert session.get(LtiUser, people.camille) is None
        learners = session.scalars(sa.select(Submission.learner_id)).all()
        assert learners == [people.dominique]
        progress = set(session.scalars(sa.select(LearnerProgress.learner_id)))
        assert progress == {people.dominique}
        # Paul's evaluation of Dominique is untouched.
        assert session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 1


def test_erasing_an_evaluator_keeps_what_they_published_for_others(
    settings: Settings, people: scenario.People, clean_database: Database, tmp_path: Path
) -> None:
    with clean_database.session() as session:
        paul_sub = session.get(LtiUser, people.paul).sub  # type: ignore[union-attr]
    assert _export(settings, tmp_path / "paul.zip", paul_sub).exit_code == 0
    as_evaluator = _read(tmp_path / "paul.zip")["as_evaluator.json"]
    assert as_evaluator["has_evaluated"] is True  # type: ignore[index]
    assert _erase(settings, paul_sub).exit_code == 0
    with clean_database.session() as session:
        paul = session.get(LtiUser, people.paul)
        assert paul is not None
        assert paul.name is None
        assert paul.sub.startswith("erased:")
        comments = sorted(
            session.scalars(sa.select(Evaluation.comment).where(Evaluation.status == "published"))
        )
        assert comments == ["", f"Bravo {NAME}"]  # the learners' records stay as they were
        assert session.scalars(sa.select(Evaluation.status)).all().count("draft") == 0


@pytest.mark.parametrize("command", ["export", "erase"])
def test_an_unknown_person_is_refused_and_nothing_changes(
    settings: Settings,
    people: scenario.People,
    clean_database: Database,
    tmp_path: Path,
    command: str,
) -> None:
    before = every_row(clean_database)
    if command == "export":
        result = _export(settings, tmp_path / "nobody.zip", "moodle-user-99999")
    else:
        result = _erase(settings, "moodle-user-99999")
    assert result.exit_code == 1
    assert "no person with sub 'moodle-user-99999'" in result.output
    assert f"nothing was {command}" in result.output
    assert every_row(clean_database) == before
    assert list(tmp_path.glob("*.zip")) == []
    assert list(tmp_path.glob(".jalon-export-*")) == []


def test_an_erasure_interrupted_half_way_leaves_everything_as_before(
    settings: Settings,
    people: scenario.People,
    clean_database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = every_row(clean_database)
    on_disk = scenario.stored_text(settings.instance_path)
    real = erase_module._memberships_and_cache

    def fails_after(*args: object) -> None:
        real(*args)  # type: ignore[arg-type]
        raise OSError("disk full")

    monkeypatch.setattr(erase_module, "_memberships_and_cache", fails_after)
    with pytest.raises(OSError, match="disk full"):
        _erase(settings)
    assert every_row(clean_database) == before
    assert scenario.stored_text(settings.instance_path) == on_disk
