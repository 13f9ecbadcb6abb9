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


LEARNER = LIS + "membership#Learner"


@pytest.mark.parametrize(
    ("uris", "is_staff", "is_learner", "is_assistant"),
    [
        # Open edX forum Community TA / Group Moderator: students, and they stay learners.
        ([LEARNER, LIS + "membership/Instructor#TeachingAssistant"], False, True, False),
        # A student leading a group: a sub-role of Learner.
        ([LEARNER, LIS + "membership/Learner#Instructor"], False, True, False),
        ([LIS + "membership/Learner#Instructor"], False, True, False),
        ([LEARNER, LIS + "membership#TeachingAssistant"], False, True, False),
        # A sub-role never lifts anyone: an Instructor#Grader alone grants nothing.
        ([LEARNER, LIS + "membership/Instructor#Grader"], False, True, False),
        ([LIS + "membership/Instructor#Grader"], False, False, False),
        ([LIS + "membership/Administrator#Administrator"], False, False, False),
        # A teaching assistant without the Learner role is on the team, as an assistant.
        ([LIS + "membership/Instructor#TeachingAssistant"], True, False, True),
        ([LIS + "membership#TeachingAssistant"], True, False, True),
        # A principal staff role decides whatever comes with it.
        (
            [LIS + "membership#Instructor", LIS + "membership/Instructor#TeachingAssistant"],
            True,
            False,
            False,
        ),
        ([LEARNER, LIS + "membership#Instructor"], True, True, False),
        ([LIS + "membership#ContentDeveloper", LEARNER], True, True, False),
        # Site administrators stay staff, as before.
        ([LIS + "institution/person#Administrator", LEARNER], True, True, False),
    ],
)
def test_item9_the_principal_role_decides(
    uris: list[str], is_staff: bool, is_learner: bool, is_assistant: bool
) -> None:
    roles = parse(uris)
    assert (roles.is_staff, roles.is_learner, roles.is_teaching_assistant) == (
        is_staff,
        is_learner,
        is_assistant,
    )
