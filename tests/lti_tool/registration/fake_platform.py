"""A Moodle- or Canvas-shaped LMS's registration endpoints, on a real HTTP server on 127.0.0.1.

It serves the OpenID configuration as each platform does (Moodle: ``mod/lti/openid-
configuration.php`` under the site URL, token unchecked; Canvas: ``/api/lti/security/
openid-configuration`` behind the registration token), accepts the client registration
only with the right bearer token and a payload the real platform would accept (the checks
of Moodle's ``registration_helper::registration_to_config`` and Canvas's
``Lti::IMS::Registration``), and answers as each does: Moodle with the deployment id,
Canvas without one.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class FakePlatform:
    """One LMS; ``kind`` is "moodle" or "canvas"."""

    def __init__(self, kind: str, token: str = "registration-token-0123") -> None:  # noqa: S107
        self.kind = kind
        self.token = token
        self.client_id = "HkJ3xUq2sLmN0p" if kind == "moodle" else "10000000000042"
        self.deployment_id = "7"
        self.registrations: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        # Tests change these to make the platform misbehave.
        self.configuration_changes: dict[str, Any] = {}
        self.removed: set[str] = set()
        self.configuration_answer: Answer | None = None
        self.registration_answer: Answer | None = None
        self.pages: dict[str, str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self) -> FakePlatform:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    # --- What the platform publishes ---------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"{self.base}/moodle" if self.kind == "moodle" else self.base

    @property
    def configuration_url(self) -> str:
        if self.kind == "moodle":
            return f"{self.issuer}/mod/lti/openid-configuration.php"
        # Canvas repeats the token in the URL it hands the tool.
        return f"{self.base}/api/lti/security/openid-configuration?registration_token={self.token}"

    @property
    def endpoints(self) -> dict[str, str]:
        if self.kind == "moodle":
            site = self.issuer
            return {
                "authorization_endpoint": f"{site}/mod/lti/auth.php",
                "token_endpoint": f"{site}/mod/lti/token.php",
                "jwks_uri": f"{site}/mod/lti/certs.php",
                "registration_endpoint": f"{site}/mod/lti/openid-registration.php",
            }
        return {
            "authorization_endpoint": f"{self.base}/api/lti/authorize_redirect",
            "token_endpoint": f"{self.base}/login/oauth2/token",
            "jwks_uri": f"{self.base}/api/lti/security/jwks",
            "registration_endpoint": f"{self.base}/api/lti/registrations",
        }

    def configuration(self) -> dict[str, Any]:
        if self.kind == "moodle":
            document: dict[str, Any] = {
                "issuer": self.issuer,
                **self.endpoints,
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "scopes_supported": [
                    f"{AGS}lineitem.readonly",
                    f"{AGS}lineitem",
                    f"{AGS}result.readonly",
                    f"{AGS}score",
                    NRPS,
                    "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting",
                    "openid",
                ],
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
                PLATFORM_CONFIGURATION: {
                    "product_family_code": "moodle",
                    "version": "4.3.2 (Build: 20231222)",
                    "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
                    "placements": ["AddContentMenu"],
                    "variables": ["basic-lti-launch-request", "Context.id", "ResourceLink.id"],
                },
            }
        else:
            document = {
                "issuer": self.issuer,
                **self.endpoints,
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "scopes_supported": [
                    f"{AGS}lineitem",
                    f"{AGS}lineitem.readonly",
                    f"{AGS}result.readonly",
                    f"{AGS}score",
                    NRPS,
                    "https://canvas.instructure.com/lti/public_jwk/scope/update",
                ],
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "picture", "email", "name", "locale"],
                "subject_types_supported": ["public"],
                # Canvas names a bare host here, not its token URL.
                "authorization_server": "127.0.0.1",
                PLATFORM_CONFIGURATION: {
                    "product_family_code": "canvas",
                    "version": "vCloud",
                    "messages_supported": [
                        {"type": "LtiResourceLinkRequest", "placements": ["course_navigation"]},
                        {
                            "type": "LtiDeepLinkingRequest",
                            "placements": ["assignment_selection", "link_selection"],
                        },
                    ],
                    "variables": ["ResourceLink.id", "Canvas.course.id"],
                    "https://canvas.instructure.com/lti/account_name": "Université de Test",
                    "https://canvas.instructure.com/lti/account_lti_guid": "guid:canvas-lms",
                },
            }
        document.update(self.configuration_changes)
        for name in self.removed:
            document.pop(name, None)
        return document

    # --- Requests ----------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        auth = headers.get("Authorization")
        self.requests.append((method, path, auth))
        route = urlsplit(path).path
        if method == "GET" and route in self.pages:
            return Answer(200, self.pages[route].encode(), "text/html; charset=utf-8")
        if method == "GET" and route == urlsplit(self.configuration_url).path:
            if self.configuration_answer is not None:
                return self.configuration_answer
            if self.kind == "canvas" and auth != f"Bearer {self.token}":
                return _json(401, {"errorMessage": "registration token required"})
            return _json(200, self.configuration())
        if method == "POST" and route == urlsplit(self.endpoints["registration_endpoint"]).path:
            return self._register(auth, body)
        return Answer(404, b"not found", "text/plain")

    def _register(self, auth: str | None, body: bytes) -> Answer:
        if auth != f"Bearer {self.token}":
            if self.kind == "moodle":
                return Answer(401, b"missing_registration_token", "text/plain")
            return _json(401, {"errorMessage": "JWT did not include expected contents"})
        payload = json.loads(body)
        self.registrations.append(payload)
        problem = self._payload_problem(payload)
        if problem:
            if self.kind == "moodle":
                return Answer(400, problem.encode(), "text/plain")
            return _json(422, {"errors": {"registration": [problem]}})
        if self.registration_answer is not None:
            return self.registration_answer
        tool = dict(payload[TOOL_CONFIGURATION])
        answer = {**payload, "client_id": self.client_id}
        if self.kind == "moodle":
            # config_to_registration(): the tool type id is the deployment id.
            answer["application_type"] = ["web"]
            answer[TOOL_CONFIGURATION] = {**tool, "deployment_id": self.deployment_id}
        else:
            answer[TOOL_CONFIGURATION] = {
                **tool,
                "https://canvas.instructure.com/lti/registration_config_url": (
                    f"{self.base}/api/lti/registrations/1/view"
                ),
            }
        return _json(200, answer)

    def _payload_problem(self, payload: dict[str, Any]) -> str | None:
        """Return what Moodle or Canvas would refuse in a registration, if anything."""
        required = (
            "response_types",
            "initiate_login_uri",
            "redirect_uris",
            "client_name",
            "jwks_uri",
            "token_endpoint_auth_method",
            TOOL_CONFIGURATION,
        )
        for name in required:
            if not payload.get(name):
                return f"missing required attribute {name}"
        if "id_token" not in payload["response_types"]:
            return "invalid_response_types"
        if not isinstance(payload["redirect_uris"], list):
            return "invalid_redirect_uris"
        if payload["token_endpoint_auth_method"] != "private_key_jwt":  # noqa: S105
            return "invalid_token_endpoint_auth_method"
        if payload.get("application_type", "web") != "web":
            return "invalid_application_type"
        if {"client_credentials", "implicit"} - set(payload.get("grant_types", [])):
            return "grant_types: Must include client_credentials, implicit"
        tool = payload[TOOL_CONFIGURATION]
        for name in ("domain", "target_link_uri", "messages", "claims"):
            if not tool.get(name):
                return f"missing required attribute {name}"
        return None


def _json(status: int, document: Any) -> Answer:
    return Answer(status, json.dumps(document).encode())


def _handler(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = platform.answer(self.command, self.path, self.headers, body)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = _serve  # noqa: N815 (http.server's naming)
        do_POST = _serve  # noqa: N815

        def log_message(self, *_args: object) -> None:
            pass

    return Handler
