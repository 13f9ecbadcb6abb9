"""LTI endpoints: login, launch, the tool's JWKS, the landing page and refusals."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import refresh
from pylti1p3.contrib.flask import FlaskRequest

from lti_tool import csrf
from lti_tool.db import db_session, utcnow
from lti_tool.evaluation.placement import Placement, placement_of
from lti_tool.lti import cookies, keys, services, session
from lti_tool.lti.errors import REASONS, LaunchRejected
from lti_tool.lti.launch import CLAIM, JalonMessageLaunch, JalonOIDCLogin
from lti_tool.lti.records import record_launch
from lti_tool.lti.roles import parse
from lti_tool.lti.state import StateSigner, signer_for
from lti_tool.lti.tool_config import DatabaseToolConf
from lti_tool.statements import record_launched
from lti_tool.storable import cleaned
from lti_tool.views.errors import wants_json

log = logging.getLogger(__name__)
blueprint = Blueprint("lti", __name__, url_prefix="/lti")
JWKS_MAX_AGE = 3600
STORAGE_HEADER = "X-Jalon-Storage"


def _launch_url() -> str:
    # The same for every login under one mount point: built once per app and script root.
    urls: dict[str, str] = current_app.extensions.setdefault("jalon.launch_urls", {})
    url = urls.get(request.script_root)
    if url is None:
        url = str(current_app.config["JALON"].base_url) + url_for("lti.launch")
        urls[request.script_root] = url
    return url


def _flask_request() -> FlaskRequest:
    # An empty mapping as "session": nothing of the launch goes to Flask's cookie session.
    # The parameters handed over once: pylti1p3 would look them up through Flask's request
    # proxy at each of the dozen reads of a login and a launch.
    data = request.args if request.method == "GET" else request.form
    return FlaskRequest(session={}, request_data=data)


def _states() -> StateSigner:
    return signer_for(current_app.config["SECRET_KEY"])


@blueprint.route("/login", methods=["GET", "POST"])
@csrf.exempt
@session.outside
def login() -> Response | str:
    """Answer a third-party initiated login: send the browser to the platform's auth URL."""
    oidc = JalonOIDCLogin(
        _flask_request(),
        DatabaseToolConf(db_session, services().registrations),
        _states(),
        str(current_app.config["JALON"].base_url),
    )
    try:
        start, oidc_redirect = oidc.start(_launch_url())
    except LaunchRejected as exc:
        exc.issuer, exc.client_id = oidc.param("iss"), oidc.param("client_id")
        raise
    if not start.state.storage_target:
        response: Response = oidc_redirect.do_redirect()
        return response
    # The platform offers its storage: the page stores the browser id and the nonce in the
    # platform's frame by postMessage, then goes on to the platform (the cookie is set too,
    # in case).
    page = make_response(
        render_template(
            "lti/login_storage.html",
            auth_url=start.auth_url,
            storage={
                "mode": "put",
                "target": start.state.storage_target,
                "origin": start.state.platform_origin,
                "state": start.state.browser_id,
                "nonce": start.nonce,
                "next": start.auth_url,
            },
        )
    )
    oidc._cookie_service.update_response(page)  # pylti1p3's cookie jar
    return page


def _storage_confirmation() -> bool:
    """Return whether this POST is the launch page's script confirming platform storage.

    A cross-site form cannot set a custom header, and a cross-site script cannot send one
    without a CORS preflight that Jalon never grants.
    """
    if request.headers.get(STORAGE_HEADER) != "checked":
        return False
    return request.headers.get("Sec-Fetch-Site", "same-origin") == "same-origin"


@blueprint.post("/launch")
@csrf.exempt
@session.outside
def launch() -> Response | str | tuple[Response, int]:
    """Validate a launch, record it, and open the landing page with a session token."""
    checked = _storage_confirmation()
    store = services().store()
    message = JalonMessageLaunch(
        _flask_request(),
        DatabaseToolConf(db_session, services().registrations),
        store,
        services().platform_keys,
        _states(),
        storage_checked=checked,
    )
    try:
        message.validate()
        if message.needs_storage_check:
            state = message.login_state
            assert state is not None  # noqa: S101 (read by validate_state)
            return render_template(
                "lti/launch_storage.html",
                id_token=message.param("id_token"),
                state=message.param("state"),
                storage={
                    "mode": "get",
                    "target": state.storage_target,
                    "origin": state.platform_origin,
                    "state": state.browser_id,
                    "nonce": message.states.nonce(state),
                    "launch": url_for("lti.launch"),
                    "refused": url_for("lti.refused", code="LTI_STATE_MISMATCH"),
                },
            )
        launch_id = _complete(message)
    except LaunchRejected as exc:
        aud = message.unverified_claim("aud")
        exc.issuer = message.unverified_claim("iss")
        exc.client_id = message.validated_client_id or (aud if isinstance(aud, str) else None)
        exc.locale = session.launch_locale(message.body())
        if checked:
            _log_refusal(exc)
            page = url_for("lti.refused", code=exc.code, lang=exc.locale)
            return jsonify(error={"code": exc.code, "status": exc.status}, page=page), exc.status
        raise
    # A deep-linking request opens the épreuve picker (lti_tool/lti/deep_linking_views.py).
    deep_link = message.body().get(CLAIM + "message_type") == "LtiDeepLinkingRequest"
    landing = session.token_url(
        "deep_linking.picker" if deep_link else "lti.home", session.issue(launch_id)
    )
    if checked:
        return jsonify(redirect=landing)
    response = redirect(landing, code=303)
    if message.login_state is not None:
        cookies.delete(response, message.login_state.cookie_name, request.is_secure)
    return response


def _complete(message: JalonMessageLaunch) -> str:
    """Record a validated launch, use up its nonce and store its data; return its id."""
    assert message.platform is not None  # noqa: S101 (validated)
    # Names, titles, labels and custom values lose what the database or XML cannot hold
    # (identifiers holding any were refused); everything after reads these claims.
    claims = cleaned(message.body())
    roles = parse(claims.get(CLAIM + "roles", []))
    records = record_launch(db_session(), message.platform, claims, roles)
    launch_id = secrets.token_urlsafe(12)
    record_launched(
        db_session(),
        message.platform,
        claims,
        roles,
        launch_id,
        current_app.config["JALON"].base_url,
        utcnow(),
        records.framework_checksum,
    )
    jalon = {
        "platform_id": message.platform.id,
        "client_id": message.get_client_id(),
        "context_id": records.context_id,
        "user_id": records.user_id,
        "resource_link_id": records.resource_link_id,
    }
    message.complete(launch_id, session.record(claims, jalon))
    return launch_id


@blueprint.get("/jwks")
def jwks() -> Response:
    """Publish Jalon's public keys: the current one and those still in their grace period."""
    grace = dt.timedelta(days=current_app.config["JALON"].key_grace_days)
    response = jsonify(keys=keys.published(db_session(), grace))
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response


@blueprint.get("/refus/<code>")
def refused(code: str) -> Response:
    """Show a refusal decided in the browser (the platform storage check)."""
    if code not in REASONS:
        abort(404)
    raise LaunchRejected(code)


@blueprint.get("/accueil")
@session.lti_required
def home() -> Response | str:
    """Open a launch where its work is: the learner's épreuve, the copies, or the activity."""
    launch = session.current()
    assert launch is not None  # noqa: S101 (lti_required)
    placement = placement_of(db_session(), launch.custom)
    if (
        placement is not None
        and placement.is_evaluable
        and not launch.is_anonymous
        and launch.message_type == "LtiResourceLinkRequest"
    ):
        if session.can_evaluate(launch):
            return redirect(session.lti_url("evaluator.queue"), 303)
        if launch.roles.is_learner:
            return redirect(session.lti_url("learner.epreuve"), 303)
    return _home_page(launch, placement)


@blueprint.get("/activite")
@session.lti_required
def activity() -> str:
    """Show the activity: the course, the role, and the placed épreuve with its IRIs."""
    launch = session.current()
    assert launch is not None  # noqa: S101 (lti_required)
    return _home_page(launch, placement_of(db_session(), launch.custom))


def _home_page(launch: session.LaunchSession, placement: Placement | None) -> str:
    return render_template(
        "lti/home.html",
        launch=launch,
        placement=placement,
        can_evaluate=session.can_evaluate(launch),
    )


def _log_refusal(exc: LaunchRejected) -> None:
    request.environ["jalon.launch_refusal"] = exc.code  # counted by lti_tool/observability
    # Reason, issuer and client id only: never sub, names, e-mail or the token.
    log.warning(
        "LTI refused: %s (issuer=%r, client_id=%r)",
        exc.code,
        (exc.issuer or "")[:255] if isinstance(exc.issuer, str) else None,
        (exc.client_id or "")[:255] if isinstance(exc.client_id, str) else None,
    )


@blueprint.app_errorhandler(LaunchRejected)
def _rejected(exc: LaunchRejected) -> tuple[Response | str, int]:
    """Render a refusal: its reason code, what happened, and what an administrator checks."""
    launch = session.current()
    if launch is not None and exc.issuer is None:
        exc.issuer, exc.client_id = launch.issuer, launch.client_id
    _log_refusal(exc)
    if exc.locale and not request.args.get("lang"):
        g.locale = exc.locale
        refresh()
    reason = exc.reason
    # Jalon's own login, with the signed state's parameters only: never an address taken
    # from the request.
    relaunch = url_for("lti.login", **exc.relaunch) if exc.relaunch else None
    if wants_json():
        error = {
            "status": exc.status,
            "code": exc.code,
            "title": str(reason.title),
            "check": str(reason.check),
            "detail": exc.detail,
        }
        if relaunch:
            error["relaunch"] = relaunch
        return jsonify(error=error), exc.status
    return render_template(
        "lti/rejected.html",
        code=exc.code,
        reason=reason,
        detail=exc.detail,
        status=exc.status,
        relaunch=relaunch,
    ), exc.status
