"""Open edX's Assignment and Grade Services and roster, for the test LMS, without a database.

Rewritten from lti-consumer-xblock 11.4.4 (``plugin/views.py``: ``LtiAgsLineItemViewset``,
``LtiNrpsContextMembershipViewSet``; the DRF authentication, permissions, parsers and
renderers of ``lti_1p3/extensions/rest_framework``; ``signals.publish_grade_on_score_update``);
the package's own serializers validate what the tool sends, and its consumer checks the
bearer tokens. What Jalon can notice:

* "declarative" mode (the default): Open edX makes the component's line item itself (label =
  the display name, ``scoreMaximum`` = the Grade Weight, ``resourceId`` and
  ``resourceLinkId`` = the block) and gives it in the launch; the tool may read line items,
  not create them. "programmatic": no line item until the tool POSTs one (scope
  ``lineitem``).
* One score per line item and user: a new one needs a strictly later ``timestamp``, else
  400 ("Score already exists for the provided timestamp" / "…only be updated to a later point
  in time") — not 409.
* A score reaches the course gradebook (``set_user_module_score``) only when it is
  ``FullyGraded``, its line item's ``resourceLinkId`` is the component's own block, it has
  ``scoreGiven`` and a positive ``scoreMaximum``, and the block is graded: the grade is
  ``min(given, maximum) / maximum`` × the Grade Weight.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

import tests.openedx.lms  # noqa: F401 (Django is set up before the package is imported)

# isort: split
from django.core.exceptions import ValidationError as ModelValidationError
from lti_consumer.lti_1p3.extensions.rest_framework.parsers import (
    LineItemParser,
    LineItemScoreParser,
)
from lti_consumer.lti_1p3.extensions.rest_framework.renderers import (
    LineItemRenderer,
    LineItemResultsRenderer,
    LineItemScoreRenderer,
    LineItemsRenderer,
    MembershipResultRenderer,
)
from lti_consumer.lti_1p3.extensions.rest_framework.serializers import (
    LtiAgsLineItemSerializer,
    LtiAgsResultSerializer,
    LtiAgsScoreSerializer,
    LtiNrpsContextMembershipBasicSerializer,
    LtiNrpsContextMembershipPIISerializer,
)
from lti_consumer.models import LtiAgsLineItem, LtiAgsScore

if TYPE_CHECKING:
    from tests.openedx.course import Component
    from tests.openedx.platform import OpenEdxLms

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
# LtiAgsPermissions and LtiNrpsContextMembershipsPermissions, by view action.
SCOPES = {
    "list": [AGS + "lineitem.readonly", AGS + "lineitem"],
    "retrieve": [AGS + "lineitem.readonly", AGS + "lineitem"],
    "create": [AGS + "lineitem"],
    "results": [AGS + "result.readonly"],
    "scores": [AGS + "score"],
    "memberships": ["https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"],
}
FORUM_ROLES = ("Community TA", "Group Moderator")


class _LineItemSerializer(LtiAgsLineItemSerializer):
    """The package's line item serializer; only the ``id`` URL is built here (no URLconf)."""

    def get_id(self, obj: LtiAgsLineItem) -> str:
        return str(self.context["url"](obj))


class _ResultSerializer(LtiAgsResultSerializer):
    def get_id(self, obj: LtiAgsScore) -> str:
        return f"{self.context['url'](obj.line_item)}/results/{obj.user_id}"

    def get_scoreOf(self, obj: LtiAgsScore) -> str:  # noqa: N802 (the package's name)
        return str(self.context["url"](obj.line_item))


@dataclass
class Grade:
    """What ``set_user_module_score`` publishes to the course's grades."""

    value: float
    max_value: float
    comment: str


class Gradebook:
    """Line items, scores and published grades of every component of the course."""

    def __init__(self, lms: OpenEdxLms) -> None:
        self.lms = lms
        self.line_items: dict[int, list[LtiAgsLineItem]] = {}
        self.scores: dict[tuple[int, str], LtiAgsScore] = {}
        self.grades: dict[tuple[str, str], Grade] = {}  # (block, external user id)
        self.score_posts: list[tuple[int, dict[str, Any]]] = []  # (answer status, score)
        # The next score posts are stored, then answered 500 (the answer lost after the write).
        self.lost_answers = 0
        self._ids = itertools.count(1)

    def declared_line_item(self, component: Component) -> LtiAgsLineItem | None:
        """Return the component's first line item; declarative mode makes it if missing."""
        items = self.line_items.setdefault(component.config_id, [])
        if not items and component.ags_mode == "declarative":
            item = LtiAgsLineItem(
                resource_id=component.usage_key,
                score_maximum=int(component.weight),
                label=component.display_name,
                resource_link_id=component.location,
            )
            item.id = next(self._ids)
            items.append(item)
        return items[0] if items else None

    def grade(self, component: Component, external_id: str) -> Grade | None:
        """Return the learner's grade for the block, as the course's progress page shows it."""
        return self.grades.get((component.usage_key, external_id))

    # -- the endpoints ------------------------------------------------------------------------

    def answer(self, component: Component, path: str, request: Request) -> Response:
        """Answer ``/api/lti_consumer/v1/lti/{config}/{path}``."""
        if path == "memberships" and request.method == "GET":
            return self._guarded(component, request, "memberships", None, None)
        match = re.fullmatch(r"lti-ags(?:/(\d+)(?:/(scores|results)(?:/([^/.]+))?/?)?)?", path)
        if match is None:
            return Response("Not found", 404)
        item_id, sub, user = match.groups()
        action = {
            (False, None, "GET"): "list",
            (False, None, "POST"): "create",
            (True, None, "GET"): "retrieve",
            (True, "scores", "POST"): "scores",
            (True, "results", "GET"): "results",
        }.get((item_id is not None, sub, request.method))
        if action is None:
            return _detail(f'Method "{request.method}" not allowed.', 405)
        item = None
        if item_id is not None:
            items = self.line_items.get(component.config_id, [])
            item = next((i for i in items if i.id == int(item_id)), None)
        return self._guarded(component, request, action, item, user)

    def _guarded(
        self,
        component: Component,
        request: Request,
        action: str,
        item: LtiAgsLineItem | None,
        user: str | None,
    ) -> Response:
        """Negotiate, authenticate and check the scopes as DRF does, then run the action."""
        if action in {"list", "retrieve", "create"}:
            accepted = request.headers.get("Accept", "*/*")
            offered = (LineItemsRenderer.media_type, LineItemRenderer.media_type, "*/*")
            if not any(media in accepted for media in offered):
                return _detail("Could not satisfy the request Accept header.", 406)
        consumer = self.lms.consumer(component)
        auth = request.headers.get("Authorization", "").split()
        if len(auth) != 2 or auth[0].lower() != "bearer":
            return _detail("Missing LTI 1.3 authentication token.", 403)
        try:
            consumer.check_token(auth[1])
        except Exception:  # Lti1p3ApiAuthentication catches everything
            return _detail("Invalid token signature.", 403)
        allowed = action != "memberships" or component.nrps
        if not (allowed and consumer.check_token(auth[1], SCOPES[action])):
            return _detail("You do not have permission to perform this action.", 403)
        if action == "memberships":
            return self._memberships(request)
        if action in {"retrieve", "scores", "results"} and item is None:
            return _detail("No LtiAgsLineItem matches the given query.", 404)
        context = {"url": lambda i: self.lms.service_url(component, f"lti-ags/{i.id}")}
        if action == "list":
            return self._list(component, request, context)
        if action == "create":
            return self._create(component, request, context)
        assert item is not None
        if action == "retrieve":
            return _render(LineItemRenderer, _LineItemSerializer(item, context=context).data)
        if action == "scores":
            return self._score(component, item, request)
        return self._results(item, user, request, context)

    def _list(self, component: Component, request: Request, context: dict[str, Any]) -> Response:
        items = self.line_items.get(component.config_id, [])
        for name, attribute in (
            ("resource_link_id", "resource_link_id"),
            ("resource_id", "resource_id"),
            ("tag", "tag"),
        ):
            wanted = request.args.get(name)
            if wanted is not None:
                items = [i for i in items if str(getattr(i, attribute)) == wanted]
        data = _LineItemSerializer(items, many=True, context=context).data
        return _render(LineItemsRenderer, data)

    def _create(self, component: Component, request: Request, context: dict[str, Any]) -> Response:
        if request.mimetype != LineItemParser.media_type:
            return _detail(f'Unsupported media type "{request.mimetype}" in request.', 415)
        serializer = _LineItemSerializer(data=json.loads(request.get_data()), context=context)
        if not serializer.is_valid():
            return _render(LineItemRenderer, serializer.errors, 400)
        item = LtiAgsLineItem(**serializer.validated_data)
        item.id = next(self._ids)
        self.line_items.setdefault(component.config_id, []).append(item)
        return _render(LineItemRenderer, _LineItemSerializer(item, context=context).data, 201)

    def _score(self, component: Component, item: LtiAgsLineItem, request: Request) -> Response:
        if request.mimetype != LineItemScoreParser.media_type:
            return _detail(f'Unsupported media type "{request.mimetype}" in request.', 415)
        body = json.loads(request.get_data())
        key = (item.id, str(body.get("userId")))
        existing = self.scores.get(key)
        serializer = LtiAgsScoreSerializer(instance=existing, data=body)
        if not serializer.is_valid():
            self.score_posts.append((400, body))
            return _render(LineItemScoreRenderer, serializer.errors, 400)
        score = existing or LtiAgsScore()
        for name, value in serializer.validated_data.items():
            setattr(score, name, value)
        score.line_item = item
        try:  # LtiAgsScore.save() runs full_clean(): unhandled, a server error
            score.clean_fields(exclude=["line_item"])
            score.clean()
        except ModelValidationError:
            self.score_posts.append((500, body))
            return Response("Server Error (500)", 500)
        self.scores[key] = score
        self._publish(component, item, score)
        if self.lost_answers:
            self.lost_answers -= 1
            self.score_posts.append((500, body))
            return Response("Server Error (500)", 500)
        self.score_posts.append((201, body))
        return _render(LineItemScoreRenderer, LtiAgsScoreSerializer(score).data, 201)

    def _publish(self, component: Component, item: LtiAgsLineItem, score: LtiAgsScore) -> None:
        """publish_grade_on_score_update: only a final score of the block's own line item."""
        if item.resource_link_id != component.location:
            return
        if score.grading_progress != LtiAgsScore.FULLY_GRADED:
            return
        if score.score_given is None or not score.score_maximum or score.score_maximum <= 0:
            return
        if not component.has_score:
            return
        fraction = min(score.score_given, score.score_maximum) / score.score_maximum
        weight = component.weight
        self.grades[(component.usage_key, score.user_id)] = Grade(
            fraction * weight, weight, score.comment or ""
        )

    def _results(
        self, item: LtiAgsLineItem, user: str | None, request: Request, context: dict[str, Any]
    ) -> Response:
        held = [
            score
            for (item_id, user_id), score in self.scores.items()
            if item_id == item.id and score.score_given is not None and user in (None, user_id)
        ]
        held.sort(key=lambda s: s.timestamp, reverse=True)
        if request.args.get("limit"):
            held = held[: int(request.args["limit"])]
        data = _ResultSerializer(held, many=True, context=context).data
        return _render(LineItemResultsRenderer, data)

    def _memberships(self, request: Request) -> Response:
        members = []
        for user in sorted(self.lms.users.values(), key=lambda u: u.user_id):
            roles = ["student", user.role] if user.role in FORUM_ROLES else [user.role]
            member = {"id": user.user_id, "external_id": user.external_id, "roles": roles}
            members.append({**member, "name": user.full_name, "email": user.email})
        serializer = (
            LtiNrpsContextMembershipPIISerializer
            if self.lms.pii_sharing
            else LtiNrpsContextMembershipBasicSerializer
        )
        result = {"id": request.url, "context": {"id": self.lms.course_key}, "members": members}
        return _render(MembershipResultRenderer, serializer(result).data)


def _render(renderer: Any, data: Any, status: int = 200) -> Response:
    body = renderer().render(data)
    return Response(body, status, content_type=renderer.media_type)


def _detail(message: str, status: int) -> Response:
    return Response(json.dumps({"detail": message}), status, content_type="application/json")
