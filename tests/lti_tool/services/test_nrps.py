"""The NRPS client against the demo LMS's real endpoint (in process): the roster, paged."""

from __future__ import annotations

import dataclasses

import pytest

from lti_tool.services import LmsServiceError, lms_services
from tests.lti_tool.services.conftest import JALON, Lms

INSTRUCTOR_URI = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def test_the_roster_lists_four_members_with_their_roles(lms: Lms) -> None:
    context = lms.context(1)
    assert context.memberships_url == f"{JALON}/demo/courses/1/memberships"
    with lms.app.app_context():
        roster = lms_services().nrps.members(context)
    assert roster.context_id == "1"
    assert [(m.user_id, m.roles.label) for m in roster.members] == [
        ("1", "staff"),
        ("2", "learner"),
        ("3", "learner"),
        ("4", "learner"),
    ]
    assert roster.members[0].roles.uris == (INSTRUCTOR_URI,)
    assert roster.members[1].name == "Léa Moreau"
    assert [m.user_id for m in roster.learners] == ["2", "3", "4"]


def test_every_page_is_followed_through_the_link_header(lms: Lms) -> None:
    context = lms.context(1)
    paged = dataclasses.replace(context, memberships_url=f"{context.memberships_url}?limit=1")
    with lms.app.app_context():
        roster = lms_services().nrps.members(paged)
    assert [m.user_id for m in roster.members] == ["1", "2", "3", "4"]
    pages = [url for _m, url in lms.transport.calls if "/memberships" in url]
    assert len(pages) == 4


def test_the_roster_can_be_filtered_by_role(lms: Lms) -> None:
    context = lms.context(1)
    with lms.app.app_context():
        roster = lms_services().nrps.members(context, role="Learner")
    assert [m.user_id for m in roster.members] == ["2", "3", "4"]


def test_a_launch_without_nrps_offers_no_roster(lms: Lms) -> None:
    context = dataclasses.replace(lms.context(1), memberships_url=None)
    with lms.app.app_context(), pytest.raises(LmsServiceError) as refused:
        lms_services().nrps.members(context)
    assert refused.value.code == "LMS_SERVICE_NOT_OFFERED"
    assert lms.token_requests() == 0
