"""Statements of the jury's decisions: valid xAPI 1.0.3, deterministic, pseudonymous."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from tincan import Statement  # type: ignore[import-untyped]

from tests.conftest import BASE_URL
from tests.xapi.factories import FRAMEWORK, LEARNER, MOODLE, path_of
from tests.xapi.jury_samples import AT, KINDS, PUBLIC_ID, decided
from xapi import vocabulary as v
from xapi.conformance import check_statement
from xapi.events import BlocSatisfied, CertificationSatisfied
from xapi.jury import (
    BLOC_NOT_CERTIFIED,
    Credential,
    build_decision,
    decision_statement_id,
    jury_registration,
    session_iri,
)
from xapi.jury_tincan import build_decision_reference
from xapi.statements import build, registration


@pytest.mark.parametrize("kind", KINDS)
def test_each_decision_is_a_valid_statement_of_its_template(kind: str) -> None:
    record = build_decision(decided(**KINDS[kind]), BASE_URL)
    document = json.loads(record.json)
    assert check_statement(document) == []
    assert record.template == kind
    # tincan reads back what it wrote; the text is canonical (sorted, compact), with no version.
    assert Statement.from_json(record.json).id == record.id
    assert record.json == json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert "version" not in document
    assert document["timestamp"] == "2026-06-30T14:00:00.123Z"


def test_the_verb_tells_the_outcome_and_success_repeats_it() -> None:
    earned = json.loads(build_decision(decided(), BASE_URL).json)
    failed = json.loads(build_decision(decided(**KINDS[BLOC_NOT_CERTIFIED]), BASE_URL).json)
    assert earned["verb"]["id"] == "http://id.tincanapi.com/verb/earned"
    assert earned["result"]["success"] is True
    assert failed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed"
    assert failed["result"] == {"success": False}


def test_objects_are_the_bloc_and_certification_other_statements_name() -> None:
    # An LRS groups the jury's word with the evidence only if the activities are the same.
    events = {type(e): e for e in path_of()}
    b2 = dataclasses.replace(events[BlocSatisfied], bloc_code="B2")
    satisfied_bloc = json.loads(build(b2, BASE_URL).json)
    satisfied_title = json.loads(build(events[CertificationSatisfied], BASE_URL).json)
    bloc = json.loads(build_decision(decided(), BASE_URL).json)
    title = json.loads(build_decision(decided(bloc_code=None), BASE_URL).json)
    assert bloc["object"] == satisfied_bloc["object"]
    assert title["object"] == satisfied_title["object"]
    # The certification and the course in grouping are the same activities too.
    grouping = bloc["context"]["contextActivities"]["grouping"]
    assert grouping[1:] == satisfied_bloc["context"]["contextActivities"]["grouping"]
    assert grouping[0] == {
        "id": session_iri(BASE_URL, 4),
        "objectType": "Activity",
        "definition": {
            "type": v.CERTIFICATION_SESSION.iri(BASE_URL),
            "name": {
                "fr": f"Session de certification {FRAMEWORK} du 2026-06-30",
                "en": f"Certification session {FRAMEWORK}, 2026-06-30",
            },
        },
    }


def test_the_learner_keeps_the_registration_of_the_course() -> None:
    record = build_decision(decided(), BASE_URL)
    assert record.registration == registration(BASE_URL, LEARNER, MOODLE)
    assert record.registration == build(path_of()[0], BASE_URL).registration
    alone = build_decision(decided(lms=None), BASE_URL)
    assert alone.registration == jury_registration(BASE_URL, decided(lms=None))
    assert alone.registration != record.registration
    document = json.loads(alone.json)
    assert set(document["context"]["extensions"]) == {
        v.SESSION_ID.iri(BASE_URL),
        v.DECISION_ID.iri(BASE_URL),
    }
    assert len(document["context"]["contextActivities"]["grouping"]) == 2  # session, certification


def test_ids_are_deterministic_per_decision() -> None:
    first = build_decision(decided(), BASE_URL)
    assert build_decision(decided(), BASE_URL).json == first.json
    assert first.id == decision_statement_id(BASE_URL, 31)
    assert build_decision(decided(decision_id=32), BASE_URL).id != first.id
    assert build_decision(decided(), "https://other.test").id != first.id
    # Not the id of any other kind of Jalon statement.
    assert first.id not in {build(e, BASE_URL).id for e in path_of()}


def test_extensions_name_the_session_decision_and_credential() -> None:
    document = json.loads(build_decision(decided(), BASE_URL).json)
    assert document["context"]["extensions"] == {
        v.SESSION_ID.iri(BASE_URL): 4,
        v.DECISION_ID.iri(BASE_URL): 31,
        v.DEPLOYMENT_ID.iri(BASE_URL): MOODLE.deployment_id,
        v.CONTEXT_ID.iri(BASE_URL): MOODLE.context_id,
    }
    assert document["result"]["extensions"] == {
        v.CREDENTIAL_ID.iri(BASE_URL): f"urn:uuid:{PUBLIC_ID}",
        v.CREDENTIAL_URL.iri(BASE_URL): f"{BASE_URL}/verifier/{PUBLIC_ID}",
    }
    without = json.loads(build_decision(decided(credential=None), BASE_URL).json)
    assert without["result"] == {"success": True}


def test_no_personal_data_whatever_the_learner_row_holds() -> None:
    for changes in KINDS.values():
        text = build_decision(decided(**changes), BASE_URL).json
        document = json.loads(text)
        assert document["actor"] == {
            "objectType": "Agent",
            "account": {"homePage": LEARNER.issuer, "name": LEARNER.sub},
        }
        assert LEARNER.name is not None
        assert LEARNER.email is not None
        for secret in (LEARNER.name, LEARNER.email.lower(), "Camille", "mailto:"):
            assert secret.lower() not in text.lower()
        assert "instructor" not in document["context"]
        assert "response" not in document.get("result", {})


def test_a_correction_refers_to_the_statement_it_corrects() -> None:
    document = json.loads(build_decision(decided(corrects_decision_id=30), BASE_URL).json)
    assert document["context"]["statement"] == {
        "objectType": "StatementRef",
        "id": str(decision_statement_id(BASE_URL, 30)),
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"is_validated": False}, "only a validated decision has a credential"),
        ({"decided_at": AT.replace(tzinfo=None)}, "timezone-aware"),
        ({"bloc_code": "B 2"}, "bloc_code"),
        ({"framework_code": "Community Manager"}, "framework_code"),
        ({"session_id": 0}, "session_id"),
        ({"decision_id": True}, "decision_id"),
        ({"corrects_decision_id": 31}, "cannot correct itself"),
        ({"platform_name": " "}, "platform_name"),
    ],
)
def test_an_impossible_decision_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decided(**changes)


@pytest.mark.parametrize(
    "value",
    ["0b9c3a52-3f0e-4d1b-9d2a-7c1e5f3a9b10", "urn:uuid:nope", "urn:isbn:0451450523"],
)
def test_a_credential_id_must_be_a_uuid_urn(value: str) -> None:
    with pytest.raises(ValueError, match="urn:uuid"):
        Credential(value, f"{BASE_URL}/verifier/x")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"lms": None},
        {"corrects_decision_id": 30},
        {"lms": dataclasses.replace(MOODLE, context_title=None)},
    ],
    ids=["course", "no-course", "correction", "untitled-course"],
)
def test_direct_statements_are_tincans_byte_for_byte(kind: str, changes: dict[str, Any]) -> None:
    event = decided(**{**KINDS[kind], **changes})
    direct = build_decision(event, BASE_URL)
    reference = build_decision_reference(event, BASE_URL)
    assert direct.json == reference.json
    assert direct == reference
