"""The naming chain: what a page calls a person, whatever the platform shared."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lti_tool.lti.claims import drop_mistyped
from lti_tool.people import (
    LaunchedPerson,
    Source,
    display_name,
    person_name,
    pseudonym,
    shared_name,
    sharing_notice,
)

SUB = "a1b2c3d4-0000-4000-8000-123456789abc"
LIS = "https://purl.imsglobal.org/spec/lti/claim/lis"


@dataclass(frozen=True)
class Person:
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    preferred_username: str | None = None
    person_sourcedid: str | None = None


@pytest.mark.parametrize(
    ("person", "roster", "expected"),
    [
        (Person("Léa Martin", "L", "M", "lea", "S1"), "Roster", ("Léa Martin", Source.NAME)),
        (Person(None, "Léa", "Martin", "lea", "S1"), "Roster", ("Léa Martin", Source.PARTS)),
        (Person(family_name="Martin", preferred_username="lea"), None, ("Martin", Source.PARTS)),
        (Person(preferred_username="lea_m", person_sourcedid="S1"), "R", ("lea_m", Source.LOGIN)),
        (Person(person_sourcedid="2026-0042"), "Roster", ("2026-0042", Source.SOURCEDID)),
        (Person(), "Léa du roster", ("Léa du roster", Source.ROSTER)),
        (None, "Léa du roster", ("Léa du roster", Source.ROSTER)),
        # Blank values are no name: the chain goes on.
        (Person(" ", " ", "", "  ", ""), "Léa", ("Léa", Source.ROSTER)),
    ],
)
def test_the_chain_takes_the_first_name_shared(
    person: Person | None, roster: str | None, expected: tuple[str, Source]
) -> None:
    shown = person_name(person, SUB, roster)
    assert (shown.text, shown.source) == expected


def test_nothing_shared_gives_a_short_labelled_pseudonym_never_the_sub() -> None:
    assert shared_name(Person(), None) is None
    shown = person_name(Person(), SUB)
    assert shown.source is Source.PSEUDONYM
    assert shown.text.startswith("Anonyme ")
    assert len(shown.text) == len("Anonyme ") + 6
    assert SUB not in shown.text
    assert SUB[:6].upper() not in shown.text
    # Stable for one person, different for another.
    assert display_name(None, SUB) == shown.text == pseudonym(SUB)
    assert pseudonym(SUB + "x") != shown.text


def test_the_notice_names_the_least_informative_source_shown() -> None:
    assert sharing_notice([]) is None
    assert sharing_notice([Source.NAME, Source.PARTS]) is None
    login = sharing_notice([Source.NAME, Source.LOGIN])
    assert login is not None
    assert "preferred_username" in login
    sourcedid = sharing_notice([Source.SOURCEDID, Source.LOGIN])
    assert sourcedid is not None
    assert "person_sourcedid" in sourcedid
    roster = sharing_notice([Source.ROSTER])
    assert roster is not None
    assert "liste des participants" in roster
    hidden = sharing_notice([Source.LOGIN, Source.PSEUDONYM])
    assert hidden is not None
    assert "pseudonyme" in hidden


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"preferred_username": "lea_m", LIS: {"person_sourcedid": "S1"}}, ("lea_m", "S1")),
        ({"preferred_username": "", LIS: {"person_sourcedid": "S1"}}, (None, "S1")),
        ({"preferred_username": 42, LIS: {"person_sourcedid": ["S1"]}}, (None, None)),
        ({"preferred_username": ["lea"], LIS: "S1"}, (None, None)),
        ({LIS: {"person_sourcedid": ""}}, (None, None)),
    ],
)
def test_wrongly_typed_or_empty_display_claims_are_ignored(
    claims: dict[str, object], expected: tuple[str | None, str | None]
) -> None:
    drop_mistyped(claims)
    person = LaunchedPerson.from_claims(claims)
    assert (person.preferred_username, person.person_sourcedid) == expected
