"""The LMS's services, as Jalon calls them: grades (AGS 2.0) and the roster (NRPS 2.0).

Each is a :class:`typing.Protocol` with an HTTP implementation and an in-memory one
(:mod:`lti_tool.services.memory`). ``create_app`` may be given
``ags=`` and ``nrps=`` (any object with the protocol's methods), or ``lms_http=`` (the
``requests.Session`` that carries the HTTP clients' calls: tests route it to in-process
apps; the outbound policy checks every call before it gets there). The HTTP clients of
one app share their access tokens, cached per platform and scope set.

Use::

    context = context_for_launch(db_session(), platform, launch.claims)
    column = lms_services().ags.line_item(context, LineItemSpec("E1", 16, tag="jalon"))
    lms_services().ags.post_score(context, column, Score(user_id, "Completed", ...))

Every failure is an :class:`LmsServiceError` whose ``code`` and ``reason`` a page can show.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app

from lti_tool.services.ags import HttpGrades, LineItem, LineItemSpec, Result, Score
from lti_tool.services.client import ServiceClient
from lti_tool.services.context import LmsContext, context_for_launch, context_for_resource_link
from lti_tool.services.errors import LmsServiceError
from lti_tool.services.nrps import HttpRoster, Member, Roster
from lti_tool.services.tokens import USER_AGENT, AccessTokens
from xapi.outbound import OutboundHttp

__all__ = [
    "GradeService",
    "LineItem",
    "LineItemSpec",
    "LmsContext",
    "LmsServiceError",
    "LmsServices",
    "Member",
    "Result",
    "Roster",
    "RosterService",
    "Score",
    "context_for_launch",
    "context_for_resource_link",
    "lms_services",
]


class GradeService(Protocol):
    """Assignment and Grade Services, as Jalon uses them."""

    def line_items(
        self,
        context: LmsContext,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> list[LineItem]:
        """List the course's columns."""

    def line_item(self, context: LmsContext, spec: LineItemSpec) -> LineItem:
        """Return the placement's column, created from ``spec`` when missing."""

    def create_line_item(self, context: LmsContext, spec: LineItemSpec) -> LineItem:
        """Add a column."""

    def post_score(self, context: LmsContext, line_item: LineItem, score: Score) -> None:
        """Publish a score."""

    def results(
        self, context: LmsContext, line_item: LineItem, user_id: str | None = None
    ) -> list[Result]:
        """Read a column's results."""


class RosterService(Protocol):
    """Names and Role Provisioning Services, as Jalon uses them."""

    def members(self, context: LmsContext, role: str | None = None) -> Roster:
        """List the course's members."""


@dataclass(frozen=True)
class LmsServices:
    """The services of one app."""

    ags: GradeService
    nrps: RosterService
    tokens: AccessTokens | None = None


_lock = threading.Lock()


def _build(app: Flask) -> LmsServices:
    from lti_tool.outbound import outbound_policy

    given = app.extensions.get("jalon.services", {})
    http = OutboundHttp(
        outbound_policy(app), given.get("lms_http"), headers={"User-Agent": USER_AGENT}
    )
    tokens = AccessTokens(http)
    client = ServiceClient(http, tokens)
    return LmsServices(
        ags=given.get("ags") or HttpGrades(client),
        nrps=given.get("nrps") or HttpRoster(client),
        tokens=tokens,
    )


def lms_services() -> LmsServices:
    """Return the current app's LMS services, built on first use."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    services: LmsServices | None = app.extensions.get("jalon.lms")
    if services is None:
        with _lock:
            services = app.extensions.setdefault("jalon.lms", _build(app))
    return services
