"""The statement builders: DESIGN.md's verbs and objects, stable ids, privacy, canonical JSON."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referentiel.iris import Kind, framework_iri, item_iri
from tests.conftest import BASE_URL
from tests.xapi.factories import (
    AT,
    CANVAS,
    EVALUATOR,
    FRAMEWORK,
    LEARNER,
    LINK,
    MOODLE,
    by_kind,
    events,
    path_of,
)
from xapi.conformance import check_statement
from xapi.events import (
    AnyEvent,
    BlocSatisfied,
    CertificationSatisfied,
    CompetencyMastered,
    CompetencyProgressed,
    CriterionScored,
    Launched,
    LtiUser,
    ResourceLink,
    Submitted,
)
from xapi.profile import load_profile, validate
from xapi.statements import PSEUDONYMOUS, Privacy, build

ADL = "http://adlnet.gov/expapi"
PROFILE = f"{BASE_URL}/xapi/profile"


def data(event: AnyEvent, privacy: Privacy = PSEUDONYMOUS) -> dict[str, Any]:
    return dict(json.loads(build(event, BASE_URL, privacy).json))


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


@pytest.mark.parametrize(
    ("kind", "verb", "object_type", "object_id"),
    [
        (Launched, f"{ADL}/verbs/launched", f"{ADL}/activities/assessment", None),
        (
            Submitted,
            "http://activitystrea.ms/schema/1.0/submit",
            f"{ADL}/activities/assessment",
            None,
        ),
        (
            CriterionScored,
            f"{ADL}/verbs/scored",
            f"{ADL}/activities/objective",
            item_iri(BASE_URL, FRAMEWORK, Kind.CRITERION, "C1.1-1"),
        ),
        (
            CompetencyProgressed,
            f"{ADL}/verbs/progressed",
            f"{PROFILE}/activity-types/competency",
            item_iri(BASE_URL, FRAMEWORK, Kind.COMPETENCY, "C1.1"),
        ),
        (
            CompetencyMastered,
            f"{ADL}/verbs/mastered",
            f"{PROFILE}/activity-types/competency",
            item_iri(BASE_URL, FRAMEWORK, Kind.COMPETENCY, "C1.1"),
        ),
        (
            BlocSatisfied,
            "https://w3id.org/xapi/adl/verbs/satisfied",
            f"{PROFILE}/activity-types/bloc",
            item_iri(BASE_URL, FRAMEWORK, Kind.BLOC, "B1"),
        ),
        (
            CertificationSatisfied,
            "https://w3id.org/xapi/adl/verbs/satisfied",
            f"{PROFILE}/activity-types/certification",
            framework_iri(BASE_URL, FRAMEWORK),
        ),
    ],
)
def test_verbs_and_objects_follow_the_design_table(
    kind: type, verb: str, object_type: str, object_id: str | None
) -> None:
    statement = data(by_kind()[kind])
    assert statement["verb"]["id"] == verb
    assert set(statement["verb"]["display"]) == {"fr", "en"}
    assert statement["object"]["objectType"] == "Activity"
    assert statement["object"]["definition"]["type"] == object_type
    if object_id is not None:
        assert statement["object"]["id"] == object_id


def test_every_statement_is_valid_xapi_and_follows_the_profile() -> None:
    profile = load_profile(BASE_URL)
    records = [build(event, BASE_URL) for event in path_of()]
    store = {str(r.id): r.json for r in records}
    for record in records:
        assert check_statement(json.loads(record.json)) == [], record.template
        assert validate(record.json, profile, store.get) == [], record.template


def test_the_same_event_gives_the_same_bytes_and_id() -> None:
    first, again = build(path_of()[2], BASE_URL), build(path_of()[2], BASE_URL)
    assert first == again
    assert first.id.version == 5
    assert json.loads(first.json)["id"] == str(first.id)


def test_ids_come_from_the_event_identity_only() -> None:
    launch = by_kind()[Launched]
    assert isinstance(launch, Launched)
    other_launch = dataclasses.replace(launch, launch_id="launch-2")
    later = dataclasses.replace(launch, occurred_at=AT + timedelta(hours=1))
    assert build(other_launch, BASE_URL).id != build(launch, BASE_URL).id
    # The same launch recorded again (a retry) keeps its id, so the LRS sees a duplicate.
    assert build(later, BASE_URL).id == build(launch, BASE_URL).id
    # Another Jalon instance never collides with this one, even with the same database ids.
    assert build(launch, "https://other.example").id != build(launch, BASE_URL).id
    ids = {build(event, BASE_URL).id for event in path_of()}
    assert len(ids) == 7


def test_registration_is_one_per_learner_and_course() -> None:
    registrations = {data(event)["context"]["registration"] for event in path_of()}
    assert len(registrations) == 1
    (registration,) = registrations
    assert uuid.UUID(registration).version == 5
    other_learner = LtiUser(MOODLE.issuer, "18")
    canvas_learner = LtiUser(CANVAS.issuer, "17")
    assert data(path_of(learner=other_learner)[0])["context"]["registration"] != registration
    canvas = path_of(learner=canvas_learner, lms=CANVAS, evaluator=LtiUser(CANVAS.issuer, "3"))
    assert data(canvas[0])["context"]["registration"] != registration


def test_timestamps_are_rfc3339_utc_with_milliseconds() -> None:
    statement = data(
        path_of(
            start=datetime(2026, 3, 2, 10, 15, 30, 123987, tzinfo=timezone(timedelta(hours=1)))
        )[0]
    )
    assert statement["timestamp"] == "2026-03-02T09:15:30.123Z"
    assert data(path_of(start=datetime(2026, 1, 1, tzinfo=UTC))[0])["timestamp"] == (
        "2026-01-01T00:00:00.000Z"
    )


def test_serialized_once_in_canonical_form() -> None:
    for event in path_of():
        text = build(event, BASE_URL).json
        canonical = json.dumps(
            json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        assert text == canonical
    assert "Épreuve 1" in build(path_of()[0], BASE_URL).json  # UTF-8 as is, not \u escapes


def test_no_null_no_empty_value_no_version() -> None:
    for event in path_of():
        statement = data(event)
        assert "version" not in statement
        for value in walk(statement):
            assert value not in (None, "", [], {})


def test_actors_are_pseudonymous_by_default() -> None:
    for event in path_of():
        record = build(event, BASE_URL)
        statement = json.loads(record.json)
        assert statement["actor"] == {
            "objectType": "Agent",
            "account": {"homePage": "https://moodle.example.edu", "name": "17"},
        }
        for secret in ("Camille", "Lefèvre", "camille", "Jeanne", "Roux", "jeanne", "mailto"):
            assert secret not in record.json


def test_names_appear_only_when_allowed() -> None:
    scored = data(by_kind()[CriterionScored], Privacy(include_name=True))
    assert scored["actor"]["name"] == "Camille Lefèvre"
    assert scored["actor"]["account"]["name"] == "17"
    assert scored["context"]["instructor"]["name"] == "Jeanne Roux"
    assert "mbox" not in scored["actor"]
    assert "mailto" not in json.dumps(scored)


def test_email_identifies_the_agent_only_when_allowed() -> None:
    pseudonymous = data(by_kind()[CriterionScored])
    with_email = data(by_kind()[CriterionScored], Privacy(include_email=True))
    # One identifier per agent (xAPI 2.4.2.1): the mailbox replaces the account.
    assert with_email["actor"] == {
        "objectType": "Agent",
        "mbox": "mailto:camille.lefevre@example.org",
    }
    assert with_email["context"]["instructor"]["mbox"] == "mailto:jeanne.roux@example.org"
    assert with_email["context"]["registration"] == pseudonymous["context"]["registration"]
    assert with_email["id"] == pseudonymous["id"]
    for email in (None, "jean~paul@example.org", "zoé@exämple.fr", "root@localhost"):
        # No address, or one Learning Locker would refuse: the account stays.
        learner = dataclasses.replace(LEARNER, email=email)
        launch = dataclasses.replace(by_kind()[Launched], learner=learner)
        actor = data(launch, Privacy(include_email=True, include_name=True))["actor"]
        assert actor == {
            "objectType": "Agent",
            "name": "Camille Lefèvre",
            "account": {"homePage": "https://moodle.example.edu", "name": "17"},
        }
    o_brien = dataclasses.replace(LEARNER, email="o'brien@example.ie")
    launch = dataclasses.replace(by_kind()[Launched], learner=o_brien)
    assert data(launch, Privacy(include_email=True))["actor"]["mbox"] == "mailto:o'brien@example.ie"


def test_a_scored_criterion_names_its_evaluator_and_its_submission() -> None:
    records = {r.template: r for r in (build(e, BASE_URL) for e in path_of())}
    scored = json.loads(records["criterion-scored"].json)
    assert scored["context"]["instructor"]["account"] == {
        "homePage": "https://moodle.example.edu",
        "name": "3",
    }
    assert scored["context"]["statement"] == {
        "objectType": "StatementRef",
        "id": str(records["submitted"].id),
    }
    assert scored["result"] == {
        "success": True,
        "score": {"scaled": 1.0, "raw": 1.0, "min": 0.0, "max": 1.0},
    }
    link = scored["context"]["contextActivities"]["parent"]
    assert [a["id"] for a in link] == [records["launched"].object_id]


def test_scaled_score_spans_the_framework_scale() -> None:
    scored = by_kind()[CriterionScored]
    assert isinstance(scored, CriterionScored)
    middle = dataclasses.replace(scored, score_raw=2, score_min=1, score_max=5, success=False)
    result = data(middle)["result"]
    assert result == {
        "success": False,
        "score": {"scaled": 0.25, "raw": 2.0, "min": 1.0, "max": 5.0},
    }


def test_competency_results() -> None:
    progressed = by_kind()[CompetencyProgressed]
    assert isinstance(progressed, CompetencyProgressed)
    undecided = dataclasses.replace(progressed, score=None, success=False)
    assert data(undecided)["result"] == {"success": False}
    assert data(progressed)["result"] == {"success": True, "score": {"scaled": 1.0}}
    assert data(by_kind()[CompetencyMastered])["result"] == {
        "success": True,
        "score": {"scaled": 1.0},
    }
    assert "result" not in data(by_kind()[BlocSatisfied])


def test_context_names_the_platform_the_lti_ids_and_the_profile() -> None:
    context = data(by_kind()[CriterionScored])["context"]
    assert context["platform"] == "Moodle"
    assert context["language"] == "fr"
    assert context["extensions"] == {
        f"{PROFILE}/extensions/lti-deployment-id": "1",
        f"{PROFILE}/extensions/lti-context-id": "42",
    }
    assert context["contextActivities"]["category"] == [
        {
            "objectType": "Activity",
            "id": f"{PROFILE}/v1",
            "definition": {"type": f"{ADL}/activities/profile"},
        }
    ]
    grouping = [
        (a["id"], a["definition"]["type"]) for a in context["contextActivities"]["grouping"]
    ]
    assert grouping[:4] == [
        (
            item_iri(BASE_URL, FRAMEWORK, Kind.COMPETENCY, "C1.1"),
            f"{PROFILE}/activity-types/competency",
        ),
        (item_iri(BASE_URL, FRAMEWORK, Kind.BLOC, "B1"), f"{PROFILE}/activity-types/bloc"),
        (item_iri(BASE_URL, FRAMEWORK, Kind.EPREUVE, "E1"), f"{ADL}/activities/assessment"),
        (framework_iri(BASE_URL, FRAMEWORK), f"{PROFILE}/activity-types/certification"),
    ]
    course_id, course_type = grouping[4]
    assert course_type == f"{ADL}/activities/course"
    assert re.fullmatch(rf"{BASE_URL}/xapi/activities/courses/[0-9a-f-]{{36}}", course_id)


def test_the_resource_link_carries_its_lti_id_and_title() -> None:
    link = data(by_kind()[Launched])["object"]
    assert link["definition"]["extensions"] == {
        f"{PROFILE}/extensions/lti-resource-link-id": "rl-101"
    }
    assert link["definition"]["name"] == {"und": "Épreuve 1 — étude de cas"}
    untitled = dataclasses.replace(by_kind()[Launched], resource_link=ResourceLink("rl-9"))
    assert "name" not in data(untitled)["object"]["definition"]
    grouping = data(untitled)["context"]["contextActivities"]["grouping"]
    assert [a["definition"]["type"] for a in grouping] == [
        f"{PROFILE}/activity-types/certification",
        f"{ADL}/activities/course",
    ]


@pytest.mark.parametrize(
    ("locale", "tag"),
    [
        ("fr", "fr"),
        ("en_US", "en-US"),
        ("pt_br", "pt-BR"),
        ("fr-CA", "fr-CA"),
        ("ZH_hant_tw", "zh-Hant-TW"),
        ("X-0", "x-0"),  # private use, which tincan accepts in lower case only
        ("de-419", "de-419"),
        ("français", None),
        ("", None),
    ],
)
def test_lms_locales_become_language_tags_or_nothing(locale: str, tag: str | None) -> None:
    event = dataclasses.replace(by_kind()[Launched], language=locale)
    assert data(event)["context"].get("language") == tag


def test_events_refuse_what_no_statement_could_say() -> None:
    scored = by_kind()[CriterionScored]
    assert isinstance(scored, CriterionScored)
    with pytest.raises(ValueError, match="timezone-aware"):
        dataclasses.replace(scored, occurred_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="score_raw"):
        dataclasses.replace(scored, score_raw=2)
    with pytest.raises(ValueError, match="score_min"):
        dataclasses.replace(scored, score_min=1, score_max=1)
    with pytest.raises(ValueError, match="evaluator"):
        dataclasses.replace(scored, evaluator=LtiUser(CANVAS.issuer, "3"))
    with pytest.raises(ValueError, match="learner"):
        dataclasses.replace(scored, lms=CANVAS)
    with pytest.raises(ValueError, match="between 0 and 1"):
        CompetencyMastered(**{**_fields(scored, CompetencyMastered), "score": 1.5})
    with pytest.raises(ValueError, match="issuer"):
        LtiUser("moodle.example.edu", "17")
    with pytest.raises(ValueError, match="sub"):
        LtiUser(MOODLE.issuer, " ")
    with pytest.raises(ValueError, match="email"):
        LtiUser(MOODLE.issuer, "17", email="camille")
    with pytest.raises(ValueError, match="bloc_codes"):
        ResourceLink("rl", bloc_codes=("B1", "B1"))


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("criterion_code", "C1.1 bis"),
        ("criterion_code", "Critère-1"),
        ("competency_code", "C1.1\n"),
        ("bloc_code", ".B1"),
        ("framework_code", "Community-Manager"),
        ("framework_code", "cm/n6"),
    ],
)
def test_codes_have_the_shapes_of_a_referentiel_file(field: str, code: str) -> None:
    # Their IRIs then never need a %-escape, which Learning Locker checks in exponential time.
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(by_kind()[CriterionScored], **{field: code})


def test_personal_data_stays_out_of_event_reprs() -> None:
    text = repr(by_kind()[CriterionScored])
    assert "Camille" not in text
    assert "example.org" not in text.lower()
    assert "sub='17'" in text
    assert repr(EVALUATOR).startswith("LtiUser(issuer='https://moodle.example.edu', sub='3'")
    assert LINK.epreuve_code == "E1"


def _fields(source: Any, target: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(target)}
    return {f.name: getattr(source, f.name) for f in dataclasses.fields(source) if f.name in names}


@settings(max_examples=150, deadline=None)
@given(event=events(), include_name=st.booleans(), include_email=st.booleans())
def test_any_valid_event_gives_a_valid_conforming_statement(
    event: AnyEvent, include_name: bool, include_email: bool
) -> None:
    privacy = Privacy(include_name=include_name, include_email=include_email)
    record = build(event, BASE_URL, privacy)
    statement = json.loads(record.json)
    assert check_statement(statement) == []
    assert validate(record.json, load_profile(BASE_URL)) == []
    assert build(event, BASE_URL, privacy) == record
    assert record.json == json.dumps(
        statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", statement["timestamp"])
    if not include_name:
        assert all("name" not in agent for agent in _agents(statement))
    if not include_email:
        assert all("mbox" not in agent for agent in _agents(statement))
        assert statement["actor"]["account"] == {
            "homePage": event.learner.issuer,
            "name": event.learner.sub,
        }


def _agents(statement: dict[str, Any]) -> list[dict[str, Any]]:
    agents = [statement["actor"]]
    if "instructor" in statement["context"]:
        agents.append(statement["context"]["instructor"])
    return agents
