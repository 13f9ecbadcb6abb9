"""The demo platform's protocol endpoints: OIDC authorization, keys, tokens, AGS, NRPS."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from lti1p3platform.exceptions import LtiServiceException, PreflightRequestValidationException
from lti1p3platform.response import Response as LtiResponse
from werkzeug.wrappers import Response

from lti_tool import csrf
from lti_tool.demo import services
from lti_tool.demo.context import demo_state, make_platform
from lti_tool.demo.database import demo_session
from lti_tool.demo.identity import current_user_id, read_hint
from lti_tool.demo.launches import DemoMessageLaunch, FlaskRequest, Member, check_auth_request
from lti_tool.demo.models import Course, DeepLinkRequest, Enrolment, LineItem, Placement
from lti_tool.demo.protocol import AuthRequestError, TokenRequestError

blueprint = Blueprint("demo_lti", __name__, url_prefix="/demo")
PLATFORM_NAME = "Jalon — LMS de démonstration"


def _version() -> str:
    try:
        return importlib.metadata.version("jalon")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a source checkout
        return "0"


@blueprint.get("/jwks")
def jwks() -> Response:
    """Publish the platform's public keys."""
    response = jsonify(demo_state().keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.route("/auth", methods=["GET", "POST"])
@csrf.exempt
def auth() -> Response | tuple[str, int, dict[str, str]]:
    """Answer the tool's OIDC authorization request with a signed id_token, posted by form."""
    params = request.values.to_dict()
    try:
        check_auth_request(params, demo_state().tool)
        hint = _resolve_hint(params)
        launch = DemoMessageLaunch(FlaskRequest.current(), make_platform())
        _configure(launch, hint)
        page: str = launch.lti_launch()
    except AuthRequestError as exc:
        abort(
            exc.status,
            description=_("Demande d’authentification refusée : %(reason)s", reason=exc.detail),
        )
    except PreflightRequestValidationException:
        abort(400, description=_("Demande d’authentification incomplète."))
    return page, 200, {"Cache-Control": "no-store"}


def _resolve_hint(params: dict[str, str]) -> dict[str, Any]:
    """Check that the request is for the signed-in user and names a launch of ours."""
    user_id = current_user_id()
    if user_id is None or params["login_hint"] != str(user_id):
        raise AuthRequestError("login_required", "login_hint is not the signed-in user", 403)
    hint = read_hint(params["lti_message_hint"])
    if hint is None or hint.get("u") != user_id:
        raise AuthRequestError("invalid_request", "lti_message_hint is not valid", 400)
    session = demo_session()
    course_id = hint.get("c")
    enrolment = session.get(Enrolment, (course_id, user_id)) if isinstance(course_id, int) else None
    if enrolment is None:
        raise AuthRequestError("access_denied", "the user is not in the course", 403)
    hint["enrolment"] = enrolment
    if "p" in hint:
        placement = session.get(Placement, hint["p"])
        if placement is None or placement.course_id != enrolment.course_id:
            raise AuthRequestError("invalid_request", "unknown resource link", 400)
        hint["placement"] = placement
    else:
        pending = session.get(DeepLinkRequest, str(hint.get("dl")))
        if (
            pending is None
            or pending.used_at is not None
            or (pending.course_id, pending.user_id) != (enrolment.course_id, user_id)
            or not enrolment.is_instructor
        ):
            raise AuthRequestError("invalid_request", "unknown deep-linking request", 400)
    return hint


def _configure(launch: DemoMessageLaunch, hint: dict[str, Any]) -> None:
    """Set the Moodle-like claims of a resource link or deep-linking launch."""
    state = demo_state()
    urls = state.urls
    enrolment: Enrolment = hint["enrolment"]
    course, user = enrolment.course, enrolment.user
    launch.set_member(
        Member(
            sub=user.sub,
            role=enrolment.role,
            given_name=user.given_name,
            family_name=user.family_name,
            email=user.email,
            username=user.username,
        )
    )
    launch.set_course(course.id, course.label, course.title)
    launch.set_platform(guid=urlsplit(urls.base_url).netloc, name=PLATFORM_NAME, version=_version())
    placement: Placement | None = hint.get("placement")
    line_item = placement.line_items[0] if placement and placement.line_items else None
    launch.set_services(
        lineitems_url=urls.lineitems(course.id),
        lineitem_url=urls.lineitem(course.id, line_item.id) if line_item else None,
        memberships_url=urls.memberships(course.id),
    )
    locale = str(get_locale() or "fr")
    if placement is None:
        launch.set_presentation("window", urls.course(course.id), locale)
        launch.set_deep_linking(
            return_url=urls.deep_link_return,
            data=hint["dl"],
            title=course.title,
            text=_("Choisissez l’épreuve à placer dans le cours."),
        )
        return
    launch.set_resource_link_claim(
        placement.resource_link_id, description=placement.text or None, title=placement.title
    )
    launch.set_presentation(placement.document_target, urls.course(course.id), locale)
    launch.set_custom_parameters_claim(dict(placement.custom))
    launch.set_launch_url(placement.url)


@blueprint.post("/token")
@csrf.exempt
def token() -> tuple[Response, int]:
    """Exchange a client assertion signed by the tool for an access token (RFC 7523)."""
    try:
        granted = make_platform().get_access_token(request.form.to_dict())
    except TokenRequestError as exc:
        response = jsonify(error=exc.code, error_description=exc.detail)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_client"'
        return response, exc.status
    response = jsonify(granted)
    response.headers["Cache-Control"] = "no-store"
    return response, 200


def _course(course_id: int) -> Course:
    course = demo_session().get(Course, course_id)
    if course is None:
        abort(services.to_flask(LtiResponse(None, 404, "unknown course")))
    return course


def _run(build: Callable[[], Any], handler: str, **kwargs: Any) -> Response:
    """Build a service for this request and let lti1p3platform authenticate and dispatch."""
    try:
        service = build()
    except LtiServiceException as exc:
        return services.to_flask(LtiResponse(None, exc.status_code, exc.message))
    return services.to_flask(service.handle_resp(getattr(service, handler), **kwargs))


def _ags(
    course_id: int, scopes: tuple[str, ...], query: str, line_item_id: int | None = None
) -> Callable[[], services.DemoAgs]:
    session = demo_session()
    course = _course(course_id)
    line_item = session.get(LineItem, line_item_id) if line_item_id is not None else None

    def build() -> services.DemoAgs:
        return services.DemoAgs(
            services.ServiceRequest(request, services.QUERY.get(query, ())),
            make_platform(),
            session,
            course,
            scopes,
            line_item if line_item and line_item.course_id == course.id else None,
        )

    return build


@blueprint.route("/courses/<int:course_id>/lineitems", methods=["GET", "POST"])
@csrf.exempt
def lineitems(course_id: int) -> Response:
    """List the course's columns, or add one (AGS line items service)."""
    if request.method == "GET":
        build = _ags(course_id, services.READ_LINE_ITEMS, "lineitems")
        return _run(build, "handle_get_lineitems")
    return _run(_ags(course_id, services.WRITE_LINE_ITEMS, ""), "handle_create_lineitem")


@blueprint.route(
    "/courses/<int:course_id>/lineitems/<int:line_item_id>", methods=["GET", "PUT", "DELETE"]
)
@csrf.exempt
def lineitem(course_id: int, line_item_id: int) -> Response:
    """Read, replace or remove one column."""
    key = str(line_item_id)
    if request.method == "GET":
        build = _ags(course_id, services.READ_LINE_ITEMS, "", line_item_id)
        return _run(build, "handle_get_lineitem", line_item_id=key)
    build = _ags(course_id, services.WRITE_LINE_ITEMS, "", line_item_id)
    handler = "handle_update_lineitem" if request.method == "PUT" else "handle_delete_lineitem"
    return _run(build, handler, line_item_id=key)


@blueprint.post("/courses/<int:course_id>/lineitems/<int:line_item_id>/scores")
@csrf.exempt
def scores(course_id: int, line_item_id: int) -> Response:
    """Take a score for a learner (AGS score service)."""
    build = _ags(course_id, services.POST_SCORES, "", line_item_id)
    return _run(build, "handle_update_score", line_item_id=str(line_item_id))


@blueprint.get("/courses/<int:course_id>/lineitems/<int:line_item_id>/results")
def results(course_id: int, line_item_id: int) -> Response:
    """List the current results of a column (AGS result service)."""
    build = _ags(course_id, services.READ_RESULTS, "results", line_item_id)
    return _run(build, "handle_get_results", line_item_id=str(line_item_id))


@blueprint.get("/courses/<int:course_id>/memberships")
def memberships(course_id: int) -> Response:
    """List the course's members and their roles (NRPS)."""
    course = _course(course_id)

    def build() -> services.DemoNrps:
        return services.DemoNrps(
            services.ServiceRequest(request, services.QUERY["memberships"]),
            make_platform(),
            demo_session(),
            course,
        )

    return _run(build, "handle_get_members")
