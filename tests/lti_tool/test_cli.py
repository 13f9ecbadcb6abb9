"""The jalon command as an administrator uses it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lti_tool.cli import main
from tests.conftest import REPO
from tests.referentiel.test_loader import GOOD

SHIPPED = REPO / "referentiel" / "data" / "community-manager-n6.yaml"


@pytest.fixture
def run(tmp_path: Path, database_url: str, clean_database: object) -> CliRunner:
    return CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_BASE_URL": "https://jalon.test",
            "JALON_SECRET_KEY": "",
        }
    )


def test_validate_a_good_file(run: CliRunner) -> None:
    result = run.invoke(main, ["referentiel", "validate", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert "4 blocs, 44 competencies, 135 criteria, 20 activities, 5 épreuves" in result.output


def test_validate_a_bad_file_exits_non_zero(run: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("modality: etude_de_cas", "modality: oral"), encoding="utf-8")
    result = run.invoke(main, ["referentiel", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:34: epreuves[0].modality: must be one of" in result.output


def test_import_list_show_export(run: CliRunner, tmp_path: Path) -> None:
    mini = tmp_path / "mini.yaml"
    mini.write_text(GOOD, encoding="utf-8")
    assert run.invoke(main, ["referentiel", "import", str(mini)]).exit_code == 0
    assert run.invoke(main, ["referentiel", "import", str(SHIPPED)]).exit_code == 0
    listing = run.invoke(main, ["referentiel", "list"]).output
    assert "community-manager-n6\t1.0\tCommunity Manager — Niveau 6" in listing
    assert "mini\t1\tMini référentiel" in listing

    shown = run.invoke(main, ["referentiel", "show", "community-manager-n6"])
    assert "C4.11 (3 criteria)" in shown.output

    # Two stored frameworks: the export must be told which one.
    ambiguous = run.invoke(main, ["referentiel", "export", "--format", "yaml"])
    assert ambiguous.exit_code == 1
    assert "name the référentiel" in ambiguous.output

    case = run.invoke(main, ["referentiel", "export", "community-manager-n6", "--format", "case"])
    package = json.loads(case.output)
    assert package["CFDocument"]["uri"] == "https://jalon.test/referentiels/community-manager-n6/"

    out = tmp_path / "moodle.csv"
    run.invoke(
        main,
        ["referentiel", "export", "community-manager-n6", "--format", "moodle-csv", "-o", str(out)],
    )
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 1 + 1 + 4 + 44


def test_round_trip_through_files(run: CliRunner, tmp_path: Path) -> None:
    case_file = tmp_path / "cm.json"
    yaml_file = tmp_path / "cm.yaml"
    assert (
        run.invoke(
            main,
            [
                "referentiel",
                "export",
                "--file",
                str(SHIPPED),
                "--format",
                "case",
                "-o",
                str(case_file),
            ],
        ).exit_code
        == 0
    )
    assert run.invoke(main, ["referentiel", "validate", str(case_file)]).exit_code == 0
    assert (
        run.invoke(
            main,
            [
                "referentiel",
                "export",
                "--file",
                str(case_file),
                "--format",
                "yaml",
                "-o",
                str(yaml_file),
            ],
        ).exit_code
        == 0
    )
    direct = run.invoke(
        main, ["referentiel", "export", "--file", str(SHIPPED), "--format", "yaml"]
    ).output
    assert yaml_file.read_text(encoding="utf-8") == direct


def test_a_changed_version_is_not_overwritten_silently(run: CliRunner, tmp_path: Path) -> None:
    mini = tmp_path / "mini.yaml"
    mini.write_text(GOOD, encoding="utf-8")
    assert run.invoke(main, ["referentiel", "import", str(mini)]).exit_code == 0
    mini.write_text(GOOD.replace("Premier bloc", "Bloc corrigé"), encoding="utf-8")
    refused = run.invoke(main, ["referentiel", "import", str(mini)])
    assert refused.exit_code == 1
    assert "already stored with other content" in refused.output
    assert run.invoke(main, ["referentiel", "import", str(mini), "--replace"]).exit_code == 0
    assert "Bloc corrigé" in run.invoke(main, ["referentiel", "show", "mini"]).output


def test_a_bad_import_stores_nothing(run: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("code: C2-1,", "code: C1-1,"), encoding="utf-8")
    assert run.invoke(main, ["referentiel", "import", str(bad)]).exit_code == 1
    assert "community" not in run.invoke(main, ["referentiel", "list"]).output
    assert "mini" not in run.invoke(main, ["referentiel", "list"]).output


def test_serving_without_a_secret_is_refused(run: CliRunner) -> None:
    result = run.invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "JALON_SECRET_KEY is required" in result.output


def test_an_unmigrated_database_gets_a_clear_message(tmp_path: Path) -> None:
    runner = CliRunner(
        env={
            "JALON_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
            "JALON_INSTANCE_PATH": str(tmp_path),
        }
    )
    result = runner.invoke(main, ["referentiel", "list"])
    assert result.exit_code == 1
    assert "run `jalon db upgrade`" in result.output
