"""The offline xAPI 1.0.3 checks: what Learning Locker would refuse, refused here first."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import BASE_URL
from tests.xapi.factories import path_of
from xapi.conformance import check_statement, is_absolute_iri, is_language_tag, is_uuid
from xapi.statements import build

# The simplest statement of the specification (xAPI 1.0.3, Data 2.4, example), with a
# variant-2 id: the example's own id is not one, and Learning Locker refuses it as we do.
SPEC_EXAMPLE = {
    "id": "12345678-1234-5678-8234-567812345678",
    "actor": {"mbox": "mailto:xapi@adlnet.gov"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/created", "display": {"en-US": "created"}},
    "object": {"id": "http://example.adlnet.gov/xapi/example/activity"},
}


def scored() -> dict[str, Any]:
    return dict(json.loads(build(path_of()[2], BASE_URL).json))


def test_the_specification_example_and_jalon_statements_pass() -> None:
    assert check_statement(SPEC_EXAMPLE) == []
    as_published = {**SPEC_EXAMPLE, "id": "12345678-1234-5678-1234-567812345678"}
    assert check_statement(as_published) == ["$.id: must be a UUID"]
    for event in path_of():
        assert check_statement(json.loads(build(event, BASE_URL).json)) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(statement: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = statement
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(statement: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = statement
        for key in parents:
            node = node[key]
        del node[last]

    return change


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_set("id", "not-a-uuid"), "$.id: must be a UUID"),
        (_set("id", "12345678-1234-5678-7234-567812345678"), "$.id: must be a UUID"),
        (_set("verb.id", "launched"), "$.verb.id: must be an absolute IRI"),
        (_set("verb.id", "http://example.org/a verb"), "$.verb.id: must be an absolute IRI"),
        (_set("verb.id", "http://example.org/%zz"), "$.verb.id: must be an absolute IRI"),
        (_set("verb.display", {"français": "a obtenu"}), "is not an RFC 5646 language tag"),
        (_set("verb.display", {"fr_FR": "a obtenu"}), "is not an RFC 5646 language tag"),
        (_set("verb.display", {"fr": 3}), "$.verb.display.fr: must be a string"),
        (_set("result.score.scaled", 1.5), "$.result.score.scaled: must lie between -1 and 1"),
        (_set("result.score.scaled", -1.01), "$.result.score.scaled: must lie between -1 and 1"),
        (_set("result.score.raw", 2), "$.result.score.raw: must lie between min and max"),
        (_set("result.score.min", 1), "$.result.score.min: must be less than max"),
        (_set("result.score.raw", True), "$.result.score.raw: must be a number"),
        (_set("result.success", "true"), "$.result.success: must be true or false"),
        (_set("result.duration", "90 minutes"), "$.result.duration: must be an ISO 8601 duration"),
        (_set("result.grade", "A"), "$.result.grade: is not an xAPI property here"),
        (_set("timestamp", "2026-03-02T09:15:30"), "$.timestamp: must be an RFC 3339"),
        (_set("timestamp", "2026-03-02 09:15:30Z"), "$.timestamp: must be an RFC 3339"),
        (
            _set("actor.mbox", "mailto:camille@example.org"),
            "$.actor: must have exactly one identifier",
        ),
        (_delete("actor.account"), "$.actor: must have exactly one identifier, has 0"),
        (_set("actor.account.homePage", "moodle.example.edu"), "$.actor.account.homePage: must be"),
        (_set("actor.account.name", ""), "$.actor.account.name: must be a non-empty string"),
        (_set("actor.objectType", "Group"), "$.actor.objectType: must be Agent"),
        (_set("context.registration", "42"), "$.context.registration: must be a UUID"),
        (_set("context.language", "français"), "$.context.language: must be an RFC 5646"),
        (_set("context.statement.objectType", "Statement"), "$.context.statement.objectType"),
        (
            _set("context.contextActivities.sibling", []),
            "contextActivities.sibling: is not an xAPI",
        ),
        (
            _set("context.contextActivities.parent.0.id", "/relative"),
            "parent[0].id: must be an abs",
        ),
        (_set("context.extensions", {"lti-context-id": "42"}), "key must be an absolute IRI"),
        (_set("context.extensions", {"https://x.test/e": None}), "must not be null"),
        (_set("context.platform", None), "$.context.platform: must not be null"),
        (
            _set(
                "object",
                {"objectType": "StatementRef", "id": "12345678-1234-5678-9234-567812345678"},
            ),
            "$.context.platform: is only allowed when the object is an Activity",
        ),
        (_set("object.definition.type", "objective"), "$.object.definition.type: must be an abs"),
        (
            _set("object.id", "https://jalon.test/c/" + "%C3%A9" * 9),
            "$.object.id: has over 16 %-escapes, which stall Learning Locker",
        ),
        (_set("actor", {"mbox": "mailto:jean~paul@example.org"}), "$.actor.mbox: must be mailto"),
        (_set("actor", {"mbox": "mailto:zoé@example.fr"}), "$.actor.mbox: must be mailto"),
        (_set("object.definition.name", "Critère"), "$.object.definition.name: must be a lang"),
        (_set("version", "2.0.0"), "$.version: must start with 1.0"),
        (_set("stored", "yesterday"), "$.stored: must be an RFC 3339"),
        (_delete("verb"), "$.verb: is required"),
        (_set("authority", {"mbox": "mailto:lrs@example.org"}), "$.authority: is not checked"),
    ],
)
def test_each_rule_a_strict_lrs_applies_is_checked(
    change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    statement = scored()
    change(statement)
    problems = check_statement(statement)
    assert any(p.startswith(problem) or problem in p for p in problems), problems


def test_platform_needs_the_object_type_spelled_out() -> None:
    # xAPI lets objectType default to Activity, but Learning Locker's rule reads it literally.
    statement = scored()
    del statement["object"]["objectType"]
    assert check_statement(statement) == [
        "$.context.platform: is only allowed when the object is an Activity"
    ]


def test_a_single_context_activity_is_accepted_as_xapi_allows() -> None:
    statement = scored()
    activities = statement["context"]["contextActivities"]
    activities["parent"] = activities["parent"][0]
    assert check_statement(statement) == []


@pytest.mark.parametrize(
    "tag",
    [
        "fr",
        "en",
        "fr-FR",
        "en-US",
        "zh-Hant-TW",
        "es-419",
        "und",
        "de-CH-1901",
        "x-jalon",
        "i-klingon",
        "sl-rozaj-biske",
    ],
)
def test_language_tags_accepted(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize(
    "tag", ["", "f", "fr_FR", "fr-", "français", "en-US-", "123", "toolongtag"]
)
def test_language_tags_refused(tag: str) -> None:
    assert not is_language_tag(tag)


def test_iri_and_uuid_shapes() -> None:
    assert is_absolute_iri("https://jalon.test/referentiels/cm/competences/C1.1")
    assert is_absolute_iri("urn:uuid:12345678-1234-5678-1234-567812345678")
    assert is_absolute_iri("https://jalon.test/r%C3%A9f/é")
    assert not is_absolute_iri("jalon.test/x")
    assert not is_absolute_iri("https://jalon.test/a b")
    assert not is_absolute_iri("https://jalon.test/<x>")
    assert not is_absolute_iri(42)
    assert is_uuid("12345678-1234-5678-a234-567812345678")
    assert not is_uuid("{12345678-1234-5678-a234-567812345678}")
    assert not is_uuid("12345678123456781234567812345678")


def test_the_checker_does_not_change_the_statement() -> None:
    statement = scored()
    before = copy.deepcopy(statement)
    check_statement(statement)
    assert statement == before
