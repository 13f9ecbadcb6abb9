"""The builder on plain data (no database): what the checks refuse, and what they let through."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
from lxml import etree

from lti_tool.certification.accrochage import Issue, SchemaError, load_schema
from lti_tool.certification.accrochage.model import (
    Certifier,
    ExamSession,
    Flux,
    Holder,
    Identity,
    Obtained,
)
from lti_tool.certification.accrochage.write import render_flux, write_flux

IDENTITY = Identity(
    birth_name="Exemple",
    first_name_1="Camille",
    birth_year=1990,
    sex="F",
    birth_postal_code="75011",
)
OBTAINED = Obtained(
    certification="B1",
    is_title=False,
    rncp="RNCP99999BC01",
    technical_id="JALON-1",
    valid_from=dt.date(2026, 11, 30),
)


def _flux(**identity: object) -> Flux:
    return Flux(
        flux_id="JALON-TEST",
        timestamp=dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        certifier=Certifier("EX000001", "C1"),
        session=ExamSession(session_id=1, jury_date=dt.date(2026, 11, 30)),
        holders=(Holder(1, "Camille", dataclasses.replace(IDENTITY, **identity), (OBTAINED,)),),
    )


def test_the_least_the_xsd_needs_is_enough() -> None:
    outcome = render_flux(_flux(), load_schema())
    assert outcome.problems == ()
    assert outcome.document is not None
    root = etree.fromstring(outcome.document)
    ns = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}
    assert root.findtext("cpf:horodatage", namespaces=ns) == "2026-12-01T10:00:00+01:00"
    assert root.find(".//cpf:urlPreuve", ns) is None
    assert root.find(".//cpf:codeInseeNaissance", ns) is None
    assert root.findtext(".//cpf:codePostal", namespaces=ns) == "75011"


@pytest.mark.parametrize(
    ("change", "field", "issue"),
    [
        ({"birth_name": "   "}, "nomNaissance", Issue.MISSING),
        ({"first_name_1": None}, "prenom1", Issue.MISSING),
        ({"sex": ""}, "sexe", Issue.MISSING),
        ({"sex": "X"}, "sexe", Issue.NOT_ALLOWED),
        ({"birth_year": 1899}, "anneeNaissance", Issue.OUT_OF_RANGE),
        ({"birth_day": 3}, "moisNaissance", Issue.MISSING),
        ({"birth_insee_code": "7505"}, "codeInsee", Issue.WRONG_LENGTH),
        ({"usage_name": "Dupont\x00"}, "nomUsage", Issue.XML_CHARACTER),
        ({"first_name_2": "Ana\ufffe"}, "prenom2", Issue.XML_CHARACTER),
        ({"access_route": "APPRENTISSAGE"}, "modaliteAcces", Issue.NOT_ALLOWED),
    ],
)
def test_a_bad_value_is_refused_with_its_xsd_field(
    change: dict[str, object], field: str, issue: Issue
) -> None:
    outcome = render_flux(_flux(**change), load_schema())
    assert outcome.document is None
    assert [(p.candidate, p.field, p.issue) for p in outcome.problems] == [(1, field, issue)]


def test_nothing_is_written_when_anything_is_wrong(tmp_path: Path) -> None:
    folder = tmp_path
    target = folder / "flux.xml"
    assert write_flux(_flux(birth_year=None), load_schema(), target).document is None
    assert list(folder.iterdir()) == []
    assert write_flux(_flux(), load_schema(), target).is_valid
    assert [p.name for p in folder.iterdir()] == ["flux.xml"]


@pytest.mark.parametrize(
    ("xsd", "reason"),
    [
        (b"<not-a-schema", "Couldn't find end of Start Tag"),
        (b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>', "targetNamespace"),
        (
            b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            b'targetNamespace="urn:cdc:cpf:pc5:schema:1.0.0">'
            b'<xsd:include schemaLocation="/etc/hostname"/></xsd:schema>',
            "self-contained (it has xsd:include)",
        ),
        (b"x" * (3 * 1024 * 1024), "larger than 2 MB"),
    ],
)
def test_an_unusable_xsd_is_refused_saying_why(xsd: bytes, reason: str) -> None:
    with pytest.raises(SchemaError, match=re.escape(reason)):
        load_schema(xsd)


def test_the_builder_imports_no_web_framework() -> None:
    # lti_tool/__init__ (create_app) imports Flask, so the check reads the package's sources.
    import ast

    from tests.conftest import REPO

    package = REPO / "lti_tool" / "certification" / "accrochage"
    imported = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    assert "lxml" in imported
    assert not {n for n in imported if n.split(".")[0] in {"flask", "flask_babel", "werkzeug"}}
    assert "lti_tool.people" not in imported  # it speaks through flask_babel
