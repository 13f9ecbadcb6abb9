"""The tincan reference builder, and the direct builder proved byte-identical to it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan import Statement  # type: ignore[import-untyped]

from tests.conftest import BASE_URL
from tests.xapi import factories
from tests.xapi.factories import path_of
from xapi.events import (
    AnyEvent,
    BlocSatisfied,
    CertificationSatisfied,
    CompetencyMastered,
    CompetencyProgressed,
    CriterionScored,
    Launched,
    Submitted,
)
from xapi.statements import PSEUDONYMOUS, TEMPLATES, Privacy, build
from xapi.tincan_reference import build_reference, serialize, to_tincan

KINDS = {
    "launched": Launched,
    "submitted": Submitted,
    "scored": CriterionScored,
    "progressed": CompetencyProgressed,
    "mastered": CompetencyMastered,
    "bloc": BlocSatisfied,
    "certification": CertificationSatisfied,
}
PRIVACIES = {
    "pseudonymous": PSEUDONYMOUS,
    "name": Privacy(include_name=True),
    "email": Privacy(include_email=True),
    "name-and-email": Privacy(include_name=True, include_email=True),
}


def test_every_event_kind_is_compared() -> None:
    assert set(KINDS) == set(factories.KINDS)
    assert set(KINDS.values()) == set(TEMPLATES)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=100, deadline=None)
@given(data=st.data(), include_name=st.booleans(), include_email=st.booleans())
def test_direct_statements_are_tincans_byte_for_byte(
    kind: str, data: st.DataObject, include_name: bool, include_email: bool
) -> None:
    event: AnyEvent = data.draw(factories.events(kinds=(kind,)))
    assert type(event) is KINDS[kind]
    privacy = Privacy(include_name=include_name, include_email=include_email)
    direct = build(event, BASE_URL, privacy)
    reference = build_reference(event, BASE_URL, privacy)
    assert direct.json == reference.json
    assert direct == reference


@pytest.mark.parametrize("privacy", PRIVACIES.values(), ids=PRIVACIES.keys())
def test_a_learners_path_is_the_same_through_both_builders(privacy: Privacy) -> None:
    for event in path_of():
        for base in (BASE_URL, BASE_URL + "/"):
            assert build(event, base, privacy) == build_reference(event, base, privacy)


def test_tincan_alone_would_send_an_offset_and_a_version_we_remove() -> None:
    # Why serialize() exists: tincan 1.0.0 writes "+00:00" and microseconds, and sets the
    # version to 1.0.3, which a Learning Record Provider must not (xAPI 1.0.3, Data 2.4.10).
    statement = to_tincan(path_of()[0], BASE_URL)
    statement.version = "1.0.3"
    raw = statement.as_version("1.0.3")
    assert raw["timestamp"].endswith("+00:00")
    assert raw["version"] == "1.0.3"
    ours = json.loads(serialize(to_tincan(path_of()[0], BASE_URL)))
    assert "version" not in ours
    assert ours["timestamp"].endswith("Z")
    assert isinstance(statement, Statement)
