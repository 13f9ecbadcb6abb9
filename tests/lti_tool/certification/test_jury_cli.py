"""``jalon certification session``: the jury's work from the command line, as an admin runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from lti_tool.certification.models import CertificationSession, JuryDecision
from lti_tool.cli import main
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from tests.database_rows import every_row
from tests.lti_tool.certification.jury_rows import Promotion, promotion
from tests.lti_tool.evaluation.factories import FRAMEWORK

BLOCS = ("B1", "B2", "B3", "B4")


@pytest.fixture
def run(tmp_path: Path, database_url: str, clean_database: Database) -> CliRunner:
    with clean_database.session() as db:
        install_bundled(db)
    return CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_BASE_URL": "https://jalon.test",
            "JALON_SECRET_KEY": "",
        }
    )


@pytest.fixture
def promo(clean_database: Database, run: CliRunner) -> Promotion:
    with clean_database.session() as db:
        return promotion(db)


def jalon(run: CliRunner, *args: str) -> Result:
    return run.invoke(main, ["certification", "session", *args])


def _opened(run: CliRunner) -> str:
    result = jalon(
        run,
        "create",
        "--framework",
        FRAMEWORK,
        "--title",
        "Jury de juin",
        "--jury-date",
        "2026-06-30",
        "--exam-mode",
        "MIXTE",
    )
    assert result.exit_code == 0, result.output
    return result.output.split()[1]


def test_create_refuses_bad_fields_naming_them(run: CliRunner, clean_database: Database) -> None:
    before = every_row(clean_database)
    result = jalon(
        run,
        "create",
        "--framework",
        FRAMEWORK,
        "--title",
        "Jury",
        "--jury-date",
        "2026-06-30",
        "--exam-postal-code",
        "7500",
        "--exam-mode",
        "SUR_PLACE",
    )
    assert result.exit_code == 1
    assert "exam_postal_code: a postal code is 5 digits, not '7500'" in result.output
    assert "exam_mode: must be one of EN_PRESENTIEL, A_DISTANCE, MIXTE" in result.output
    assert "nothing was changed" in result.output
    bad_date = jalon(
        run, "create", "--framework", FRAMEWORK, "--title", "J", "--jury-date", "30/06"
    )
    assert bad_date.exit_code == 2
    assert "--jury-date" in bad_date.output
    unknown = jalon(
        run, "create", "--framework", "nope", "--title", "J", "--jury-date", "2026-06-30"
    )
    assert unknown.exit_code == 1
    assert "framework: no imported référentiel 'nope'" in unknown.output
    assert every_row(clean_database) == before


def test_a_whole_session_from_the_command_line(
    run: CliRunner, promo: Promotion, clean_database: Database
) -> None:
    session_id = _opened(run)
    assert f"{session_id}\topen\t2026-06-30\t{FRAMEWORK} 1.0\t0 candidates\tJury de juin" in (
        jalon(run, "list").output
    )
    courses = jalon(run, "courses", session_id)
    assert f"{promo.course.context_id}\t" in courses.output
    assert "2 learners\tPromotion 2026" in courses.output
    bad_role = jalon(run, "add-member", session_id, "--name", "X", "--role", "juge")
    assert bad_role.exit_code == 1
    assert "role: must be one of president, member, professional, not 'juge'" in bad_role.output
    for name, role in (("Claire Moreau", "president"), ("Hugo Bernard", "professional")):
        assert jalon(run, "add-member", session_id, "--name", name, "--role", role).exit_code == 0
    added = jalon(run, "add-candidates", session_id, "--course", str(promo.course.context_id))
    assert added.output.strip() == "2 candidates added: 1 2"
    missing = jalon(run, "add-candidates", session_id, "--course", "999999")
    assert (missing.exit_code, missing.output.strip()) == (1, "Error: course: no course 999999")

    early = jalon(run, "sign", session_id, "--by", "Claire Moreau", "--yes")
    assert early.exit_code == 1
    assert "candidate 1: no decision on bloc B1" in early.output
    assert "candidate 2: no decision on the title" in early.output

    refused = jalon(
        run, "decide", session_id, "--candidate", "2", "--bloc", "B2", "--validated", "--by", "CM"
    )
    assert refused.exit_code == 1
    assert "reasons: Jalon does not find C2.2" in refused.output
    neither = jalon(run, "decide", session_id, "--candidate", "1", "--validated", "--by", "CM")
    assert neither.exit_code == 2, neither.output
    no_verdict = jalon(run, "decide", session_id, "--candidate", "1", "--bloc", "B1", "--by", "CM")
    assert no_verdict.exit_code == 2
    assert "--validated" in no_verdict.output
    for number in ("1", "2"):
        for bloc in BLOCS:
            verdict = "--validated" if (number, bloc) == ("1", "B2") else "--not-validated"
            args = ["--candidate", number, "--bloc", bloc, verdict, "--by", "CM"]
            result = jalon(run, "decide", session_id, *args, "--reasons", "Délibéré")
            assert result.exit_code == 0, result.output
        result = jalon(
            run,
            "decide",
            session_id,
            "--candidate",
            number,
            "--title",
            "--not-validated",
            "--reasons",
            "Blocs manquants",
            "--by",
            "CM",
        )
        assert result.exit_code == 0, result.output
    shown = jalon(run, "show", session_id).output
    assert "  1\tcourse" in shown
    assert "B2=V B3=NV B4=NV title=NV" in shown
    assert "to sign" not in shown

    unconfirmed = jalon(run, "sign", session_id, "--by", "Claire Moreau")
    assert unconfirmed.exit_code == 1  # no answer to the confirmation: aborted
    signed = jalon(run, "sign", session_id, "--by", "Claire Moreau", "--yes")
    # Signing issues the credential of the one validated bloc (Ana's B2) at once.
    assert signed.output.strip() == "minutes signed: 10 final decisions, 1 credentials issued"
    late = jalon(
        run,
        "decide",
        session_id,
        "--candidate",
        "1",
        "--bloc",
        "B1",
        "--validated",
        "--reasons",
        "x",
        "--by",
        "CM",
    )
    assert late.exit_code == 1
    assert "session: the minutes are signed" in late.output

    silent = jalon(
        run, "correct", session_id, "--candidate", "1", "--bloc", "B2", "--validated", "--by", "CM"
    )
    assert silent.exit_code == 1
    assert "reasons: a correction says why" in silent.output
    against = jalon(
        run, "correct", session_id, "--candidate", "1", "--bloc", "B1", "--validated", "--by", "CM"
    )
    assert "reasons: Jalon does not find C1.1, C1.2" in against.output
    fixed = jalon(
        run,
        "correct",
        session_id,
        "--candidate",
        "1",
        "--bloc",
        "B1",
        "--validated",
        "--reasons",
        "Erreur de report",
        "--by",
        "CM",
    )
    assert fixed.exit_code == 0, fixed.output
    with clean_database.session() as db:
        session = db.get(CertificationSession, int(session_id))
        assert session is not None
        assert session.is_signed
        newest = db.scalars(sa.select(JuryDecision).order_by(JuryDecision.id.desc())).first()
        assert newest is not None
        assert (newest.code, newest.is_validated, newest.is_final) == ("B1", True, True)
        assert newest.supersedes_id is not None
    assert f"decision {newest.id} corrects decision {newest.supersedes_id}" in fixed.output


def test_an_unknown_session_or_candidate_is_named(run: CliRunner, promo: Promotion) -> None:
    missing = jalon(run, "show", "42")
    assert (missing.exit_code, missing.output.strip()) == (1, "Error: session: no session 42")
    session_id = _opened(run)
    nobody = jalon(
        run, "decide", session_id, "--candidate", "9", "--bloc", "B1", "--validated", "--by", "CM"
    )
    assert nobody.exit_code == 1
    assert f"candidate: no candidate 9 in session {session_id}" in nobody.output
