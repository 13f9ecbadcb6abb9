"""AGS and NRPS kept in memory: for tests of what uses them, and a Jalon without an LMS.

They keep the HTTP clients' rules that a caller can notice: only granted scopes, a column
found by resource link and tag before one is created, the latest score per learner. With
``strictly_newer`` the gradebook refuses, as Moodle's ``scores.php`` does, a score whose
timestamp is not strictly newer than the one it holds, compared in whole seconds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from lti_tool.services.ags import LineItem, LineItemSpec, Result, Score
from lti_tool.services.client import ServiceClient
from lti_tool.services.context import (
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    LmsContext,
)
from lti_tool.services.errors import LmsServiceError
from lti_tool.services.nrps import Member, Roster


@dataclass
class InMemoryGrades:
    """A gradebook in memory: columns by URL, every score received (and kept)."""

    columns: dict[str, LineItem] = field(default_factory=dict)
    scores: list[tuple[str, Score]] = field(default_factory=list)
    strictly_newer: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def line_items(
        self,
        context: LmsContext,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> list[LineItem]:
        """List the columns, filtered."""
        ServiceClient.scopes_for(context, (SCOPE_LINEITEM_READONLY, SCOPE_LINEITEM))
        return [
            item
            for item in self.columns.values()
            if (resource_link_id is None or item.resource_link_id == resource_link_id)
            and (resource_id is None or item.resource_id == resource_id)
            and (tag is None or item.tag == tag)
        ]

    def line_item(self, context: LmsContext, spec: LineItemSpec) -> LineItem:
        """Return the launch's column, else the link's column with the tag, else a new one."""
        if context.lineitem_url:
            return self.columns.get(context.lineitem_url) or LineItem(id=context.lineitem_url)
        found = self.line_items(context, resource_link_id=context.resource_link_id, tag=spec.tag)
        return found[0] if found else self.create_line_item(context, spec)

    def create_line_item(self, context: LmsContext, spec: LineItemSpec) -> LineItem:
        """Add a column."""
        ServiceClient.scopes_for(context, (SCOPE_LINEITEM,))
        item = LineItem(
            id=f"memory://lineitems/{next(self._ids)}",
            label=spec.label,
            score_maximum=spec.score_maximum,
            resource_link_id=context.resource_link_id,
            resource_id=spec.resource_id,
            tag=spec.tag,
        )
        self.columns[item.id] = item
        return item

    def post_score(self, context: LmsContext, line_item: LineItem, score: Score) -> None:
        """Keep a score for a known column."""
        ServiceClient.scopes_for(context, (SCOPE_SCORE,))
        if line_item.id not in self.columns:
            raise LmsServiceError("LMS_NOT_FOUND", status=404)
        if self.strictly_newer:
            held = [
                kept.timestamp
                for column_id, kept in self.scores
                if column_id == line_item.id and kept.user_id == score.user_id
            ]
            if held and int(held[-1].timestamp()) >= int(score.timestamp.timestamp()):
                raise LmsServiceError("LMS_SCORE_OUTDATED", status=409)
        self.scores.append((line_item.id, score))

    def results(
        self, context: LmsContext, line_item: LineItem, user_id: str | None = None
    ) -> list[Result]:
        """Return each learner's latest score, scaled to the column's maximum."""
        ServiceClient.scopes_for(context, (SCOPE_RESULT_READONLY,))
        column = self.columns.get(line_item.id)
        if column is None:
            raise LmsServiceError("LMS_NOT_FOUND", status=404)
        latest: dict[str, Score] = {}
        for column_id, score in self.scores:
            if column_id == column.id and (user_id is None or score.user_id == user_id):
                latest[score.user_id] = score
        results = []
        for score in latest.values():
            scaled = None
            if score.score_given is not None and score.score_maximum and column.score_maximum:
                scaled = score.score_given * column.score_maximum / score.score_maximum
            results.append(Result(score.user_id, scaled, column.score_maximum, score.comment))
        return results


@dataclass
class InMemoryRoster:
    """A course roster in memory."""

    members_list: list[Member] = field(default_factory=list)
    context_id: str | None = None

    def members(self, context: LmsContext, role: str | None = None) -> Roster:
        """List the members; ``role`` is a full role URI or its short name."""
        if not context.memberships_url:
            raise LmsServiceError("LMS_SERVICE_NOT_OFFERED", detail="context_memberships_url")
        chosen = [
            m
            for m in self.members_list
            if role is None or any(uri == role or uri.endswith("#" + role) for uri in m.roles.uris)
        ]
        return Roster(context_id=self.context_id, members=chosen)
