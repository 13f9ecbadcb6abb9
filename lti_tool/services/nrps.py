"""Names and Role Provisioning Services 2.0 client: the course's roster, every page of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lti_tool.lti.roles import Roles, parse
from lti_tool.services.client import ServiceClient
from lti_tool.services.context import SCOPE_MEMBERSHIPS, LmsContext
from lti_tool.services.errors import LmsServiceError

MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


@dataclass(frozen=True)
class Member:
    """A member of the course, with what the platform chose to share."""

    user_id: str
    roles: Roles
    status: str = "Active"
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    # NRPS's ``lis_person_sourcedid``: Jalon's naming chain reads it as the launch claim.
    person_sourcedid: str | None = None

    @classmethod
    def from_json(cls, document: Any) -> Member:
        """Read a member; ``status`` defaults to Active (NRPS §2.3)."""
        if not isinstance(document, dict) or not isinstance(document.get("user_id"), str):
            raise LmsServiceError("LMS_BAD_ANSWER", detail="a member has no user_id")
        roles = document.get("roles")

        def text(name: str) -> str | None:
            value = document.get(name)
            return value if isinstance(value, str) and value else None

        return cls(
            user_id=document["user_id"],
            roles=parse(roles if isinstance(roles, list) else []),
            status=text("status") or "Active",
            name=text("name"),
            given_name=text("given_name"),
            family_name=text("family_name"),
            email=text("email"),
            person_sourcedid=text("lis_person_sourcedid"),
        )


@dataclass(frozen=True)
class Roster:
    """The course (``context`` of the container) and its members."""

    context_id: str | None
    members: list[Member]

    @property
    def learners(self) -> list[Member]:
        """Return the active learners."""
        return [m for m in self.members if m.roles.is_learner and m.status == "Active"]


class HttpRoster:
    """The NRPS client on HTTP (the :class:`~lti_tool.services.RosterService` Jalon runs)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def members(self, context: LmsContext, role: str | None = None) -> Roster:
        """List the course's members, following the ``Link`` header's next pages."""
        if not context.memberships_url:
            raise LmsServiceError("LMS_SERVICE_NOT_OFFERED", detail="context_memberships_url")
        scopes = self.client.scopes_for(context, (SCOPE_MEMBERSHIPS,))
        params = {"role": role} if role else None
        members: list[Member] = []
        context_id: str | None = None
        for _response, body in self.client.pages(
            context, context.memberships_url, scopes, accept=MEMBERSHIPS_TYPE, params=params
        ):
            if not isinstance(body, dict) or not isinstance(body.get("members"), list):
                raise LmsServiceError("LMS_BAD_ANSWER", detail="no members list")
            course = body.get("context")
            if isinstance(course, dict) and isinstance(course.get("id"), str):
                context_id = course["id"]
            members.extend(Member.from_json(document) for document in body["members"])
        return Roster(context_id=context_id, members=members)
