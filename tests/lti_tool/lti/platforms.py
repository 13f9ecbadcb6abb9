"""Test platforms shaped like Moodle 4.x and Canvas, and a browser that launches Jalon.

Each platform holds its own RSA key, publishes its key set on a real HTTP server bound
to 127.0.0.1, answers Jalon's OIDC redirect by signing an id_token with the claims its
LMS really sends (see shared/PLATFORMS.md), and posts it back like the LMS's auto-submit
form does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from lti_tool.lti.keys import public_jwk
from lti_tool.models import Deployment, Platform, PlatformStatus

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
TOOL = "https://jalon.test"
LAUNCH_URL = f"{TOOL}/lti/launch"
FRAMEWORK = "community-manager-n6"


class JwksServer:
    """A real HTTP server on 127.0.0.1 serving key sets; counts the fetches of each."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.hits: Counter[str] = Counter()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ["PATH_INFO"]
        self.hits[path] += 1
        document = self.documents.get(path)
        if document is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such key set"]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(document).encode()]

    def url(self, path: str) -> str:
        """Return the absolute URL of a path."""
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def new_key() -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    """Return an RSA key and its public JWK."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, public_jwk(key)


@dataclass
class TestPlatform:
    """One registration of an LMS: its issuer, client id, deployment and signing key."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    kind: str  # "moodle" or "canvas"
    issuer: str
    client_id: str
    deployment_id: str
    server: JwksServer
    name: str
    key: rsa.RSAPrivateKey = field(init=False)
    jwk: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.key, self.jwk = new_key()
        self.publish()

    @property
    def jwks_path(self) -> str:
        """Return the path of this platform's key set on the server."""
        return f"/{self.name}/jwks"

    @property
    def jwks_url(self) -> str:
        """Return the key set URL."""
        return self.server.url(self.jwks_path)

    @property
    def auth_login_url(self) -> str:
        """Return the OIDC authorization endpoint (never called: the test plays it)."""
        if self.kind == "canvas":
            return "https://sso.canvaslms.com/api/lti/authorize_redirect"
        return f"{self.issuer}/mod/lti/auth.php"

    def publish(self, *extra: dict[str, Any]) -> None:
        """Publish the current key (and any extra JWKs) at the key set URL."""
        self.server.documents[self.jwks_path] = {"keys": [self.jwk, *extra]}

    def rotate(self) -> None:
        """Sign with a new key from now on; the key set lists only the new key."""
        self.key, self.jwk = new_key()
        self.publish()

    def register(self, session: Session, *deployments: str) -> Platform:
        """Store this registration in Jalon's database."""
        platform = Platform(
            issuer=self.issuer,
            client_id=self.client_id,
            name=self.name,
            auth_login_url=self.auth_login_url,
            auth_token_url=f"{self.issuer}/mod/lti/token.php"
            if self.kind == "moodle"
            else "https://sso.canvaslms.com/login/oauth2/token",
            key_set_url=self.jwks_url,
            product_family_code=self.kind,
            # As an operator's `jalon platform add` stores it: approved.
            status=PlatformStatus.ACTIVE,
        )
        platform.deployments = [
            Deployment(deployment_id=d) for d in (deployments or (self.deployment_id,))
        ]
        session.add(platform)
        session.flush()
        return platform

    # The messages -----------------------------------------------------------------

    def login_params(self, **overrides: str | None) -> dict[str, str]:
        """Return the third-party initiated login request the LMS sends."""
        params: dict[str, str | None] = {
            "iss": self.issuer,
            "login_hint": "42" if self.kind == "moodle" else "535fa085f6854df38e7d",
            "target_link_uri": LAUNCH_URL,
            "lti_message_hint": '{"cmid":3}' if self.kind == "moodle" else "eyJ0eXAi.hint",
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        if self.kind == "canvas":
            params["lti_storage_target"] = "post_message_forwarding"
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def claims(self, nonce: str, role: str = "learner", **overrides: Any) -> dict[str, Any]:
        """Return the id_token claims this LMS sends for a resource link launch."""
        claims = self._moodle(nonce, role) if self.kind == "moodle" else self._canvas(nonce, role)
        claims.update(overrides)
        return claims

    def _moodle(self, nonce: str, role: str) -> dict[str, Any]:
        now = int(time.time())
        site = self.issuer
        roles = {
            "learner": [LIS + "membership#Learner"],
            "instructor": [LIS + "membership#Instructor"],
            "admin": [
                LIS + "institution/person#Administrator",
                LIS + "membership#Instructor",
                LIS + "system/person#Administrator",
            ],
        }[role]
        sub = {"learner": "42", "instructor": "7", "admin": "2"}[role]
        names = {"learner": ("Léa", "Martin"), "instructor": ("Paul", "Durand")}
        given, family = names.get(role, ("Admin", "User"))
        return {
            "iss": site,
            "aud": self.client_id,
            "sub": sub,
            "exp": now + 60,
            "iat": now,
            "nonce": nonce,
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": LAUNCH_URL,
            CLAIM + "lis": {
                "person_sourcedid": "",
                "course_section_sourcedid": "CM6-2026",
            },
            CLAIM + "roles": roles,
            CLAIM + "context": {
                "id": "7",
                "label": "CM6",
                "title": "Community Manager — promotion 2026",
                "type": ["CourseSection"],
            },
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "resource_link": {"title": "Épreuve 3", "description": "", "id": "3"},
            CLAIM + "tool_platform": {
                "product_family_code": "moodle",
                "version": "2024042200",
                "guid": "moodle.example.edu",
                "name": "Moodle de l’école",
            },
            CLAIM + "version": "1.3.0",
            "given_name": given,
            "family_name": family,
            "name": f"{given} {family}",
            "email": f"{given.lower()}@example.edu",
            CLAIM + "ext": {"user_username": f"{given.lower()}", "lms": "moodle-2"},
            CLAIM + "launch_presentation": {
                "locale": "fr",
                "document_target": "iframe",
                "return_url": f"{site}/mod/lti/return.php?course=7&launch_container=3",
            },
            CLAIM + "custom": {"framework": FRAMEWORK, "epreuve": "E3"},
            AGS: {
                "scope": [
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                ],
                "lineitems": f"{site}/mod/lti/services.php/7/lineitems?type_id=1",
            },
            NRPS: {
                "context_memberships_url": (
                    f"{site}/mod/lti/services.php/CourseSection/7/bindings/1/memberships"
                ),
                "service_versions": ["1.0", "2.0"],
            },
        }

    def _canvas(self, nonce: str, role: str) -> dict[str, Any]:
        now = int(time.time())
        roles = {
            "learner": [
                LIS + "institution/person#Student",
                LIS + "membership#Learner",
                LIS + "system/person#User",
            ],
            "instructor": [
                LIS + "institution/person#Instructor",
                LIS + "membership#Instructor",
                LIS + "system/person#User",
            ],
            "admin": [
                LIS + "institution/person#Administrator",
                LIS + "system/person#SysAdmin",
                LIS + "system/person#User",
            ],
        }[role]
        sub = {
            "learner": "535fa085-f685-4df3-8e7d-7a4f1d4a1e2c",
            "instructor": "0b7c1b5e-8a57-4d7e-9d3b-3a2c9f1e6d10",
            "admin": "c1d2e3f4-0000-4000-8000-000000000001",
        }[role]
        given, family = {"learner": ("Sam", "Leroy"), "instructor": ("Ana", "Costa")}.get(
            role, ("Root", "Admin")
        )
        course = "https://canvas.example.edu/api/lti/courses/101"
        return {
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "resource_link": {
                "id": "a3a8a35a-2dde-4a6e-8c1f-cc19e1bcd001",
                "description": None,
                "title": "Épreuve 3 — projet",
                "validation_context": None,
                "errors": {"errors": {}},
            },
            AGS: {
                "scope": [
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                ],
                "lineitems": f"{course}/line_items",
                "lineitem": f"{course}/line_items/55",
                "validation_context": None,
                "errors": {"errors": {}},
            },
            "aud": self.client_id,
            "azp": self.client_id,
            CLAIM + "deployment_id": self.deployment_id,
            "exp": now + 3600,
            "iat": now,
            "iss": self.issuer,
            "nonce": nonce,
            "sub": sub,
            CLAIM + "target_link_uri": LAUNCH_URL,
            "picture": "https://canvas.instructure.com/images/messages/avatar-50.png",
            "email": f"{given.lower()}@example.edu",
            "name": f"{given} {family}",
            "given_name": given,
            "family_name": family,
            CLAIM + "lti11_legacy_user_id": "8c4ad3a3b1c2e9f7e6d5c4b3a2f1e0d9c8b7a6f5",
            CLAIM + "lti1p1": {
                "user_id": "8c4ad3a3b1c2e9f7e6d5c4b3a2f1e0d9c8b7a6f5",
                "validation_context": None,
                "errors": {"errors": {}},
            },
            CLAIM + "context": {
                "id": "4dde05e8ca1973bcca9bffc13e1548820eee93a3",
                "label": "CM6-A",
                "title": "Community Manager (Canvas)",
                "type": [LIS + "course#CourseOffering"],
                "validation_context": None,
                "errors": {"errors": {}},
            },
            CLAIM + "tool_platform": {
                "guid": "rQKc0SnmEqJPY0uvIYVVbr1C0sq9F5lQ5Bbw2XsD:canvas-lms",
                "name": "École",
                "version": "cloud",
                "product_family_code": "canvas",
                "validation_context": None,
                "errors": {"errors": {}},
            },
            CLAIM + "launch_presentation": {
                "document_target": "iframe",
                "return_url": "https://canvas.example.edu/courses/101/external_content/success/external_tool_redirect",
                "locale": "en",
                "height": 400,
                "width": 800,
            },
            "locale": "en",
            CLAIM + "roles": roles,
            CLAIM + "custom": {
                "canvas_user_id": "12",
                "canvas_course_id": "101",
                "framework": FRAMEWORK,
                "epreuve": "E1",
                "competencies": "C1.1, C1.2",
            },
            NRPS: {
                "context_memberships_url": f"{course}/names_and_roles",
                "service_versions": ["2.0"],
            },
            "https://www.instructure.com/placement": "link_selection",
            "errors": {"errors": {}},
        }

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: Any = None,
        kid: str | None = None,
        algorithm: str = "RS256",
    ) -> str:
        """Sign claims as this platform does (RS256 with its current key, ``kid`` set)."""
        headers = {"kid": kid or self.jwk["kid"]}
        return jwt.encode(claims, key or self.key, algorithm=algorithm, headers=headers)


@dataclass
class Login:
    """What Jalon's login step sent the browser to the platform with."""

    response: TestResponse
    params: dict[str, str]

    @property
    def state(self) -> str:
        """Return the state."""
        return self.params["state"]

    @property
    def nonce(self) -> str:
        """Return the nonce."""
        return self.params["nonce"]

    @property
    def cookie(self) -> tuple[str, str]:
        """Return the name and value of the cookie that binds the state to the browser."""
        header = self.response.headers["Set-Cookie"]
        name, _, rest = header.partition("=")
        return name, rest.split(";", 1)[0]


class Browser:
    """A browser (its own cookies) talking to Jalon over HTTPS, as an LMS iframe would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, platform: TestPlatform, method: str = "POST", **overrides: str | None) -> Login:
        """Start a launch as the LMS does; return where Jalon sent the browser."""
        params = platform.login_params(**overrides)
        if method == "GET":
            response = self.client.get("/lti/login", query_string=params, base_url=TOOL)
        else:
            response = self.client.post("/lti/login", data=params, base_url=TOOL)
        if response.status_code == 302:
            location = response.headers["Location"]
        elif response.status_code == 200 and "lti-storage-data" in response.get_data(as_text=True):
            location = _storage_data(response)["next"]
        else:
            return Login(response, {})
        return Login(response, dict(parse_qsl(urlsplit(location).query)))

    def post_token(self, token: str, state: str, **headers: str) -> TestResponse:
        """Post the id_token back, as the platform's auto-submitting form does."""
        return self.client.post(
            "/lti/launch", data={"id_token": token, "state": state}, base_url=TOOL, headers=headers
        )

    def launch(
        self,
        platform: TestPlatform,
        role: str = "learner",
        *,
        change: Callable[[dict[str, Any]], None] | None = None,
        **sign: Any,
    ) -> TestResponse:
        """Run login → platform → launch; ``change`` edits the claims before signing."""
        login = self.login(platform)
        assert login.response.status_code in {200, 302}, login.response.get_data(as_text=True)
        claims = platform.claims(login.nonce, role)
        if change is not None:
            change(claims)
        return self.post_token(platform.sign(claims, **sign), login.state)

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        """GET a page of Jalon."""
        return self.client.get(url, base_url=TOOL, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        """POST to Jalon."""
        return self.client.post(url, base_url=TOOL, **kwargs)


def _storage_data(response: TestResponse) -> dict[str, Any]:
    page = response.get_data(as_text=True)
    start = page.index('id="lti-storage-data">') + len('id="lti-storage-data">')
    return dict(json.loads(page[start : page.index("</script>", start)]))


def storage_data(response: TestResponse) -> dict[str, Any]:
    """Return the data a platform storage page hands to its script."""
    return _storage_data(response)


def landing_token(response: TestResponse) -> str:
    """Return the session token of a successful launch's redirect."""
    assert response.status_code == 303, response.get_data(as_text=True)
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))["lt"]


def unique() -> str:
    """Return a short unique suffix."""
    return uuid.uuid4().hex[:8]


@contextmanager
def jwks_server() -> Iterator[JwksServer]:
    """Run a key set server for the duration of a block."""
    server = JwksServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
