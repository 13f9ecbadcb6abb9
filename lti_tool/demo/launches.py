"""A launch from the platform's side: the login initiation and the signed id_token.

lti1p3platform's gaps closed here: the OIDC authorization request was only checked for the
presence of nonce, state and redirect_uri → :func:`check_auth_request` checks scope, response
type and mode, prompt, client id and a registered ``redirect_uri`` (exact match, down to a
trailing slash); the deep-linking settings were hard-coded (``accept_multiple: True``,
``embed``) and the launch presentation had no ``locale`` → Moodle-like settings and the
locale; its launch form auto-submits with an inline script that a ``script-src 'self'``
policy blocks → our template posts with a static script and a ``<noscript>`` button.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import render_template
from flask import request as flask_request
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.request import Request, TRequest
from werkzeug.wrappers import Response

from lti_tool.demo.platform import DemoPlatform
from lti_tool.demo.protocol import (
    CLAIM,
    DL_CLAIM,
    ID_TOKEN_LIFETIME,
    ROLE_URIS,
    SCOPE_LINEITEM,
    SCOPE_MEMBERSHIPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    AuthRequestError,
    DemoTool,
)
from lti_tool.views import headers


def check_auth_request(params: Mapping[str, str], tool: DemoTool) -> None:
    """Refuse an OIDC authorization request that is not exactly what LTI 1.3 asks."""
    expected = {
        "scope": ("openid", "invalid_scope"),
        "response_type": ("id_token", "unsupported_response_type"),
        "response_mode": ("form_post", "invalid_request"),
        "prompt": ("none", "invalid_request"),
    }
    for name, (value, code) in expected.items():
        if params.get(name) != value:
            raise AuthRequestError(code, f"{name} must be {value}")
    if params.get("client_id") != tool.client_id:
        raise AuthRequestError("unauthorized_client", "unknown client_id")
    if params.get("redirect_uri") not in tool.registered_redirect_uris:
        raise AuthRequestError("invalid_request", "redirect_uri is not registered for this tool")
    for name in ("login_hint", "nonce", "state", "lti_message_hint"):
        if not params.get(name):
            raise AuthRequestError("invalid_request", f"{name} is missing")


class FlaskRequest(Request):  # type: ignore[misc]
    """lti1p3platform's view of the current Flask request."""

    def build_metadata(self, request: Any) -> TRequest:
        """Copy what lti1p3platform reads from the request."""
        return {
            "method": request.method,
            "form_data": request.form.to_dict(),
            "get_data": request.args.to_dict(),
            "headers": request.headers,
            "content_type": request.mimetype,
            "path": request.path,
            "json": request.get_json(silent=True),
        }

    @classmethod
    def current(cls) -> FlaskRequest:
        """Wrap the request being served."""
        return cls(flask_request)


class DemoOIDCLogin(OIDCLoginAbstract):  # type: ignore[misc]
    """Third-party initiated login: send the browser to the tool's login URL."""

    def set_lti_message_hint(self, **kwargs: Any) -> None:
        """Set the opaque hint the tool echoes back to ``/demo/auth``."""
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> Response:
        """Redirect the browser (the tool's login accepts GET)."""
        response = Response(status=302)
        response.headers["Location"] = url
        return response

    def start(self, *, user_sub: str, hint: str, target_link_uri: str) -> Response:
        """Start a launch of ``target_link_uri`` for a user."""
        self.set_lti_message_hint(hint=hint)
        self.set_launch_url(target_link_uri)
        return self.initiate_login(user_sub)  # type: ignore[no-any-return]


@dataclass
class Member:
    """Who is launching, in which role."""

    sub: str
    role: str
    given_name: str
    family_name: str
    email: str
    username: str
    extra_roles: list[str] = field(default_factory=list)


class DemoMessageLaunch(LTIAdvantageMessageLaunchAbstract):  # type: ignore[misc]
    """An id_token shaped like Moodle 4.x's, posted by a form the CSP allows."""

    def __init__(self, request: FlaskRequest, platform_config: DemoPlatform) -> None:
        super().__init__(request, platform_config)
        self.set_id_token_expiration(ID_TOKEN_LIFETIME)
        self.platform = platform_config

    def get_launch_message(self, include_extra_claims: bool = True) -> dict[str, Any]:
        """Build the claims; Moodle sends no ``azp``, so neither do we."""
        message: dict[str, Any] = super().get_launch_message(include_extra_claims)
        message.pop("azp", None)
        return message

    def validate_preflight_response(self, preflight_response: dict[str, Any]) -> None:
        """Check the authorization request precisely, then as lti1p3platform does."""
        check_auth_request(preflight_response, self.platform.tool)
        super().validate_preflight_response(preflight_response)

    def set_member(self, member: Member) -> None:
        """Set the user claims and roles."""
        roles = [ROLE_URIS[member.role], *member.extra_roles]
        self.set_user_data(
            member.sub,
            roles,
            full_name=f"{member.given_name} {member.family_name}",
            email_address=member.email,
        )
        self.set_extra_claims(
            {
                "given_name": member.given_name,
                "family_name": member.family_name,
                CLAIM + "ext": {"lms": "moodle-2", "user_username": member.username},
                CLAIM + "lis": {"person_sourcedid": "", "course_section_sourcedid": ""},
            }
        )

    def set_course(self, course_id: int, label: str, title: str) -> None:
        """Set the context claim, typed like Moodle's."""
        self.set_launch_context_claim(
            str(course_id),
            context_types=["CourseSection"],
            context_title=title,
            context_label=label,
        )

    def set_presentation(self, document_target: str, return_url: str, locale: str) -> None:
        """Set ``launch_presentation`` with the locale lti1p3platform leaves out."""
        self.set_launch_presentation_claim(document_target, return_url)
        self.lti_claim_launch_presentation[CLAIM + "launch_presentation"]["locale"] = locale

    def set_services(
        self,
        *,
        lineitems_url: str,
        lineitem_url: str | None,
        memberships_url: str,
    ) -> None:
        """Set the AGS and NRPS claims with the scopes this tool is allowed, as Moodle does."""
        allowed = set(self.platform.tool.allowed_scopes)
        self.set_ags(
            lineitems_url,
            lineitem_url,
            allow_creating_lineitems=SCOPE_LINEITEM in allowed,
            results_service_enabled=SCOPE_RESULT_READONLY in allowed,
            scores_service_enabled=SCOPE_SCORE in allowed,
        )
        ags = self.extra_claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
        ags["scope"] = [scope for scope in ags["scope"] if scope in allowed]
        if SCOPE_MEMBERSHIPS in allowed:
            self.set_nrps(memberships_url)
            nrps = self.extra_claims[
                "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
            ]
            nrps["service_versions"] = ["1.0", "2.0"]

    def set_platform(self, *, guid: str, name: str, version: str) -> None:
        """Describe the LMS in ``tool_platform``."""
        self.set_extra_claims(
            {
                CLAIM + "tool_platform": {
                    "product_family_code": "jalon-demo",
                    "version": version,
                    "guid": guid,
                    "name": name,
                }
            }
        )

    def set_deep_linking(self, *, return_url: str, data: str, title: str, text: str) -> None:
        """Ask for a resource link with the settings some Moodle versions send.

        lti1p3platform hard-codes ``accept_multiple: True`` and an ``embed`` target; Moodle
        sends ``iframe``/``window`` and, in some versions, booleans as the strings "true" and
        "false": a tool must accept both.
        """
        self.set_dl(return_url, title, text, accept_types={"ltiResourceLink"}, extra_data=data)
        settings = self._deep_linking_launch_data[DL_CLAIM + "deep_linking_settings"]
        settings.update(
            accept_presentation_document_targets=["iframe", "window"],
            accept_multiple="false",
            auto_create="false",
            accept_media_types="application/vnd.ims.lti.v1.ltilink",
        )

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        """Render the self-submitting form that posts the id_token to the tool."""
        headers.allow_form_action(launch_data["launch_url"])
        return render_template(
            "demo/autopost.html",
            action=launch_data["launch_url"],
            fields={"id_token": launch_data["id_token"], "state": launch_data["state"]},
            **kwargs,
        )
