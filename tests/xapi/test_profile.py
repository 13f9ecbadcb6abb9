"""Jalon's profile document: well formed, in step with the vocabulary and the builders."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import BASE_URL
from tests.xapi.factories import path_of
from xapi import vocabulary as v
from xapi.jury import JURY_TEMPLATES
from xapi.profile import (
    ProfileError,
    check_profile_document,
    load_profile,
    matching_templates,
    parse_profile,
    profile_document,
)
from xapi.statements import TEMPLATES, build

PROFILE = f"{BASE_URL}/xapi/profile"


def test_the_shipped_profile_is_well_formed() -> None:
    document = profile_document(BASE_URL)
    assert check_profile_document(document) == []
    assert document["@context"] == "https://w3id.org/xapi/profiles/context"
    assert document["id"] == PROFILE
    assert document["type"] == "Profile"
    assert document["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
    assert [version["id"] for version in document["versions"]] == [f"{PROFILE}/v1"]
    assert set(document["prefLabel"]) == set(document["definition"]) == {"fr", "en"}
    assert "{base_url}" not in json.dumps(document)


def test_the_profile_lives_under_the_instance_url() -> None:
    document = profile_document("https://cfa.example.fr/jalon/")
    assert document["id"] == "https://cfa.example.fr/jalon/xapi/profile"
    assert all(t["id"].startswith(document["id"] + "/templates/") for t in document["templates"])
    assert load_profile("https://cfa.example.fr/jalon").version_id == (
        "https://cfa.example.fr/jalon/xapi/profile/v1"
    )


def test_concepts_are_exactly_jalons_own_vocabulary() -> None:
    # The ADL and Activity Streams verbs and types are defined elsewhere; a profile must not
    # define a concept another profile defines (xAPI Profiles, Part Two, 7.0).
    concepts = {c["id"]: c for c in profile_document(BASE_URL)["concepts"]}
    assert set(concepts) == {concept.iri(BASE_URL) for concept in v.CONCEPTS}
    for concept in v.CONCEPTS:
        node = concepts[concept.iri(BASE_URL)]
        assert node["type"] == concept.type.value
        assert node["prefLabel"] == dict(concept.display)
        assert set(node["definition"]) == {"fr", "en"}
        assert node["inScheme"] == f"{PROFILE}/v1"


def test_one_template_per_event_kind_each_statement_matching_only_its_own() -> None:
    document = profile_document(BASE_URL)
    template_ids = [t["id"] for t in document["templates"]]
    names = [*TEMPLATES.values(), *JURY_TEMPLATES]  # the jury's: tests/xapi/test_jury_profile.py
    assert sorted(template_ids) == sorted(v.template_iri(BASE_URL, n) for n in names)
    profile = load_profile(BASE_URL)
    for event in path_of():
        record = build(event, BASE_URL)
        assert matching_templates(record.json, profile) == [
            v.template_iri(BASE_URL, record.template)
        ]


def test_templates_name_the_verbs_of_the_vocabulary() -> None:
    verbs = {t["verb"] for t in profile_document(BASE_URL)["templates"]}
    assert verbs == {verb.iri for verb in v.VERBS}


def test_the_learner_path_is_the_one_primary_pattern() -> None:
    profile = load_profile(BASE_URL)
    primary = [p for p in profile.patterns if p.primary]
    assert [p.id for p in primary] == [f"{PROFILE}/patterns/learner-path"]
    (step,) = [p for p in profile.patterns if p.id == primary[0].members[0]]
    assert step.kind == "alternates"
    assert set(step.members) == {t.id for t in profile.templates}


def _drop(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


def _put(value: Any, *path: str | int) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _recursive(document: dict[str, Any]) -> None:
    step = document["patterns"][1]
    step["alternates"] = [*step["alternates"], document["patterns"][0]["id"]]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_drop("prefLabel"), "profile.prefLabel: is required"),
        (_put("https://example.org/context", "@context"), "profile.@context: must be"),
        (_put("https://w3id.org/xapi/profiles#0.9", "conformsTo"), "profile.conformsTo: must be"),
        (_put("Profil", "type"), "profile.type: must be 'Profile'"),
        (_put(PROFILE, "versions", 0, "id"), "versions[0].id: must differ"),
        (_put("2026-11-29", "versions", 0, "generatedAtTime"), "generatedAtTime: must be"),
        (_put({"type": "Robot", "name": "x"}, "author"), "profile.author: must be an Organ"),
        (_put("https://other.test/v1", "concepts", 0, "inScheme"), "concepts[0].inScheme"),
        (_put("Competency", "concepts", 0, "type"), "'Competency' is not a concept type"),
        (_put({"fr": "x", "français": "y"}, "concepts", 0, "prefLabel"), "must be a language map"),
        (
            _put(["https://v.test/x"], "concepts", 5, "recommendedVerbs"),
            "recommendedVerbs: is only",
        ),
        (_put('{"type": 5}', "concepts", 3, "inlineSchema"), "inlineSchema: is not a JSON Schema"),
        (_put("not json", "concepts", 3, "inlineSchema"), "inlineSchema: is not a JSON Schema"),
        (_put("https://x.test/s", "concepts", 3, "schema"), "both schema and inlineSchema"),
        (_put("$.result[?(@.success)]", "templates", 0, "rules", 0, "location"), "filter and sc"),
        (
            _put({"location": "$.id"}, "templates", 0, "rules", 0),
            "needs presence, any, all or none",
        ),
        (_put("required", "templates", 0, "rules", 0, "presence"), "presence: must be included"),
        (_put(7, "templates", 0, "rules", 0, "location"), "must be a JSONPath string"),
        (_put("true", "templates", 4, "rules", 10, "all"), "all: must be an array"),
        (
            _put([f"{PROFILE}/templates/x"], "templates", 2, "contextStatementRefTemplate"),
            "is not a template",
        ),
        (
            _put([f"{PROFILE}/templates/launched"], "templates", 2, "objectStatementRefTemplate"),
            "must not have both",
        ),
        (_put("verb", "templates", 0, "verb"), "templates[0].verb: must be an absolute IRI"),
        (_put([], "templates", 0, "contextGroupingActivityType"), "must not be null or empty"),
        (_put(None, "templates", 0, "verb"), "templates[0].verb: must not be null or empty"),
        (_put("x", "templates", 0, "colour"), "templates[0].colour: is not a property"),
        (_put(f"{PROFILE}/templates/launched", "templates", 1, "id"), "is defined twice"),
        (_put(f"{PROFILE}/templates/launched", "patterns", 0, "sequence"), "exactly one of"),
        (_put([f"{PROFILE}/templates/launched"], "patterns", 1, "alternates"), "at least two"),
        (_put(f"{PROFILE}/patterns/nowhere", "patterns", 0, "oneOrMore"), "no template or pattern"),
        (_drop("patterns", 0, "prefLabel"), "patterns[0].prefLabel: is required"),
        (_recursive, "must not contain itself"),
    ],
)
def test_structure_rules_catch_a_faulty_edit(
    change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    document = copy.deepcopy(profile_document(BASE_URL))
    change(document)
    problems = check_profile_document(document)
    assert any(problem in p for p in problems), problems
    with pytest.raises(ProfileError):
        parse_profile(document)


def test_alternates_must_not_hold_an_optional_pattern() -> None:
    document = copy.deepcopy(profile_document(BASE_URL))
    maybe = {
        "id": f"{PROFILE}/patterns/maybe-launch",
        "type": "Pattern",
        "inScheme": f"{PROFILE}/v1",
        "optional": f"{PROFILE}/templates/launched",
    }
    document["patterns"].append(maybe)
    document["patterns"][1]["alternates"].append(maybe["id"])
    assert any("is optional or zeroOrMore" in p for p in check_profile_document(document))


def test_extension_keys_of_rules_are_the_vocabulary_extensions() -> None:
    text = json.dumps(profile_document(BASE_URL)["templates"])
    for concept in (v.DEPLOYMENT_ID, v.CONTEXT_ID, v.RESOURCE_LINK_ID):
        assert f"['{concept.iri(BASE_URL)}']" in text
