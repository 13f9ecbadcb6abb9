"""The profile validator: it accepts Jalon's statements and refuses wrong ones, for a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import BASE_URL
from tests.xapi.factories import path_of
from xapi.profile import Profile, Violation, follows, load_profile, parse_profile, validate
from xapi.statements import StatementRecord, build

PROFILE = f"{BASE_URL}/xapi/profile"
LAUNCHED, SUBMITTED, SCORED, PROGRESSED, MASTERED, BLOC, CERTIFICATION = range(7)


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile(BASE_URL)


def records() -> list[StatementRecord]:
    return [build(event, BASE_URL) for event in path_of()]


def statement(index: int) -> dict[str, Any]:
    return dict(json.loads(records()[index].json))


def template(name: str) -> str:
    return f"{PROFILE}/templates/{name}"


def test_a_wrong_verb_matches_no_template(profile: Profile) -> None:
    scored = statement(SCORED)
    scored["verb"]["id"] = "http://adlnet.gov/expapi/verbs/launched"
    assert validate(scored, profile) == [
        Violation(
            None,
            "$",
            "matches no statement template (verb 'http://adlnet.gov/expapi/verbs/launched', "
            "object type 'http://adlnet.gov/expapi/activities/objective')",
        )
    ]


def test_mastered_must_report_success(profile: Profile) -> None:
    progressed = statement(PROGRESSED)
    progressed["verb"]["id"] = "http://adlnet.gov/expapi/verbs/mastered"
    progressed["result"]["success"] = False
    assert validate(progressed, profile) == [
        Violation(template("competency-mastered"), "$.result.success", "False is not one of [True]")
    ]


def test_true_is_not_one(profile: Profile) -> None:
    mastered = statement(MASTERED)
    mastered["result"]["success"] = 1
    assert [v.location for v in validate(mastered, profile)] == ["$.result.success"]


@pytest.mark.parametrize(
    ("index", "path", "location"),
    [
        (SCORED, ("context", "registration"), "$.context.registration"),
        (SCORED, ("context", "platform"), "$.context.platform"),
        (
            SCORED,
            ("context", "instructor"),
            "$.context.instructor.account.homePage | $.context.instructor.mbox",
        ),
        (SCORED, ("result", "score"), "$.result.score.scaled"),
        (LAUNCHED, ("timestamp",), "$.timestamp"),
        (LAUNCHED, ("id",), "$.id"),
        (
            PROGRESSED,
            ("context", "extensions"),
            f"$.context.extensions['{PROFILE}/extensions/lti-deployment-id']",
        ),
        (
            SUBMITTED,
            ("object", "definition", "extensions"),
            f"$.object.definition.extensions['{PROFILE}/extensions/lti-resource-link-id']",
        ),
    ],
)
def test_missing_required_context_is_named(
    profile: Profile, index: int, path: tuple[str, ...], location: str
) -> None:
    data = statement(index)
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    assert location in [v.location for v in validate(data, profile)]


@pytest.mark.parametrize(
    ("index", "key", "value", "location"),
    [
        (LAUNCHED, "result", {"success": True}, "$.result"),
        (SUBMITTED, "result", {"completion": True}, "$.result"),
        (BLOC, "result", {"success": True}, "$.result"),
    ],
)
def test_a_forbidden_property_is_refused(
    profile: Profile, index: int, key: str, value: Any, location: str
) -> None:
    data = statement(index)
    data[key] = value
    assert validate(data, profile) == [
        Violation(data_template(index), location, "must not be present")
    ]


def data_template(index: int) -> str:
    return template(records()[index].template)


def test_an_instructor_on_a_derived_validation_is_refused(profile: Profile) -> None:
    certification = statement(CERTIFICATION)
    certification["context"]["instructor"] = statement(SCORED)["context"]["instructor"]
    assert validate(certification, profile) == [
        Violation(
            template("certification-satisfied"), "$.context.instructor", "must not be present"
        )
    ]


def test_the_category_must_name_this_profile(profile: Profile) -> None:
    data = statement(LAUNCHED)
    data["context"]["contextActivities"]["category"][0]["id"] = "https://w3id.org/xapi/cmi5/v1.0"
    assert validate(data, profile) == [
        Violation(
            template("launched"),
            "$.context.contextActivities.category[*].id",
            f"must include one of ['{PROFILE}/v1']",
        )
    ]
    del data["context"]["contextActivities"]["category"]
    assert [v.template for v in validate(data, profile)] == [None]  # no template matches


def test_a_score_must_point_at_the_submission(profile: Profile) -> None:
    built = records()
    store = {str(r.id): r.json for r in built}
    assert validate(built[SCORED].json, profile, store.get) == []
    # The reference names a launch instead of the submission.
    wrong = {**store, str(built[SUBMITTED].id): built[LAUNCHED].json}
    assert validate(built[SCORED].json, profile, wrong.get) == [
        Violation(
            template("criterion-scored"),
            "$.context.statement",
            f"refers to {built[SUBMITTED].id}, which follows none of {template('submitted')}",
        )
    ]
    data = statement(SCORED)
    del data["context"]["statement"]
    assert validate(data, profile) == [
        Violation(
            template("criterion-scored"),
            "$.context.statement",
            f"must be a StatementRef to a statement of {template('submitted')}",
        )
    ]


def test_extensions_stay_in_their_place_with_their_type(profile: Profile) -> None:
    key = f"{PROFILE}/extensions/lti-deployment-id"
    data = statement(SCORED)
    data["result"]["extensions"] = {key: "1"}
    assert validate(data, profile) == [
        Violation(None, f"$.result.extensions[{key!r}]", "a ContextExtension cannot be used here")
    ]
    data = statement(SCORED)
    data["context"]["extensions"][key] = 1
    assert validate(data, profile) == [
        Violation(None, f"$.context.extensions[{key!r}]", "1 is not of type 'string'")
    ]


def test_single_context_activities_are_read_as_arrays(profile: Profile) -> None:
    data = statement(SCORED)
    data["context"]["contextActivities"]["parent"] = data["context"]["contextActivities"]["parent"][
        0
    ]
    assert validate(json.dumps(data), profile) == []


def test_a_learners_path_follows_the_primary_pattern(profile: Profile) -> None:
    built = [r.json for r in records()]
    assert follows(built, profile) == []
    shuffled = built[4:] + built[:4][::-1]
    assert follows(shuffled, profile) == []  # ordered by timestamp, as the spec says
    assert follows(built[:1], profile) == []


def test_a_path_with_a_stray_statement_does_not_follow(profile: Profile) -> None:
    stray = statement(LAUNCHED)
    stray["result"] = {"success": True}
    problems = follows([*(r.json for r in records()), stray], profile)
    assert [str(p) for p in problems] == [
        f"{template('launched')} statements[7] $.result: must not be present"
    ]
    assert [p.message for p in follows([], profile)] == [
        f"the statements follow no primary pattern ({PROFILE}/patterns/learner-path)"
    ]


# A small profile to pin the rule and pattern algorithms of the specification on their own.
P = "https://p.test/profile"


def tiny(rules: list[dict[str, Any]], patterns: list[dict[str, Any]] | None = None) -> Profile:
    def node(name: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": f"{P}/templates/{name}",
            "type": "StatementTemplate",
            "inScheme": f"{P}/v1",
            "prefLabel": {"en": name},
            "definition": {"en": name},
            "verb": f"https://p.test/verbs/{name}",
            **extra,
        }

    document: dict[str, Any] = {
        "@context": "https://w3id.org/xapi/profiles/context",
        "id": P,
        "type": "Profile",
        "conformsTo": "https://w3id.org/xapi/profiles#1.0",
        "prefLabel": {"en": "tiny"},
        "definition": {"en": "tiny"},
        "versions": [{"id": f"{P}/v1", "generatedAtTime": "2026-01-01T00:00:00Z"}],
        "author": {"type": "Person", "name": "test"},
        "templates": [node("a", **({"rules": rules} if rules else {})), node("b"), node("c")],
    }
    if patterns:
        document["patterns"] = patterns
    return parse_profile(document)


def s(verb: str, minute: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "verb": {"id": f"https://p.test/verbs/{verb}"},
        "timestamp": f"2026-01-01T00:{minute:02d}:00.000Z",
        **extra,
    }


@pytest.mark.parametrize(
    ("rule", "extra", "ok"),
    [
        (
            {"location": "$.result.score.raw", "presence": "included"},
            {"result": {"score": {"raw": 0}}},
            True,
        ),
        ({"location": "$.result.score.raw", "presence": "included"}, {"result": {}}, False),
        ({"location": "$.result", "presence": "excluded"}, {}, True),
        ({"location": "$.result", "presence": "excluded"}, {"result": {}}, False),
        ({"location": "$.result.response", "presence": "recommended", "any": ["x"]}, {}, True),
        (
            {"location": "$.result.response", "presence": "recommended", "any": ["x"]},
            {"result": {"response": "y"}},
            False,
        ),
        (
            {"location": "$.result.response", "any": ["x"]},
            {},
            False,
        ),  # strict: nothing to intersect
        ({"location": "$.result.response", "all": ["x"]}, {}, True),  # vacuously all
        ({"location": "$.tags[*]", "all": ["x", "y"]}, {"tags": ["x", "y", "x"]}, True),
        ({"location": "$.tags[*]", "all": ["x"]}, {"tags": ["x", "z"]}, False),
        ({"location": "$.tags[*]", "none": ["z"]}, {"tags": ["x"]}, True),
        ({"location": "$.tags[*]", "none": ["z"]}, {"tags": ["x", "z"]}, False),
        ({"location": "$.tags[*]", "any": [None]}, {"tags": [None]}, True),
        (
            {"location": "$.items[*]", "selector": "$.id", "presence": "included"},
            {"items": [{"id": 1}, {"id": 2}]},
            True,
        ),
        (
            {"location": "$.items[*]", "selector": "$.id", "presence": "included"},
            {"items": [{"id": 1}, {}]},
            False,
        ),
        (
            {"location": "$.items[*]", "selector": "$.id", "all": [1]},
            {"items": [{"id": 1}, {}]},
            False,
        ),
        (
            {"location": "$.items[*]", "selector": "$.id", "presence": "excluded"},
            {"items": [{}]},
            True,
        ),
        ({"location": "$.flag", "all": [True]}, {"flag": 1}, False),
        ({"location": "$.n", "any": [1]}, {"n": 1.0}, True),
    ],
)
def test_rules_behave_as_the_specification_pseudocode(
    rule: dict[str, Any], extra: dict[str, Any], ok: bool
) -> None:
    assert (validate(s("a", **extra), tiny([rule])) == []) is ok


def test_determining_properties_need_a_superset_of_context_types() -> None:
    profile = tiny([])
    grouping = {
        "contextActivities": {
            "grouping": [{"id": "https://x.test/1", "definition": {"type": "https://t.test/x"}}]
        }
    }
    document = json.loads(profile.json)
    document["templates"][1]["contextGroupingActivityType"] = ["https://t.test/x"]
    picky = parse_profile(document)
    assert validate(s("b", context=grouping), picky) == []
    assert validate(s("b"), picky)[0].message.startswith("matches no statement template")


def _pattern(name: str, kind: str, members: Any, primary: bool = False) -> dict[str, Any]:
    extra: dict[str, Any] = (
        {"primary": True, "prefLabel": {"en": name}, "definition": {"en": name}} if primary else {}
    )
    return {"id": f"{P}/patterns/{name}", "type": "Pattern", kind: members, **extra}


@pytest.mark.parametrize(
    ("verbs", "ok"),
    [
        ("ac", True),
        ("abbc", True),
        ("abc", True),
        ("acb", False),
        ("c", False),
        ("ab", False),
        ("", False),
    ],
)
def test_patterns_match_greedily_in_timestamp_order(verbs: str, ok: bool) -> None:
    template = f"{P}/templates/"
    profile = tiny(
        [],
        [
            _pattern(
                "main",
                "sequence",
                [f"{template}a", f"{P}/patterns/bs", f"{template}c"],
                primary=True,
            ),
            _pattern("bs", "zeroOrMore", f"{template}b"),
        ],
    )
    statements = [s(verb, minute) for minute, verb in enumerate(verbs)]
    assert (follows(list(reversed(statements)), profile) == []) is ok


def test_optional_and_alternates() -> None:
    template = f"{P}/templates/"
    profile = tiny(
        [],
        [
            _pattern(
                "main", "sequence", [f"{P}/patterns/maybe-a", f"{P}/patterns/b-or-c"], primary=True
            ),
            _pattern("maybe-a", "optional", f"{template}a"),
            _pattern("b-or-c", "alternates", [f"{template}b", f"{template}c"]),
        ],
    )
    for verbs, ok in (("ab", True), ("c", True), ("a", False), ("abc", False), ("ba", False)):
        statements = [s(verb, minute) for minute, verb in enumerate(verbs)]
        assert (follows(statements, profile) == []) is ok, verbs
