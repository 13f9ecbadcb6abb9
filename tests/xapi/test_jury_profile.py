"""The jury's statements in Jalon's profile: each follows its template, and only its own."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import BASE_URL
from tests.xapi.factories import path_of
from tests.xapi.jury_samples import KINDS, decided
from xapi import vocabulary as v
from xapi.jury import BLOC_CERTIFIED, BLOC_NOT_CERTIFIED, JURY_TEMPLATES, build_decision
from xapi.profile import follows, load_profile, matching_templates, profile_document, validate
from xapi.statements import build

PROFILE = f"{BASE_URL}/xapi/profile"


@pytest.mark.parametrize("kind", KINDS)
def test_each_decision_follows_its_own_template_only(kind: str) -> None:
    profile = load_profile(BASE_URL)
    for changes in ({}, {"lms": None}, {"corrects_decision_id": 30}):
        record = build_decision(decided(**{**KINDS[kind], **changes}), BASE_URL)
        assert matching_templates(record.json, profile) == [v.template_iri(BASE_URL, kind)]
        assert validate(record.json, profile) == []


def test_the_templates_and_concepts_are_in_the_served_profile() -> None:
    document = profile_document(BASE_URL)
    templates = {t["id"]: t for t in document["templates"]}
    for name in JURY_TEMPLATES:
        template = templates[v.template_iri(BASE_URL, name)]
        assert set(template["prefLabel"]) == set(template["definition"]) == {"fr", "en"}
        assert template["contextGroupingActivityType"][0] == v.CERTIFICATION_SESSION.iri(BASE_URL)
    concepts = {c["id"]: c for c in document["concepts"]}
    for concept in (v.CERTIFICATION_SESSION, v.SESSION_ID, v.DECISION_ID):
        assert concepts[concept.iri(BASE_URL)]["type"] == concept.type.value
    for concept in (v.CREDENTIAL_ID, v.CREDENTIAL_URL):
        assert concepts[concept.iri(BASE_URL)]["type"] == "ResultExtension"
    (step,) = [p for p in document["patterns"] if p["id"] == f"{PROFILE}/patterns/learner-step"]
    assert {v.template_iri(BASE_URL, n) for n in JURY_TEMPLATES} <= set(step["alternates"])


def test_a_learners_path_ends_with_the_jury_in_the_same_registration() -> None:
    course = [build(e, BASE_URL) for e in path_of()]
    jury = [build_decision(decided(**changes), BASE_URL) for changes in KINDS.values()]
    assert {r.registration for r in course} == {r.registration for r in jury}
    assert follows([r.json for r in course + jury], load_profile(BASE_URL)) == []


def _put(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        node = document
        *parents, last = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return change


def _drop_extension(concept: v.Concept) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        del document["context"]["extensions"][concept.iri(BASE_URL)]

    return change


@pytest.mark.parametrize(
    ("kind", "change", "where"),
    [
        (BLOC_CERTIFIED, _put("result.response", "Dossier très solide"), "$.result.response"),
        (BLOC_CERTIFIED, _put("actor.name", "Camille Lefèvre"), "$.actor.name"),
        (BLOC_CERTIFIED, _put("actor.mbox", "mailto:camille@example.org"), "$.actor.mbox"),
        (
            BLOC_CERTIFIED,
            _put("context.instructor", {"objectType": "Agent", "name": "Présidente Durand"}),
            "$.context.instructor",
        ),
        (BLOC_CERTIFIED, _put("result.success", False), "$.result.success"),
        (BLOC_CERTIFIED, _drop_extension(v.DECISION_ID), "jury-decision-id"),
        (BLOC_CERTIFIED, _drop_extension(v.SESSION_ID), "certification-session-id"),
        (BLOC_CERTIFIED, _put("context.language", "en"), "$.context.language"),
        (BLOC_NOT_CERTIFIED, _put("result.success", True), "$.result.success"),
        (
            BLOC_NOT_CERTIFIED,
            _put("result.extensions", {v.CREDENTIAL_ID.iri(BASE_URL): "urn:uuid:x"}),
            "credential-id",
        ),
        (
            BLOC_CERTIFIED,
            _put("result.extensions", {v.CREDENTIAL_ID.iri(BASE_URL): "CRED-42"}),
            "credential-id",
        ),
        (BLOC_CERTIFIED, _put("context.statement", {"objectType": "Agent"}), "objectType"),
    ],
)
def test_a_statement_breaking_a_rule_is_caught(
    kind: str, change: Callable[[dict[str, Any]], None], where: str
) -> None:
    document = json.loads(build_decision(decided(**KINDS[kind]), BASE_URL).json)
    broken = copy.deepcopy(document)
    change(broken)
    violations = validate(broken, load_profile(BASE_URL))
    assert any(where in str(violation) for violation in violations), violations
    assert validate(document, load_profile(BASE_URL)) == []
