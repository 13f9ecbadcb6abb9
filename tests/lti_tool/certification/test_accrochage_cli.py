"""``jalon certification accrochage``: exit 0 with a valid file, or 1 with the problems and none."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import xmlschema
from click.testing import CliRunner

from lti_tool.certification.models import HolderIdentity
from lti_tool.cli import main
from lti_tool.db import Database
from tests.lti_tool.certification import accrochage_scenario as scenario
from tests.lti_tool.certification.test_accrochage_file import PACKAGE_XSD


@pytest.fixture
def run(tmp_path: Path, database_url: str, clean_database: Database) -> CliRunner:
    return CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_BASE_URL": "https://jalon.test",
            "JALON_SECRET_KEY": "",
            "JALON_CERTIFIER_ID_CLIENT": "EX000001",
            "JALON_CERTIFIER_ID_CONTRAT": "MCFCER000123",
        }
    )


def _accrochage(run: CliRunner, *args: str) -> tuple[int, str, str]:
    result = run.invoke(main, ["certification", "accrochage", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_complete_session_exits_0_writing_a_valid_file(
    run: CliRunner, clean_database: Database, tmp_path: Path
) -> None:
    ids = scenario.build(clean_database)
    output = tmp_path / "out" / "flux.xml"
    output.parent.mkdir()
    code, out, err = _accrochage(run, "--session", str(ids.session_id), "--output", str(output))
    assert code == 0, err
    assert "6 certification(s) of 2 holder(s)" in out
    xmlschema.XMLSchema(str(PACKAGE_XSD)).validate(str(output))
    assert [p.name for p in output.parent.iterdir()] == ["flux.xml"]  # no temporary left


def test_a_missing_birth_date_exits_1_naming_candidate_and_field_and_writes_nothing(
    run: CliRunner, clean_database: Database, tmp_path: Path
) -> None:
    ids = scenario.build(clean_database)
    with clean_database.session() as db:
        db.execute(
            sa.update(HolderIdentity)
            .where(HolderIdentity.learner_id == ids.camille)
            .values(birth_year=None, birth_name="Exem\x0bple")
        )
    output = tmp_path / "flux.xml"
    code, _, err = _accrochage(run, "--session", str(ids.session_id), "--output", str(output))
    assert code == 1
    assert "n° 1 Camille Exemple: nomNaissance: contains a character XML 1.0 cannot carry" in err
    assert "n° 1 Camille Exemple: anneeNaissance: is required and missing" in err
    assert "2 problem(s): no file written" in err
    assert not output.exists()
    assert list(tmp_path.glob("*.xml*")) == []


def test_a_referentiel_without_rncp_exits_1_naming_rncp(
    run: CliRunner, clean_database: Database, tmp_path: Path
) -> None:
    ids = scenario.build(clean_database, rncp=False)
    output = tmp_path / "flux.xml"
    code, _, err = _accrochage(run, "--session", str(ids.session_id), "--output", str(output))
    assert code == 1
    assert "session [B2]: rncp: the référentiel gives no RNCP code for B2" in err
    assert not output.exists()


def test_the_xsd_given_is_the_one_used(
    run: CliRunner, clean_database: Database, tmp_path: Path
) -> None:
    ids = scenario.build(clean_database)
    # The same schema, except that a contract id may be at most 5 characters.
    stricter = tmp_path / "cpf-newer.xsd"
    data = PACKAGE_XSD.read_bytes()
    at = data.index(b'<xsd:element name="idContrat">')
    limit = data.index(b'<xsd:maxLength value="20"/>', at)
    stricter.write_bytes(data[:limit] + data[limit:].replace(b'"20"', b'"5"', 1))
    output = tmp_path / "flux.xml"
    args = ["--session", str(ids.session_id), "--output", str(output)]
    code, _, err = _accrochage(run, *args, "--xsd", str(stricter))
    assert code == 1
    assert "session: idContrat: refused by the XSD" in err
    assert not output.exists()
    code, _, err = _accrochage(run, *args, "--xsd", str(PACKAGE_XSD))
    assert code == 0, err
    assert output.exists()


def test_bad_arguments_exit_1_naming_the_option(
    run: CliRunner, clean_database: Database, tmp_path: Path
) -> None:
    ids = scenario.build(clean_database)
    code, _, err = _accrochage(run, "--session", "999999")
    assert code == 1
    assert "--session: no certification session 999999" in err
    not_xsd = tmp_path / "not.xsd"
    not_xsd.write_text("<oops", encoding="utf-8")
    code, _, err = _accrochage(run, "--session", str(ids.session_id), "--xsd", str(not_xsd))
    assert code == 1
    assert "--xsd:" in err
    code, _, err = _accrochage(
        run, "--session", str(ids.session_id), "--xsd", str(tmp_path / "missing.xsd")
    )
    assert code == 1
    assert "--xsd:" in err
