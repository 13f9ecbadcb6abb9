"""An Open edX LMS for the tests, built on lti-consumer-xblock 11.4.4's own LTI 1.3 code.

Like the demo LMS on lti1p3platform, it runs the real protocol over HTTP on 127.0.0.1, and
the code that signs and checks is the package's: ``LtiAdvantageConsumer`` writes the login
initiation URL (``prepare_preflight_url``), checks Jalon's authentication request and signs
the id_token (``generate_launch_request``), publishes the key set, answers the token
endpoint (``access_token``), checks bearer tokens (``check_token``) and Jalon's deep-linking
answer (``check_and_decode_deep_linking_token``); the package's serializers validate content
items, line items and scores (tests/openedx/gradebook.py).

What Open edX does around that code is rewritten here from the package's sources, with no
database: ``lti_xblock.get_lti_1p3_launch_data`` (what a launch carries),
``models.LtiConfiguration._get_lti_1p3_consumer`` (one consumer per component, deployment
``"1"``, issuer the LMS root URL), ``plugin/views.launch_gate_endpoint`` (the claims set at
launch, deep linking for course staff only, a placed link launched with its URL and custom
parameters) and ``deep_linking_response_endpoint``. Each component (an "LTI Consumer" block)
has its own passport (client id and platform key); Studio's Duplicate shares the passport
(``signals.duplicate_xblock_lti_configuration`` copies the configuration's passport link).
"""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
import uuid
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

import tests.openedx.lms  # noqa: F401 (Django is set up before the package is imported)

# isort: split
import jwt
from lti_consumer.api import validate_lti_1p3_launch_data
from lti_consumer.data import Lti1p3LaunchData
from lti_consumer.lti_1p3 import exceptions
from lti_consumer.lti_1p3.consumer import LtiAdvantageConsumer
from lti_consumer.lti_1p3.extensions.rest_framework.constants import (
    LTI_DL_CONTENT_TYPE_SERIALIZER_MAP,
)
from lti_consumer.utils import (
    choose_lti_1p3_redirect_uris,
    get_data_from_cache,
    get_lti_1p3_context_types_claim,
)
from rest_framework.exceptions import ValidationError

from tests.openedx.course import Component, Passport, Tool, User
from tests.openedx.gradebook import Gradebook

API = "/api/lti_consumer/v1"
COURSE_KEY = "course-v1:Ecole+CM6+2026"
DEEP_LINKING_ROLES = ("instructor", "staff")  # launch_gate_endpoint's check


class OpenEdxLms:
    """One course of an Open edX LMS, served on 127.0.0.1 once started."""

    def __init__(self, *, pii_sharing: bool = False) -> None:
        self.course_key = COURSE_KEY
        self.course_title = "Community Manager - Ecole"  # get_context_title: name - org
        # CourseAllowPIISharingInLTIFlag: without it the Share… fields do nothing.
        self.pii_sharing = pii_sharing
        self.components: dict[int, Component] = {}
        self.users: dict[int, User] = {}
        self.gradebook = Gradebook(self)
        self.id_tokens: list[str] = []
        self.deep_link_answers: list[list[dict[str, Any]]] = []
        self._ids = itertools.count(1)
        self._server: BaseWSGIServer | None = None
        self.port = 0

    # -- the course ---------------------------------------------------------------------------

    @property
    def root(self) -> str:
        """Return ``LMS_ROOT_URL``: the issuer of every launch."""
        return f"http://127.0.0.1:{self.port}"

    def add_user(self, role: str, username: str, full_name: str) -> User:
        """Enrol someone with an Open edX role."""
        user_id = len(self.users) + 1
        email = f"{username}@ecole.example"
        user = User(user_id, role, username, full_name, email)
        self.users[user_id] = user
        return user

    def add_component(self, tool: Tool, display_name: str = "Jalon", **settings: Any) -> Component:
        """Add an LTI Consumer block configured in Studio: it gets a passport of its own."""
        return self._component(tool, Passport(), display_name, **settings)

    def duplicate(self, component: Component) -> Component:
        """Studio's Duplicate: a new block, its configuration copied with the same passport."""
        copied = {
            name: getattr(component, name)
            for name in (
                "ags_mode",
                "deep_linking",
                "nrps",
                "has_score",
                "weight",
                "ask_to_send_username",
                "ask_to_send_full_name",
                "ask_to_send_email",
                "custom_parameters",
            )
        }
        return self._component(component.tool, component.passport, component.display_name, **copied)

    def _component(
        self, tool: Tool, passport: Passport, display_name: str, **settings: Any
    ) -> Component:
        config_id = next(self._ids)
        block = uuid.uuid4().hex
        usage_key = f"block-v1:Ecole+CM6+2026+type@lti_consumer+block@{block}"
        component = Component(config_id, usage_key, display_name, tool, passport, **settings)
        self.components[config_id] = component
        return component

    # -- what Studio shows the course team ------------------------------------------------------

    def keyset_url(self, component: Component) -> str:
        """Return "Keyset URL" (get_lms_lti_keyset_link)."""
        return f"{self.root}{API}/public_keysets/{component.passport.passport_id}"

    def token_url(self, component: Component) -> str:
        """Return "Access Token URL" (get_lms_lti_access_token_link)."""
        return f"{self.root}{API}/token/{component.passport.passport_id}"

    @property
    def login_url(self) -> str:
        """Return "Login URL" (get_lms_lti_launch_link): the launch gate, one for all blocks."""
        return f"{self.root}{API}/launch/"

    def service_url(self, component: Component, path: str) -> str:
        """Return a URL of the component's configuration (AGS, NRPS, deep-linking return)."""
        return f"{self.root}{API}/lti/{component.config_id}/{path}"

    # -- the package's consumer, as LtiConfiguration builds it ---------------------------------

    def consumer(self, component: Component) -> LtiAdvantageConsumer:
        """Build the component's consumer (a new one per request, as Open edX does)."""
        tool = component.tool
        consumer = LtiAdvantageConsumer(
            iss=self.root,
            lti_oidc_url=tool.oidc_url,
            lti_launch_url=tool.launch_url,
            client_id=component.passport.client_id,
            deployment_id="1",
            rsa_key=component.passport.private_pem,
            rsa_key_id=component.passport.kid,
            redirect_uris=choose_lti_1p3_redirect_uris(
                tool.redirect_uris, tool.launch_url, tool.deep_linking_url
            ),
            tool_key="",
            tool_keyset_url=tool.keyset_url,
        )
        if component.ags_mode != "disabled":
            line_item = self.gradebook.declared_line_item(component)
            consumer.enable_ags(
                lineitems_url=self.service_url(component, "lti-ags"),
                lineitem_url=self.service_url(component, f"lti-ags/{line_item.id}")
                if line_item is not None
                else None,
                allow_programmatic_grade_interaction=component.ags_mode == "programmatic",
            )
        if component.deep_linking:
            consumer.enable_deep_linking(
                tool.deep_linking_url, self.service_url(component, "lti-dl/response")
            )
        if component.nrps:
            consumer.enable_nrps(self.service_url(component, "memberships"))
        return consumer

    # -- launches -------------------------------------------------------------------------------

    def launch_data(self, component: Component, user: User) -> Lti1p3LaunchData:
        """Return what the block's student view launches with (get_lti_1p3_launch_data)."""
        share = self.pii_sharing
        return Lti1p3LaunchData(
            user_id=user.user_id,
            user_role=user.role,
            config_id=component.config_uuid,
            resource_link_id=component.usage_key,
            external_user_id=user.external_id,
            preferred_username=user.username if share and component.ask_to_send_username else None,
            name=user.full_name if share and component.ask_to_send_full_name else None,
            email=user.email if share and component.ask_to_send_email else None,
            launch_presentation_document_target="iframe",
            context_id=self.course_key,
            context_type=["course_offering"],
            context_title=self.course_title,
            context_label=self.course_key,
            custom_parameters=dict(
                tuple(part.strip() for part in parameter.split("=", 1))
                for parameter in component.custom_parameters
            ),
        )

    def start_url(self, component: Component, user: User, *, deep_link: bool = False) -> str:
        """Return the URL the block's iframe opens: Jalon's login with Open edX's parameters.

        ``deep_link``: the Studio "deep linking" launch. Otherwise a block holding one placed
        ``ltiResourceLink`` launches it (get_lti_1p3_content_url).
        """
        data = self.launch_data(component, user)
        if deep_link:
            data.message_type = "LtiDeepLinkingRequest"
        else:
            links = [i for i in component.content_items if i["type"] == "ltiResourceLink"]
            if len(component.content_items) == 1 and links:
                data.deep_linking_content_item_id = links[0]["id"]
        return str(self.consumer(component).prepare_preflight_url(data))

    # -- HTTP -----------------------------------------------------------------------------------

    def start(self) -> OpenEdxLms:
        """Serve the LMS on a free loopback port, in a background thread."""
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self._route(request)(environ, start_response)

    def _route(self, request: Request) -> Response:
        path = request.path
        if path == f"{API}/launch/":
            return self._launch_gate(request)
        if match := re.fullmatch(rf"{API}/public_keysets/([-0-9a-f]+)", path):
            component = self._by_passport(match.group(1))
            return _json(self.consumer(component).get_public_keyset())
        if match := re.fullmatch(rf"{API}/token/([-0-9a-f]+)", path):
            return self._token(self._by_passport(match.group(1)), request)
        if match := re.fullmatch(rf"{API}/lti/(\d+)/(.+)", path):
            component = self.components[int(match.group(1))]
            if match.group(2) == "lti-dl/response" and request.method == "POST":
                return self._deep_link_response(component, request)
            return self.gradebook.answer(component, match.group(2), request)
        return Response("Not found", 404)

    def _by_passport(self, passport_id: str) -> Component:
        return next(c for c in self.components.values() if c.passport.passport_id == passport_id)

    def _token(self, component: Component, request: Request) -> Response:
        """access_token_endpoint: the package checks the tool's signed assertion."""
        form = dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        try:
            return _json(self.consumer(component).access_token(form))
        except exceptions.MissingRequiredClaim:
            return _json({"error": "invalid_request"}, 400)
        except (exceptions.MalformedJwtToken, exceptions.TokenSignatureExpired, jwt.DecodeError):
            return _json({"error": "invalid_grant"}, 400)
        except exceptions.UnsupportedGrantType:
            return _json({"error": "unsupported_grant_type"}, 400)
        except Exception:  # the endpoint maps every other failure to this
            return _json({"error": "invalid_client"}, 400)

    def _launch_gate(self, request: Request) -> Response:
        """launch_gate_endpoint: answer Jalon's authentication request with the launch form."""
        params = request.args if request.method == "GET" else request.form
        if not params.get("lti_message_hint") or not params.get("login_hint"):
            return Response("The lti_message_hint or login_hint is missing.", 400)
        data = get_data_from_cache(params["lti_message_hint"])
        if data is None:
            return Response("Unable to find record of an OIDC launch.", 400)
        is_valid, messages = validate_lti_1p3_launch_data(data)
        if not is_valid:
            return Response(" ".join(messages), 400)
        component = next(c for c in self.components.values() if c.config_uuid == data.config_id)
        consumer = self.consumer(component)
        consumer.set_user_data(
            user_id=data.external_user_id or data.user_id,
            role=data.user_role,
            full_name=data.name,
            email_address=data.email,
            preferred_username=data.preferred_username,
        )
        consumer.set_resource_link_claim(data.resource_link_id)
        consumer.set_launch_presentation_claim(
            document_target=data.launch_presentation_document_target,
            return_url=data.launch_presentation_return_url,
        )
        consumer.set_context_claim(
            data.context_id,
            get_lti_1p3_context_types_claim(data.context_type),
            data.context_title,
            data.context_label,
        )
        preflight = params.to_dict()
        if data.custom_parameters:
            consumer.set_custom_parameters(data.custom_parameters)
        if data.message_type == "LtiDeepLinkingRequest" and consumer.dl:
            if data.user_role not in DEEP_LINKING_ROLES:
                return Response("Deep Linking can only be performed by instructors and staff.", 403)
        elif data.deep_linking_content_item_id and consumer.dl:
            item = next(
                i for i in component.content_items if i["id"] == data.deep_linking_content_item_id
            )
            attributes = item["attributes"]
            consumer.set_dl_content_launch_parameters(
                url=attributes.get("url"), custom=attributes.get("custom")
            )
        try:
            launch = consumer.generate_launch_request(preflight_response=preflight)
        except exceptions.Lti1p3Exception as exc:
            return Response(f"Error preparing LTI 1.3 launch: {type(exc).__name__}", 400)
        self.id_tokens.append(launch["id_token"])
        return _launch_form(preflight["redirect_uri"], launch)

    def _deep_link_response(self, component: Component, request: Request) -> Response:
        """deep_linking_response_endpoint: the package decodes and checks Jalon's answer.

        Open edX also requires the browser's LMS session to have Studio write access to the
        course; this LMS has no sessions, so the staff check is the launch gate's only.
        """
        consumer = self.consumer(component)
        try:
            items = consumer.check_and_decode_deep_linking_token(request.form.get("JWT"))
        except exceptions.LtiDeepLinkingContentTypeNotSupported:
            return Response("The selected content type is not supported by Open edX.", 400)
        except (exceptions.Lti1p3Exception, jwt.exceptions.DecodeError):
            return Response("You don't have access to save LTI Content Items.", 403)
        stored = []
        for item in items:
            serializer = LTI_DL_CONTENT_TYPE_SERIALIZER_MAP[item.get("type")](data=item)
            try:
                serializer.is_valid(raise_exception=True)
            except ValidationError:
                # Raised outside a DRF view: Django answers with a server error.
                return Response("Server Error (500)", 500)
            attributes = serializer.validated_data
            stored.append({"id": next(self._ids), "type": item["type"], "attributes": attributes})
        self.deep_link_answers.append(items)
        component.content_items = stored  # older selections are erased
        return Response("The LTI Deep Linking content was saved.", 200)


def _launch_form(action: str, fields: dict[str, str]) -> Response:
    """Render html/lti_1p3_launch.html: a hidden form the page's script submits."""
    inputs = "".join(
        f'<input name="{html.escape(name)}" value="{html.escape(value)}" />'
        for name, value in fields.items()
    )
    page = (
        '<!DOCTYPE html><html><head><meta charset="UTF-8"><title>LTI</title></head><body>'
        f'<form id="lti-launch" action="{html.escape(action)}" method="post" style="display: none"'
        ' enctype="application/x-www-form-urlencoded">'
        f'{inputs}<input type="submit" value="Press to Launch" /></form></body></html>'
    )
    return Response(page, 200, content_type="text/html; charset=utf-8")


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document), status, content_type="application/json")
