"""Role URIs → learner or staff, scoped to the course."""

from __future__ import annotations

import pytest

from lti_tool.lti.roles import parse

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    ("uris", "is_staff", "is_learner"),
    [
        ([LIS + "membership#Learner"], False, True),
        ([LIS + "membership#Instructor"], True, False),
        ([LIS + "membership#ContentDeveloper"], True, False),
        ([LIS + "membership#Administrator"], True, False),
        ([LIS + "membership/Instructor#TeachingAssistant"], True, False),
        ([LIS + "membership#TeachingAssistant"], True, False),
        ([LIS + "membership#Mentor"], False, False),
        (["Instructor"], True, False),  # deprecated simple name
        (["Learner"], False, True),
        # Canvas: an institution "Instructor" who is a learner in this course stays a learner.
        ([LIS + "institution/person#Instructor", LIS + "membership#Learner"], False, True),
        ([LIS + "institution/person#Student", LIS + "system/person#User"], False, False),
        # Site and account administrators are staff everywhere.
        ([LIS + "institution/person#Administrator"], True, False),
        ([LIS + "system/person#Administrator"], True, False),
        ([LIS + "system/person#SysAdmin"], True, False),
        ([], False, False),
        (["http://purl.imsglobal.org/vocab/lti/system/person#TestUser"], False, False),
    ],
)
def test_roles(uris: list[str], is_staff: bool, is_learner: bool) -> None:
    roles = parse(uris)
    assert (roles.is_staff, roles.is_learner) == (is_staff, is_learner)


def test_staff_wins_for_the_label() -> None:
    roles = parse([LIS + "membership#Learner", LIS + "membership#Instructor"])
    assert roles.label == "staff"
    assert parse([LIS + "membership#Learner"]).label == "learner"
