"""IMS LTI Dynamic Registration 1.0, the tool's side.

The platform (Moodle 4.x "Add LTI Advantage", Canvas "LTI Registration") opens
``/lti/register`` with ``openid_configuration`` (its OpenID configuration URL) and usually
``registration_token``. Jalon fetches that configuration, checks that the issuer it claims
lives at the same origin as the URL it was read from (so a page cannot pass itself off as
another platform), posts its client registration to the platform's
``registration_endpoint`` with the token as bearer, and stores the client id (and the
deployment id when the platform gives one) it gets back: as a platform pending an
administrator's approval, or an active one when an administrator's invitation came along.

The HTTP transport is a service (``PlatformHttp``): ``create_app(registration_http=…)``
may replace the default, which makes its calls under the outbound policy
(:mod:`xapi.outbound`: https, public addresses, no redirects, timeouts, a size limit).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from lti_tool.models import Platform, PlatformStatus
from lti_tool.registration import (
    PlatformFields,
    Problem,
    RegistrationError,
    consume_invite,
    find_usable_invite,
    record_invite_use,
    register_platform,
    url_problem,
)
from xapi.outbound import OutboundError, OutboundHttp

log = logging.getLogger(__name__)

LTI_TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
LTI_PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"
CANVAS_ACCOUNT_NAME = "https://canvas.instructure.com/lti/account_name"
CLOSE_SUBJECT = "org.imsglobal.lti.close"

CLIENT_NAME = "Jalon"
DESCRIPTION = (
    "Évaluation d’une certification RNCP compétence par compétence : épreuves, "
    "grilles critériées, notes et suivi des blocs."
)
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
# Grade columns (deep linking creates them), scores, results, and the course roster.
SCOPES = (SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT, SCOPE_NRPS)
# Pseudonymous by design: Jalon asks for no name, e-mail or picture.
CLAIMS = ("iss", "sub")
CANVAS_PLACEMENTS = ("assignment_selection", "link_selection")
# Canvas-only variables: Moodle would send them unexpanded.
CANVAS_CUSTOM_FIELDS = {"canvas_course_id": "$Canvas.course.id"}
REQUIRED_ENDPOINTS = {
    # OpenID configuration field → the Platform field whose rules it follows.
    "issuer": "issuer",
    "authorization_endpoint": "auth_login_url",
    "token_endpoint": "auth_token_url",
    "jwks_uri": "key_set_url",
    "registration_endpoint": "auth_login_url",
}


@dataclass(frozen=True)
class ToolUrls:
    """Jalon's public LTI URLs, all rooted at ``Settings.base_url``."""

    base_url: str

    @property
    def login(self) -> str:
        """Return the OIDC third-party login initiation URL."""
        return f"{self.base_url}/lti/login"

    @property
    def launch(self) -> str:
        """Return the launch URL: target link URI and redirect URI, deep linking included."""
        return f"{self.base_url}/lti/launch"

    @property
    def jwks(self) -> str:
        """Return the URL of Jalon's public key set."""
        return f"{self.base_url}/lti/jwks"

    @property
    def register(self) -> str:
        """Return the Dynamic Registration URL an LMS administrator enters."""
        return f"{self.base_url}/lti/register"

    @property
    def canvas_json(self) -> str:
        """Return the Canvas developer-key configuration URL."""
        return f"{self.base_url}/lti/canvas.json"

    @property
    def domain(self) -> str:
        """Return the host (and port) LMSs match Jalon's links against."""
        return urlsplit(self.base_url).netloc


class DynamicRegistrationError(Exception):
    """Registration stopped; nothing was stored.

    ``reason`` is a code the page words in the reader's language, ``field`` the
    configuration field at fault, ``detail`` the platform's own message when it gave one.
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int = 400,
        field: str | None = None,
        detail: str | None = None,
        problems: list[Problem] | None = None,
        context: dict[str, str] | None = None,
    ) -> None:
        self.reason = reason
        self.status = status
        self.field = field
        self.detail = detail
        self.problems = problems or []
        self.context = context or {}
        super().__init__(
            f"{reason}{f' ({field})' if field else ''}{f': {detail}' if detail else ''}"
        )


# --- Transport -----------------------------------------------------------------------


@dataclass(frozen=True)
class HttpAnswer:
    """A platform's HTTP answer, whatever its status."""

    status: int
    body: bytes
    content_type: str = ""

    def json(self) -> Any:
        """Decode the body as JSON; raise ``ValueError`` if it is not."""
        return json.loads(self.body.decode("utf-8"))


class PlatformHttpError(Exception):
    """The platform could not be reached, or its answer was refused (its outbound code)."""


class PlatformHttp(Protocol):
    """How Jalon talks to a platform during registration."""

    def get(self, url: str, *, bearer: str | None) -> HttpAnswer:
        """GET a URL, with a bearer token if given."""

    def post_json(self, url: str, payload: Mapping[str, Any], *, bearer: str | None) -> HttpAnswer:
        """POST a JSON document, with a bearer token if given."""


class OutboundPlatformHttp:
    """The default transport: the outbound policy (:mod:`xapi.outbound`).

    ``/lti/register`` is public (platforms open it), so the URL it fetches comes from
    anyone: https only, public addresses only (unless Jalon itself runs on loopback, the
    demo), no redirect followed, short timeouts, answers of at most 1 MiB. A refusal is
    its outbound code, never what the server answered.
    """

    def __init__(self, http: OutboundHttp) -> None:
        self.http = http

    def get(self, url: str, *, bearer: str | None) -> HttpAnswer:
        """GET a URL, with a bearer token if given."""
        return self._send("GET", url, self._headers(bearer))

    def post_json(self, url: str, payload: Mapping[str, Any], *, bearer: str | None) -> HttpAnswer:
        """POST a JSON document, with a bearer token if given."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {**self._headers(bearer), "Content-Type": "application/json"}
        return self._send("POST", url, headers, body)

    @staticmethod
    def _headers(bearer: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "Jalon-LTI-registration"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> HttpAnswer:
        try:
            response = self.http.request(method, url, headers=headers, data=body)
        except OutboundError as error:
            raise PlatformHttpError(str(error)) from error
        return HttpAnswer(
            response.status_code, response.content, response.headers.get("Content-Type", "")
        )


# --- The platform's configuration ----------------------------------------------------


@dataclass(frozen=True)
class PlatformConfiguration:
    """What Jalon uses from a platform's OpenID configuration."""

    configuration_url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    name: str
    product_family_code: str | None = None
    version: str | None = None
    scopes_supported: tuple[str, ...] | None = None
    authorization_server: str | None = None

    @property
    def is_canvas(self) -> bool:
        """Return whether the platform says it is Canvas."""
        return self.product_family_code == "canvas"


def check_configuration_url(url: str | None) -> str:
    """Return the configuration URL if Jalon may fetch it; raise otherwise."""
    url = (url or "").strip()
    if not url:
        raise DynamicRegistrationError("missing_configuration_url")
    problem = url_problem("openid_configuration", url)
    if problem is not None:
        raise DynamicRegistrationError(
            "invalid_configuration_url", field="openid_configuration", problems=[problem]
        )
    return url


def fetch_platform_configuration(
    http: PlatformHttp, configuration_url: str | None, registration_token: str | None
) -> PlatformConfiguration:
    """Fetch and check a platform's OpenID configuration.

    Canvas wants the registration token as bearer on this request too; Moodle ignores it.
    """
    url = check_configuration_url(configuration_url)
    try:
        answer = http.get(url, bearer=registration_token or None)
    except PlatformHttpError as error:
        raise DynamicRegistrationError("unreachable", status=424, detail=str(error)) from error
    if answer.status != 200:
        # Only the status: the URL came from whoever opened the page, so the body could be
        # any server's, and Jalon must not become a way to read it.
        raise DynamicRegistrationError(
            "configuration_status", status=424, detail=f"HTTP {answer.status}"
        )
    try:
        document = answer.json()
    except ValueError as error:
        raise DynamicRegistrationError("configuration_not_json") from error
    return parse_platform_configuration(url, document)


def parse_platform_configuration(url: str, document: Any) -> PlatformConfiguration:
    """Check a configuration document read from ``url``."""
    if not isinstance(document, dict):
        raise DynamicRegistrationError("configuration_not_json")
    values: dict[str, str] = {}
    for name, rules in REQUIRED_ENDPOINTS.items():
        value = document.get(name)
        if not isinstance(value, str) or not value.strip():
            raise DynamicRegistrationError("configuration_missing", field=name)
        problem = url_problem(rules, value.strip())
        if problem is not None:
            raise DynamicRegistrationError(
                "configuration_invalid", field=name, problems=[Problem(name, problem.reason)]
            )
        values[name] = value.strip()
    if _origin(values["issuer"]) != _origin(url):
        # LTI-DR §3.5.1: a configuration may only speak for the issuer it is served by.
        raise DynamicRegistrationError(
            "origin_mismatch",
            field="issuer",
            context={"issuer": values["issuer"], "origin": _origin_text(url)},
        )
    if _origin(values["registration_endpoint"]) != _origin(values["issuer"]):
        # Jalon posts to this endpoint and shows what it answers: only the platform itself.
        raise DynamicRegistrationError(
            "registration_elsewhere",
            field="registration_endpoint",
            context={
                "issuer": values["issuer"],
                "origin": _origin_text(values["registration_endpoint"]),
            },
        )
    lti = document.get(LTI_PLATFORM_CONFIGURATION)
    lti = lti if isinstance(lti, dict) else {}
    family = _text(lti.get("product_family_code"))
    scopes = document.get("scopes_supported")
    return PlatformConfiguration(
        configuration_url=url,
        name=_platform_name(values["issuer"], family, _text(lti.get(CANVAS_ACCOUNT_NAME))),
        product_family_code=family.lower()[:100] if family else None,
        version=_text(lti.get("version")),
        scopes_supported=(
            tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else None
        ),
        authorization_server=_text(document.get("authorization_server")),
        **values,
    )


# --- The registration ----------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationResult:
    """What the platform answered to Jalon's client registration."""

    client_id: str
    deployment_id: str | None = None
    scopes_granted: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Registered:
    """A completed registration: the platform as stored, and how it got there."""

    platform: Platform
    configuration: PlatformConfiguration
    result: RegistrationResult
    scopes_requested: tuple[str, ...] = field(default_factory=tuple)


def requested_scopes(config: PlatformConfiguration) -> tuple[str, ...]:
    """Return Jalon's scopes that the platform offers.

    Asking a platform for a scope it does not have can make it refuse the registration or,
    later, every token request.
    """
    if config.scopes_supported is None:
        return SCOPES
    return tuple(s for s in SCOPES if s in config.scopes_supported)


def registration_request(urls: ToolUrls, config: PlatformConfiguration) -> dict[str, Any]:
    """Build the client registration Jalon sends to this platform."""
    deep_linking: dict[str, Any] = {
        "type": "LtiDeepLinkingRequest",
        "target_link_uri": urls.launch,
        "label": CLIENT_NAME,
        # Canvas names its placements; the IMS name is for everyone else (Moodle ignores it).
        "placements": list(CANVAS_PLACEMENTS) if config.is_canvas else ["ContentArea"],
    }
    resource_link = {
        "type": "LtiResourceLinkRequest",
        "target_link_uri": urls.launch,
        "label": CLIENT_NAME,
    }
    tool: dict[str, Any] = {
        "domain": urls.domain,
        "target_link_uri": urls.launch,
        "description": DESCRIPTION,
        "claims": list(CLAIMS),
        # Deep linking first: Canvas gives a message without placements "link_selection"
        # and keeps the first message per placement.
        "messages": [deep_linking, resource_link],
    }
    if config.is_canvas:
        tool[CANVAS_PRIVACY_LEVEL] = "anonymous"
        tool["custom_parameters"] = dict(CANVAS_CUSTOM_FIELDS)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": CLIENT_NAME,
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(requested_scopes(config)),
        LTI_TOOL_CONFIGURATION: tool,
    }


def send_registration(
    http: PlatformHttp,
    config: PlatformConfiguration,
    payload: Mapping[str, Any],
    registration_token: str | None,
) -> RegistrationResult:
    """Post the registration and read the client id (and deployment id) back."""
    try:
        answer = http.post_json(
            config.registration_endpoint, payload, bearer=registration_token or None
        )
    except PlatformHttpError as error:
        raise DynamicRegistrationError("unreachable", status=424, detail=str(error)) from error
    if answer.status not in {200, 201}:
        raise DynamicRegistrationError("refused", status=424, detail=_platform_message(answer))
    try:
        document = answer.json()
    except ValueError as error:
        raise DynamicRegistrationError("response_invalid", status=424) from error
    if not isinstance(document, dict):
        raise DynamicRegistrationError("response_invalid", status=424)
    client_id = _identifier(document.get("client_id"))
    if client_id is None:
        raise DynamicRegistrationError("response_invalid", status=424, field="client_id")
    tool = document.get(LTI_TOOL_CONFIGURATION)
    # Moodle answers with the deployment id (its tool type id); Canvas creates deployments
    # later, when the key is installed in an account or course.
    deployment_id = _identifier(tool.get("deployment_id")) if isinstance(tool, dict) else None
    scope = document.get("scope")
    granted = tuple(scope.split()) if isinstance(scope, str) else None
    return RegistrationResult(client_id, deployment_id, granted)


def platform_fields(config: PlatformConfiguration, result: RegistrationResult) -> PlatformFields:
    """Return the platform to store for a registration."""
    return PlatformFields(
        issuer=config.issuer,
        client_id=result.client_id,
        auth_login_url=config.authorization_endpoint,
        auth_token_url=config.token_endpoint,
        key_set_url=config.jwks_uri,
        auth_audience=_audience(config.authorization_server),
        name=config.name,
        product_family_code=config.product_family_code,
        deployment_ids=(result.deployment_id,) if result.deployment_id else (),
    )


def register(
    session: Session,
    http: PlatformHttp,
    urls: ToolUrls,
    configuration_url: str | None,
    registration_token: str | None,
    *,
    invite: str | None = None,
) -> Registered:
    """Run the whole registration and store the platform (the caller commits).

    ``/lti/register`` is public, so the platform is stored *pending*: its launches are
    refused until an administrator activates it. A registration through an administrator's
    invitation (``invite``, the link's token) is active at once and uses the invitation
    up: an unknown, used or expired one is refused before anything is sent to the
    platform; the invitation is spent by one conditional UPDATE in the caller's
    transaction, so a registration that fails leaves it usable, and of two racing on one
    link the second is stored pending.
    """
    config = fetch_platform_configuration(http, configuration_url, registration_token)
    if invite is not None and find_usable_invite(session, invite) is None:
        raise DynamicRegistrationError("invite_invalid", status=410)
    payload = registration_request(urls, config)
    result = send_registration(http, config, payload, registration_token)
    invite_id = consume_invite(session, invite) if invite is not None else None
    status = PlatformStatus.PENDING if invite_id is None else PlatformStatus.ACTIVE
    try:
        platform = register_platform(session, platform_fields(config, result), status=status)
    except RegistrationError as error:
        if "duplicate_platform" in error.reasons:
            raise DynamicRegistrationError("already_registered", status=409) from error
        raise DynamicRegistrationError(
            "registration_invalid", status=424, problems=error.problems
        ) from error
    if invite_id is not None:
        record_invite_use(session, invite_id, platform)
    log.info(
        "dynamic registration stored: %s (%s), %d deployment(s), %s",
        urlsplit(config.issuer).netloc,
        config.product_family_code or "unknown platform",
        len(platform.deployments),
        f"active (invitation {invite_id})" if invite_id is not None else "pending approval",
    )
    return Registered(platform, config, result, tuple(payload["scope"].split()))


# --- Helpers -------------------------------------------------------------------------


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _origin_text(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _identifier(value: Any) -> str | None:
    """Read an id that platforms send as a string or a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str):
        return str(value).strip() or None
    return None


def _platform_name(issuer: str, family: str | None, account: str | None) -> str:
    host = urlsplit(issuer).netloc
    if account:
        name = f"{account} ({host})"
    elif family:
        name = f"{family.capitalize()} ({host})"
    else:
        name = host
    return name[:255]


def _audience(authorization_server: str | None) -> str | None:
    """Return the token audience to store, if the platform names a usable one.

    Brightspace gives a URL that its token endpoint expects as ``aud``. Canvas gives a bare
    host name there yet checks ``aud`` against its token URL, so anything that is not a
    URL is ignored and the token URL (pylti1p3's default audience) stays in force.
    """
    if authorization_server and url_problem("auth_audience", authorization_server) is None:
        return authorization_server
    return None


def _platform_message(answer: HttpAnswer) -> str:
    """Return what the platform said, in a form fit for a page and a log line.

    Moodle answers plain text (``invalid_response_types``), Canvas ``{"errorMessage"}``,
    RFC 7591 servers ``{"error", "error_description"}``.
    """
    text = ""
    try:
        document = answer.json()
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict):
        for key in ("error_description", "errorMessage", "message", "error"):
            if isinstance(document.get(key), str) and document[key].strip():
                text = document[key]
                break
    if not text:
        text = answer.body.decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if len(text) > 300:
        text = text[:299] + "…"
    return f"HTTP {answer.status}" + (f" — {text}" if text else "")
