"""``rncp`` in the framework file: the title's RNCP number and each bloc's, optional."""

from __future__ import annotations

import json

import pytest

from referentiel.exports.case import export_case, load_case_text
from referentiel.exports.yaml_file import dump_yaml, to_document
from referentiel.loader import load_file, load_yaml_text
from tests.conftest import REPO
from tests.referentiel.test_loader import GOOD, problems

SHIPPED = REPO / "referentiel" / "data" / "community-manager-n6.yaml"
WITH_RNCP = GOOD.replace("  publisher: Jalon\n", "  publisher: Jalon\n  rncp: RNCP38596\n").replace(
    "    title: Premier bloc\n", "    title: Premier bloc\n    rncp: RNCP38596BC01\n"
)


def test_the_numbers_load_and_survive_yaml_and_case() -> None:
    framework = load_yaml_text(WITH_RNCP)
    assert framework.identity.rncp == "RNCP38596"
    assert framework.blocs[0].rncp == "RNCP38596BC01"
    assert load_yaml_text(dump_yaml(framework)) == framework
    case = json.dumps(export_case(framework, "https://jalon.test"))
    assert load_case_text(case) == framework


def test_without_them_a_file_is_written_back_unchanged() -> None:
    framework = load_yaml_text(GOOD)
    assert framework.identity.rncp is None
    document = to_document(framework)
    # No ``rncp: null``: a framework stored before the field keeps its checksum.
    assert "rncp" not in document["framework"]
    assert "rncp" not in document["blocs"][0]


def test_the_shipped_framework_has_none_because_its_source_gives_none() -> None:
    framework = load_file(SHIPPED)
    assert framework.identity.rncp is None
    assert {bloc.rncp for bloc in framework.blocs} == {None}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("rncp: RNCP38596\n", "rncp: 38596\n", "framework.rncp: not a valid string"),
        ("rncp: RNCP38596\n", "rncp: RNCP-38596\n", "framework.rncp: must be an RNCP number"),
        ("rncp: RNCP38596BC01", "rncp: RNCP38596", "blocs[0].rncp: must be an RNCP bloc code"),
        ("rncp: RNCP38596BC01", "rncp: RNCP11111BC01", "is not a bloc of RNCP38596"),
        ("  rncp: RNCP38596\n", "", "blocs[0].rncp: needs the title's number too"),
    ],
)
def test_bad_numbers_are_refused_with_the_field_named(old: str, new: str, expected: str) -> None:
    assert old in WITH_RNCP
    found = problems(WITH_RNCP.replace(old, new, 1))
    assert any(expected in line for line in found), found
