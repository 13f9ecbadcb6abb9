"""Assignment and Grade Services 2.0 client: the placement's column, scores, results.

The column of a placement is the launch's ``lineitem`` when the platform sent one (Canvas
assignments, links created with a ``lineItem`` by deep linking in Moodle); otherwise it is
looked up in ``lineitems`` by resource link and tag, and created when missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lti_tool.services.client import ServiceClient
from lti_tool.services.context import (
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    LmsContext,
)
from lti_tool.services.errors import LmsServiceError

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
ACTIVITY_PROGRESS = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
# The answer to a score not newer than the one the platform holds.
CONFLICT = 409
GRADING_PROGRESS = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})


@dataclass(frozen=True)
class LineItem:
    """A gradebook column (its ``id`` is its URL)."""

    id: str
    label: str | None = None
    score_maximum: float | None = None
    resource_link_id: str | None = None
    resource_id: str | None = None
    tag: str | None = None

    @classmethod
    def from_json(cls, document: Any) -> LineItem:
        """Read a line item document, refusing one without an ``id``."""
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise LmsServiceError("LMS_BAD_ANSWER", detail="a line item has no id")
        maximum = document.get("scoreMaximum")
        return cls(
            id=document["id"],
            label=document.get("label") if isinstance(document.get("label"), str) else None,
            score_maximum=float(maximum)
            if isinstance(maximum, int | float) and not isinstance(maximum, bool)
            else None,
            resource_link_id=_text(document.get("resourceLinkId")),
            resource_id=_text(document.get("resourceId")),
            tag=_text(document.get("tag")),
        )


@dataclass(frozen=True)
class LineItemSpec:
    """The column Jalon wants for a placement, when it has to create it."""

    label: str
    score_maximum: float
    resource_id: str | None = None
    tag: str | None = None

    def document(self, resource_link_id: str | None) -> dict[str, Any]:
        """Return the line item document to POST."""
        document: dict[str, Any] = {"label": self.label, "scoreMaximum": self.score_maximum}
        if resource_link_id:
            document["resourceLinkId"] = resource_link_id
        if self.resource_id:
            document["resourceId"] = self.resource_id
        if self.tag:
            document["tag"] = self.tag
        return document


@dataclass(frozen=True)
class Score:
    """A learner's score as AGS §3.4 defines it; ``timestamp`` must carry a time zone."""

    user_id: str
    activity_progress: str
    grading_progress: str
    score_given: float | None = None
    score_maximum: float | None = None
    comment: str | None = None
    timestamp: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None:
            raise ValueError("a score's timestamp needs a time zone")
        if self.activity_progress not in ACTIVITY_PROGRESS:
            raise ValueError(f"unknown activityProgress {self.activity_progress}")
        if self.grading_progress not in GRADING_PROGRESS:
            raise ValueError(f"unknown gradingProgress {self.grading_progress}")
        if self.score_given is not None and not self.score_maximum:
            raise ValueError("scoreMaximum is required with scoreGiven")

    def document(self) -> dict[str, Any]:
        """Return the score document to POST (milliseconds, offset written out)."""
        document: dict[str, Any] = {
            "userId": self.user_id,
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
            "timestamp": self.timestamp.isoformat(timespec="milliseconds"),
        }
        if self.score_given is not None:
            document["scoreGiven"] = self.score_given
        if self.score_maximum is not None:
            document["scoreMaximum"] = self.score_maximum
        if self.comment is not None:
            document["comment"] = self.comment
        return document


@dataclass(frozen=True)
class Result:
    """A learner's current result in a column."""

    user_id: str
    result_score: float | None
    result_maximum: float | None
    comment: str | None

    @classmethod
    def from_json(cls, document: Any) -> Result:
        """Read a result document."""
        if not isinstance(document, dict) or not isinstance(document.get("userId"), str):
            raise LmsServiceError("LMS_BAD_ANSWER", detail="a result has no userId")
        return cls(
            user_id=document["userId"],
            result_score=_number(document.get("resultScore")),
            result_maximum=_number(document.get("resultMaximum")),
            comment=_text(document.get("comment")),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _below(line_item_url: str, segment: str) -> str:
    """Return ``{line item}/{segment}``, keeping the line item URL's query (Moodle's type_id)."""
    parts = urlsplit(line_item_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + segment))


class HttpGrades:
    """The AGS client on HTTP (the :class:`~lti_tool.services.GradeService` Jalon runs)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def line_items(
        self,
        context: LmsContext,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> list[LineItem]:
        """List the course's columns, filtered (here too: a platform may ignore the filter)."""
        if not context.lineitems_url:
            raise LmsServiceError("LMS_SERVICE_NOT_OFFERED", detail="lineitems")
        scopes = self.client.scopes_for(context, (SCOPE_LINEITEM_READONLY, SCOPE_LINEITEM))
        params = {
            name: value
            for name, value in (
                ("resource_link_id", resource_link_id),
                ("resource_id", resource_id),
                ("tag", tag),
            )
            if value
        }
        found: list[LineItem] = []
        for _response, body in self.client.pages(
            context, context.lineitems_url, scopes, accept=LINEITEMS_TYPE, params=params
        ):
            if not isinstance(body, list):
                raise LmsServiceError("LMS_BAD_ANSWER", detail="lineitems is not a list")
            found.extend(LineItem.from_json(document) for document in body)
        return [
            item
            for item in found
            if (resource_link_id is None or item.resource_link_id == resource_link_id)
            and (resource_id is None or item.resource_id == resource_id)
            and (tag is None or item.tag == tag)
        ]

    def line_item(self, context: LmsContext, spec: LineItemSpec) -> LineItem:
        """Return the placement's column: the launch's, else found by link and tag, else new."""
        if context.lineitem_url:
            readable = {SCOPE_LINEITEM_READONLY, SCOPE_LINEITEM} & context.granted
            if not readable:  # e.g. score only: the URL is all Jalon needs to post
                return LineItem(id=context.lineitem_url)
            scopes = self.client.scopes_for(context, (SCOPE_LINEITEM_READONLY, SCOPE_LINEITEM))
            response = self.client.call(
                context, "GET", context.lineitem_url, scopes, accept=LINEITEM_TYPE
            )
            return LineItem.from_json(self.client.json(response))
        existing = self.line_items(context, resource_link_id=context.resource_link_id, tag=spec.tag)
        if existing:
            return existing[0]
        return self.create_line_item(context, spec)

    def create_line_item(self, context: LmsContext, spec: LineItemSpec) -> LineItem:
        """Add a column for the placement."""
        if not context.lineitems_url:
            raise LmsServiceError("LMS_SERVICE_NOT_OFFERED", detail="lineitems")
        scopes = self.client.scopes_for(context, (SCOPE_LINEITEM,))
        response = self.client.call(
            context,
            "POST",
            context.lineitems_url,
            scopes,
            accept=LINEITEM_TYPE,
            body=spec.document(context.resource_link_id),
            content_type=LINEITEM_TYPE,
        )
        return LineItem.from_json(self.client.json(response))

    def post_score(self, context: LmsContext, line_item: LineItem, score: Score) -> None:
        """Publish a learner's score to a column; ``LMS_SCORE_OUTDATED`` when it holds newer."""
        scopes = self.client.scopes_for(context, (SCOPE_SCORE,))
        try:
            self.client.call(
                context,
                "POST",
                _below(line_item.id, "scores"),
                scopes,
                accept="application/json",
                body=score.document(),
                content_type=SCORE_TYPE,
            )
        except LmsServiceError as error:
            if error.platform_status != CONFLICT:
                raise
            # AGS §3.4.8: the platform holds a score at least as recent (Moodle's
            # scores.php: not strictly newer, in whole seconds).
            raise LmsServiceError("LMS_SCORE_OUTDATED", status=CONFLICT) from error

    def results(
        self, context: LmsContext, line_item: LineItem, user_id: str | None = None
    ) -> list[Result]:
        """Read the column's current results (one learner's with ``user_id``)."""
        scopes = self.client.scopes_for(context, (SCOPE_RESULT_READONLY,))
        params = {"user_id": user_id} if user_id else None
        found: list[Result] = []
        for _response, body in self.client.pages(
            context, _below(line_item.id, "results"), scopes, accept=RESULTS_TYPE, params=params
        ):
            if not isinstance(body, list):
                raise LmsServiceError("LMS_BAD_ANSWER", detail="results is not a list")
            found.extend(Result.from_json(document) for document in body)
        return found
