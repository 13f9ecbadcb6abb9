"""AGS and NRPS endpoints on lti1p3platform's service classes.

lti1p3platform checks the bearer token and dispatches; the demo supplies the storage. Its gaps
closed here: every operation requires *its own* scopes (lti1p3platform accepts any scope of
the service for every operation); ``page``/``limit`` arrive as strings and unknown query
parameters were passed on as keyword arguments (a 500), so the query is parsed first; its
containers are ``{content, has_next, next}`` dicts where the specifications want a JSON array
(or the NRPS container) with the next page in a ``Link`` header; scores were not validated.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from lti1p3platform.exceptions import LineItemNotFoundException, LtiServiceException
from lti1p3platform.membership import Context
from lti1p3platform.response import Response as LtiResponse
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
    TPage,
)
from sqlalchemy.orm import Session

from lti_tool.demo import gradebook
from lti_tool.demo.gradebook import ScoreOutcome, ToolDataError
from lti_tool.demo.launches import FlaskRequest
from lti_tool.demo.models import Course, LineItem, Placement
from lti_tool.demo.platform import DemoPlatform
from lti_tool.demo.protocol import (
    ROLE_URIS,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_MEMBERSHIPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    DemoUrls,
)

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

# The scopes each operation accepts (AGS 2.0 §3.1; NRPS 2.0 §2.3).
READ_LINE_ITEMS = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
WRITE_LINE_ITEMS = (SCOPE_LINEITEM,)
POST_SCORES = (SCOPE_SCORE,)
READ_RESULTS = (SCOPE_RESULT_READONLY,)
READ_MEMBERSHIPS = (SCOPE_MEMBERSHIPS,)
QUERY = {
    "lineitems": ("page", "limit", "resource_link_id", "resource_id", "tag"),
    "results": ("page", "limit", "user_id"),
    "memberships": ("page", "limit", "role", "rlid"),
}


class ServiceRequest(FlaskRequest):
    """The request as a service reads it: known query parameters only, numbers as numbers."""

    def __init__(self, request: Any, allowed_query: tuple[str, ...]) -> None:
        self.allowed_query = allowed_query
        super().__init__(request)

    def build_metadata(self, request: Any) -> Any:
        """Keep the query parameters the operation defines; ``page``/``limit`` ≥ 1."""
        metadata = super().build_metadata(request)
        query: dict[str, Any] = {}
        for name in self.allowed_query:
            value = request.args.get(name)
            if value is None:
                continue
            if name in {"page", "limit"}:
                if not value.isdigit() or int(value) < 1:
                    raise LtiServiceException(f"{name} must be a positive integer", 400)
                query[name] = int(value)
            else:
                query[name] = value
        metadata["get_data"] = query
        # lti1p3platform calls ``.update`` on the body: give it an object, remember if it was one.
        self.body_is_object = isinstance(metadata["json"], dict)
        if not self.body_is_object:
            metadata["json"] = {}
        return metadata

    def require_body(self, media_type: str) -> None:
        """Refuse a body of another media type, or one that is not a JSON object."""
        if self.content_type != media_type:
            raise LtiServiceException(f"the body must be {media_type}", 415)
        if not self.body_is_object:
            raise LtiServiceException("the body must be a JSON object", 400)


def _page(items: list[Any], page: int, limit: int | None) -> TPage:
    if limit is None:
        return {"content": items, "has_next": False}
    start = (page - 1) * limit
    return {"content": items[start : start + limit], "has_next": start + limit < len(items)}


class DemoAgs(AssignmentsGradesService):  # type: ignore[misc]
    """Line items, scores and results of one course."""

    def __init__(
        self,
        request: ServiceRequest,
        platform: DemoPlatform,
        session: Session,
        course: Course,
        scopes: tuple[str, ...],
        line_item: LineItem | None = None,
    ) -> None:
        self.session, self.course, self.scopes = session, course, scopes
        self.urls: DemoUrls = platform.urls
        line_item_url = self.urls.lineitem(course.id, line_item.id) if line_item else None
        super().__init__(request, platform, self.urls.lineitems(course.id), line_item_url)

    @property
    def allowed_scopes(self) -> list[str]:
        """Return the scopes this operation accepts."""
        return list(self.scopes)

    def _line_item(self, line_item_id: str) -> LineItem:
        line_item = self.session.get(LineItem, int(line_item_id))
        if line_item is None or line_item.course_id != self.course.id:
            raise LineItemNotFoundException(line_item_id)
        return line_item

    def find_lineitems(
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> TPage:
        """List the course's columns."""
        found = gradebook.find_line_items(
            self.session,
            self.course,
            resource_link_id=resource_link_id,
            resource_id=resource_id,
            tag=tag,
        )
        documents = [gradebook.line_item_document(self.urls, item) for item in found]
        return _page(documents, page, limit)

    def find_lineitem(self, line_item_id: str) -> dict[str, Any]:
        """Return one column."""
        return gradebook.line_item_document(self.urls, self._line_item(line_item_id))

    def create_lineitem(self, creation_data: Any) -> dict[str, Any]:
        """Add a column the tool asked for."""
        self.request.require_body(LINEITEM_TYPE)
        try:
            line_item = gradebook.create_line_item(self.session, self.course, creation_data)
        except ToolDataError as exc:
            raise LtiServiceException(str(exc), 400) from exc
        return gradebook.line_item_document(self.urls, line_item)

    def update_lineitem(self, update_data: Any) -> dict[str, Any]:
        """Replace a column's fields."""
        self.request.require_body(LINEITEM_TYPE)
        line_item = self._line_item(str(update_data["id"]))
        try:
            gradebook.update_line_item(self.session, self.course, line_item, update_data)
        except ToolDataError as exc:
            raise LtiServiceException(str(exc), 400) from exc
        return gradebook.line_item_document(self.urls, line_item)

    def delete_lineitem(self, line_item_id: str) -> None:
        """Remove a column and its scores."""
        self.session.delete(self._line_item(line_item_id))
        self.session.flush()

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        """Store a score; 409 when older than the last one (AGS §3.4.8)."""
        self.request.require_body(SCORE_TYPE)
        line_item = self._line_item(line_item_id)
        try:
            outcome, _stored = gradebook.record_score(self.session, self.course, line_item, score)
        except ToolDataError as exc:
            raise LtiServiceException(str(exc), 400) from exc
        return {
            ScoreOutcome.CREATED: UpdateScoreStatus.CREATED,
            ScoreOutcome.UPDATED: UpdateScoreStatus.SUCCESS,
            ScoreOutcome.OUTDATED: UpdateScoreStatus.OLD_TIMESTAMP,
        }[outcome]

    def get_results(
        self,
        line_item_id: str,
        page: int = 1,
        limit: int | None = None,
        user_id: str | None = None,
    ) -> TPage:
        """List each learner's current result."""
        line_item = self._line_item(line_item_id)
        found = gradebook.results(self.session, self.urls, line_item, user_id=user_id)
        return _page(found, page, limit)


class DemoNrps(NamesRoleProvisioningService):  # type: ignore[misc]
    """The roster of one course."""

    def __init__(
        self, request: ServiceRequest, platform: DemoPlatform, session: Session, course: Course
    ) -> None:
        self.session, self.course = session, course
        super().__init__(request, platform, platform.urls.memberships(course.id))

    @property
    def allowed_scopes(self) -> list[str]:
        """Return the scope the roster needs."""
        return list(READ_MEMBERSHIPS)

    def get_context_by_id(self) -> Context:
        """Describe the course."""
        return Context(id=str(self.course.id), label=self.course.label, title=self.course.title)

    def is_resource_link_valid(self, context_id: str, resource_link_id: str) -> bool:
        """Return whether ``rlid`` names a link of this course."""
        if not resource_link_id.isdigit():
            return False
        placement = self.session.get(Placement, int(resource_link_id))
        return placement is not None and placement.course_id == self.course.id

    def get_member_data_page(
        self,
        page: int = 1,
        limit: int | None = None,
        role: str | None = None,
        since: str | None = None,
        rlid: str | None = None,
    ) -> TPage:
        """List the members, filtered by role (short name or full URI)."""
        members = []
        for enrolment in self.course.enrolments:
            uri = ROLE_URIS[enrolment.role]
            if role is not None and role not in {uri, enrolment.role}:
                continue
            user = enrolment.user
            members.append(
                {
                    "status": "Active",
                    "user_id": user.sub,
                    "roles": [uri],
                    "name": user.name,
                    "given_name": user.given_name,
                    "family_name": user.family_name,
                    "email": user.email,
                    "ext_user_username": user.username,
                }
            )
        return _page(members, page, limit)


def to_flask(response: LtiResponse) -> Response:
    """Turn lti1p3platform's answer into the HTTP answer the specifications describe."""
    if response.code >= 400:
        flask_response = Response(
            json.dumps({"error": response.message}),
            status=response.code,
            mimetype="application/json",
        )
        if response.code == 401:
            flask_response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        elif response.message == "insufficient_scope":
            flask_response.headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
        return flask_response
    result = response.result
    links = []
    if isinstance(result, dict):
        result = dict(result)
        next_url = result.pop("next", None)
        if next_url:
            links.append(f'<{next_url}>; rel="next"')
        result.pop("has_next", None)
        if "content" in result:
            result = result["content"]
    if result is None:
        return Response(status=response.code)
    flask_response = Response(
        json.dumps(result, ensure_ascii=False), status=response.code, mimetype=response.media_type
    )
    if links:
        flask_response.headers["Link"] = ", ".join(links)
    return flask_response
