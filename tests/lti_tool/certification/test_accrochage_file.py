"""The accrochage file of a signed session: who is declared, what it says, what stops it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
import xmlschema
from lxml import etree

from lti_tool.certification import links
from lti_tool.certification.accrochage import (
    Certifier,
    Issue,
    Outcome,
    Problem,
    declare,
    load_schema,
    write_atomically,
)
from lti_tool.certification.accrochage.gather import Declaration
from lti_tool.certification.accrochage.xsd import DEFAULT_XSD_NAME, DEFAULT_XSD_SHA256
from lti_tool.certification.models import HolderIdentity
from lti_tool.db import Database
from tests.conftest import BASE_URL
from tests.lti_tool.certification import accrochage_scenario as scenario

PACKAGE_XSD = scenario.REPO / "lti_tool" / "certification" / "accrochage" / DEFAULT_XSD_NAME
CERTIFIER = Certifier("EX000001", "MCFCER000123")
NS = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}
NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def _declare(
    database: Database, session_id: int, xsd: bytes | None = None, certifier: Certifier = CERTIFIER
) -> tuple[Declaration, Outcome]:
    with database.session() as db:
        return declare(
            db, session_id, certifier, BASE_URL, load_schema(xsd), name_of=_name, now=NOW
        )


def _name(user: object) -> str:
    return str(getattr(user, "name", ""))


def _fields(problems: tuple[Problem, ...]) -> set[tuple[int | None, str]]:
    return {(p.candidate, p.field) for p in problems}


def test_the_shipped_xsd_is_a_byte_copy_of_the_caisse_file() -> None:
    assert scenario.sha256(PACKAGE_XSD) == DEFAULT_XSD_SHA256
    if scenario.SPEC_XSD.is_file():  # the reference copy, where this checkout has it
        assert PACKAGE_XSD.read_bytes() == scenario.SPEC_XSD.read_bytes()


def test_a_complete_session_gives_a_file_valid_against_the_xsd(
    clean_database: Database, tmp_path: Path
) -> None:
    ids = scenario.build(clean_database)
    declaration, outcome = _declare(clean_database, ids.session_id)
    assert outcome.problems == ()
    assert outcome.document is not None
    target = tmp_path / "flux.xml"
    write_atomically(target, outcome.document)
    # Validated again, from the file, by another implementation than the one that built it.
    xmlschema.XMLSchema(str(PACKAGE_XSD)).validate(str(target))
    root = etree.parse(str(target)).getroot()

    assert root.findtext("cpf:idFlux", namespaces=NS) == declaration.flux.flux_id
    assert root.findtext("cpf:horodatage", namespaces=NS) == "2026-12-01T09:30:00+00:00"
    assert root.findtext("cpf:emetteur/cpf:idClient", namespaces=NS) == "EX000001"
    certifier = root.find("cpf:emetteur/cpf:certificateurs/cpf:certificateur", NS)
    assert certifier.findtext("cpf:idContrat", namespaces=NS) == "MCFCER000123"
    codes = {
        c.findtext("cpf:code", namespaces=NS): c
        for c in certifier.iterfind("cpf:certifications/cpf:certification", NS)
    }
    # The title, and each validated bloc as a certification of its own.
    assert sorted(codes) == ["RNCP99999", *(f"RNCP99999BC0{n}" for n in range(1, 5))]
    assert {c.findtext("cpf:type", namespaces=NS) for c in codes.values()} == {"RNCP"}

    def holders(code: str) -> list[str]:
        return [
            p.findtext(".//cpf:titulaire/cpf:nomNaissance", namespaces=NS)
            for p in codes[code].iterfind(".//cpf:passageCertification", NS)
        ]

    assert holders("RNCP99999") == ["Exemple"]
    assert holders("RNCP99999BC02") == ["Exemple", "Durand"]
    assert holders("RNCP99999BC03") == ["Exemple"]  # Dominique's B3 was corrected to refused
    assert holders("RNCP99999BC01") == ["Exemple"]
    assert "Martin" not in target.read_text(encoding="utf-8")  # Alex validated nothing

    title = codes["RNCP99999"].find(".//cpf:passageCertification", NS)
    expect = {
        "urlPreuve": links.verification_url(BASE_URL, scenario.CAMILLE_PROOF_ID),
        "obtentionCertification": "PAR_ADMISSION",
        "donneeCertifiee": "true",
        "dateDebutExamen": "2026-11-16",
        "dateFinExamen": "2026-11-20",
        "modalitePassageExamen": "EN_PRESENTIEL",
        "codePostalCentreExamen": "69007",
        "dateDebutValidite": "2026-11-30",
        "modalitesInscription/cpf:modaliteAcces": (
            "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION"
        ),
        "modalitesInscription/cpf:dateInscription": "2025-09-01",
    }
    for path, value in expect.items():
        assert title.findtext(f"cpf:{path}", namespaces=NS) == value, path
    person = title.find(".//cpf:titulaire", NS)
    assert [(etree.QName(e).localname, e.text) for e in person if e.text and e.text.strip()] == [
        ("nomNaissance", "Exemple"),
        ("prenom1", "Camille"),
        ("prenom2", "Marie"),
        ("anneeNaissance", "1990"),
        ("moisNaissance", "5"),
        ("jourNaissance", "14"),
        ("sexe", "F"),
        ("libelleCommuneNaissance", "Paris"),
    ]
    assert person.findtext(".//cpf:codeInseeNaissance/cpf:codeInsee", namespaces=NS) == "75056"
    nil = "{http://www.w3.org/2001/XMLSchema-instance}nil"
    assert person.find("cpf:nomUsage", NS).get(nil) == "true"
    assert title.find("cpf:dateFinValidite", NS).get(nil) == "true"  # no end of validity

    bc02 = codes["RNCP99999BC02"].findall(".//cpf:passageCertification", NS)
    assert bc02[0].findtext("cpf:dateFinValidite", namespaces=NS) == "2031-11-30"
    assert bc02[0].findtext("cpf:urlPreuve", namespaces=NS).endswith(scenario.B2_PROOF_ID)
    dominique = bc02[1]
    assert dominique.find("cpf:urlPreuve", NS) is None  # no credential issued: no proof
    assert dominique.findtext(".//cpf:codePostal", namespaces=NS) == "69003"
    assert dominique.findtext(".//cpf:nomUsage", namespaces=NS) == "Lefèvre"
    assert dominique.findtext(".//cpf:voieAccessVAE", namespaces=NS) == "VAE_CLASSIQUE"


def test_a_second_file_has_a_new_flux_id_and_the_same_passage_ids(
    clean_database: Database,
) -> None:
    ids = scenario.build(clean_database)
    first, one = _declare(clean_database, ids.session_id)
    second, two = _declare(clean_database, ids.session_id)
    assert first.flux.flux_id != second.flux.flux_id
    assert len(first.flux.flux_id) <= 50

    def passages(document: bytes | None) -> list[str]:
        assert document is not None
        return etree.fromstring(document).xpath("//cpf:idTechnique/text()", namespaces=NS)

    assert passages(one.document) == passages(two.document)
    assert len(set(passages(one.document))) == 6  # Camille's five, Dominique's B2


def test_a_missing_birth_date_is_refused_with_the_field_named(
    clean_database: Database, tmp_path: Path
) -> None:
    ids = scenario.build(clean_database)
    with clean_database.session() as db:
        db.execute(
            sa.update(HolderIdentity)
            .where(HolderIdentity.learner_id == ids.dominique)
            .values(birth_year=None)
        )
    _, outcome = _declare(clean_database, ids.session_id)
    assert outcome.document is None
    (problem,) = outcome.problems
    assert (problem.candidate, problem.name, problem.field) == (
        2,
        "Dominique Durand",
        "anneeNaissance",
    )
    assert problem.issue is Issue.MISSING


@pytest.mark.parametrize(
    ("column", "field"), [("birth_name", "nomNaissance"), ("first_name_1", "prenom1")]
)
def test_a_character_xml_cannot_carry_is_refused_not_dropped(
    clean_database: Database, column: str, field: str
) -> None:
    ids = scenario.build(clean_database)
    with clean_database.session() as db:
        db.execute(
            sa.update(HolderIdentity)
            .where(HolderIdentity.learner_id == ids.camille)
            .values({column: "Exem\x0bple"})
        )
    _, outcome = _declare(clean_database, ids.session_id)
    assert outcome.document is None
    (problem,) = outcome.problems
    assert (problem.candidate, problem.field, problem.issue) == (1, field, Issue.XML_CHARACTER)
    assert problem.detail == "U+000B"


def test_every_problem_is_listed_at_once(clean_database: Database) -> None:
    ids = scenario.build(clean_database, with_identities=False)
    with clean_database.session() as db:
        db.add(
            HolderIdentity(
                learner_id=ids.dominique,
                birth_name="Durand",
                birth_city="V" * 61,  # the column holds 100; the XSD takes 60
                first_name_1="Dominique",
                birth_year=1985,
                birth_month=2,
                birth_day=30,
                sex="X",
                source="form",
            )
        )
    _, outcome = _declare(clean_database, ids.session_id, certifier=Certifier(None, None))
    assert outcome.document is None
    assert _fields(outcome.problems) == {
        (None, "idClient"),
        (None, "idContrat"),
        (1, "titulaire"),  # no identity recorded at all
        (2, "libelleCommuneNaissance"),  # 61 characters
        (2, "jourNaissance"),  # 30 February
        (2, "sexe"),
        (2, "codeCommuneNaissance"),
    }


def test_without_rncp_in_the_referentiel_the_file_is_refused_naming_rncp(
    clean_database: Database,
) -> None:
    ids = scenario.build(clean_database, rncp=False)
    _, outcome = _declare(clean_database, ids.session_id)
    assert outcome.document is None
    assert {(p.field, p.certification) for p in outcome.problems} == {
        ("rncp", scenario.FRAMEWORK),
        *(("rncp", f"B{n}") for n in range(1, 5)),
    }
    assert {p.candidate for p in outcome.problems} == {None}  # the référentiel's, said once


def test_an_unsigned_session_declares_nobody(clean_database: Database) -> None:
    ids = scenario.build(clean_database, signed=False)
    declaration, outcome = _declare(clean_database, ids.session_id)
    assert declaration.flux.holders == ()
    assert outcome.document is None
    assert [p.issue for p in outcome.problems] == [Issue.NOT_SIGNED]


def _stricter(path: Path, old: bytes, new: bytes) -> bytes:
    data = path.read_bytes()
    assert old in data
    return data.replace(old, new, 1)


def test_another_xsd_is_used_and_its_errors_name_candidate_and_field(
    clean_database: Database,
) -> None:
    ids = scenario.build(clean_database)
    # A "newer" schema where birth names are at most 6 characters: "Exemple" has 7.
    stricter = _stricter(
        PACKAGE_XSD,
        b'<xsd:element name="nomNaissance">\n            <xsd:simpleType>\n'
        b'               <xsd:restriction base="xsd:string">\n'
        b'                  <xsd:minLength value="1"/>\n'
        b'                  <xsd:maxLength value="60"/>',
        b'<xsd:element name="nomNaissance">\n            <xsd:simpleType>\n'
        b'               <xsd:restriction base="xsd:string">\n'
        b'                  <xsd:minLength value="1"/>\n'
        b'                  <xsd:maxLength value="6"/>',
    )
    _, outcome = _declare(clean_database, ids.session_id, xsd=stricter)
    assert outcome.document is None
    assert outcome.problems
    assert {(p.candidate, p.name, p.field, p.issue) for p in outcome.problems} == {
        (1, "Camille Exemple", "nomNaissance", Issue.XSD)
    }
    assert {p.certification for p in outcome.problems} == {
        scenario.FRAMEWORK,
        *(f"B{n}" for n in range(1, 5)),
    }
