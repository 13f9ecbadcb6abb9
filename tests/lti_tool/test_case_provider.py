"""The CASE index: definitions a package may carry are found, with those below them."""

from __future__ import annotations

import copy

from lti_tool.case_provider import build_index, children
from lti_tool.frameworks import bundled_frameworks
from referentiel.exports.case import export_case


def _concept(identifier: str, code: str) -> dict[str, str]:
    return {
        "identifier": identifier,
        "uri": f"https://jalon.test/concepts/{code}",
        "title": f"Concept {code}",
        "hierarchyCode": code,
        "lastChangeDateTime": "2000-01-01T00:00:00Z",
    }


def test_a_definition_set_is_the_definition_and_those_below_it() -> None:
    # The export writes no CFDefinitions today; a package with some is indexed all the same.
    package = copy.deepcopy(export_case(bundled_frameworks()[0], "https://jalon.test"))
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(4)]
    package["CFDefinitions"] = {
        "CFConcepts": [
            _concept(ids[0], "1"),
            _concept(ids[1], "1.1"),
            _concept(ids[2], "1.1.2"),
            _concept(ids[3], "10"),
        ]
    }
    index = build_index([package], "etag")
    found = index.find("CFConcepts", ids[0])
    assert found is not None
    assert [c["hierarchyCode"] for c in children("CFConcepts", found)] == ["1", "1.1", "1.1.2"]
    leaf = index.find("CFConcepts", ids[2])
    assert leaf is not None
    assert children("CFConcepts", leaf) == [leaf.value]
    # Each endpoint reads its own kind only.
    assert index.find("CFSubjects", ids[0]) is None
