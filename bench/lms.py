"""The platform side of the benchmarks: a Moodle-shaped LMS that signs launches.

:class:`PlatformSigner` holds one RSA key and signs id_tokens as Moodle does (the launch a
learner or an instructor makes from an activity); :class:`LmsServer` serves, on 127.0.0.1,
the platform's key set, its token endpoint and one gradebook column (the Moodle-shaped AGS
gradebook of the grade delivery tests, which counts every score it stores). Signing is the
platform's work: a benchmark does it outside the timed tool side.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from lti_tool.lti.keys import public_jwk
from lti_tool.models import Deployment, Platform, PlatformStatus

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
ISSUER = "https://moodle.bench.example"
CLIENT_ID = "bench-client"
JWKS_URL = "https://moodle.bench.example/mod/lti/certs.php"


class PlatformSigner:
    """A Moodle-shaped platform: one RSA key, id_tokens signed with it."""

    def __init__(
        self,
        issuer: str = ISSUER,
        jwks_url: str = JWKS_URL,
        key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        self.key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = public_jwk(self.key)
        self.issuer = issuer
        self.jwks_url = jwks_url
        # The gradebook column launches name (AGS), when the platform serves one.
        self.lineitem: str | None = None

    def private_pem(self) -> bytes:
        """Return the private key as PEM, for another process signing for this platform."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def from_pem(cls, pem: bytes, issuer: str, jwks_url: str) -> PlatformSigner:
        """Return the platform whose key :meth:`private_pem` wrote."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("the platform key must be an RSA key")
        return cls(issuer, jwks_url, key)

    def token(
        self,
        nonce: str,
        user: int | str,
        launch_url: str,
        *,
        instructor: bool = False,
        epreuve: str = "E3",
    ) -> str:
        """Sign the id_token of a launch of épreuve ``epreuve`` by ``user``."""
        now = int(time.time())
        role = "Instructor" if instructor else "Learner"
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": str(user),
            "exp": now + 60,
            "iat": now,
            "nonce": nonce,
            "name": f"{role} {user}",
            "email": f"{role.lower()}{user}@example.edu",
            CLAIM + "deployment_id": "1",
            CLAIM + "target_link_uri": launch_url,
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "roles": [MEMBERSHIP + role],
            CLAIM + "context": {
                "id": "7",
                "label": "CM6",
                "title": "Bench",
                "type": ["CourseSection"],
            },
            CLAIM + "resource_link": {"id": "3", "title": "Épreuve 3"},
            CLAIM + "custom": {"framework": "community-manager-n6", "epreuve": epreuve},
            CLAIM + "launch_presentation": {"locale": "fr", "document_target": "iframe"},
            CLAIM + "tool_platform": {"product_family_code": "moodle", "guid": "bench"},
            AGS_CLAIM: {
                "scope": [AGS_SCOPE + "score"],
                "lineitems": f"{self.issuer}/mod/lti/services.php/7/lineitems?type_id=1",
            },
        }
        if self.lineitem is not None:
            claims[AGS_CLAIM] = {
                "scope": [AGS_SCOPE + s for s in ("lineitem.readonly", "result.readonly", "score")],
                "lineitem": self.lineitem,
            }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.jwk["kid"]})

    def register(self, database: Database, token_url: str | None = None) -> None:
        """Store this platform, and the bundled référentiel its links name (as the demo does)."""
        with database.session() as session:
            install_bundled(session)
            platform = Platform(
                status=PlatformStatus.ACTIVE,
                issuer=self.issuer,
                client_id=CLIENT_ID,
                name="bench",
                auth_login_url=f"{self.issuer}/mod/lti/auth.php",
                auth_token_url=token_url or f"{self.issuer}/mod/lti/token.php",
                key_set_url=self.jwks_url,
            )
            platform.deployments = [Deployment(deployment_id="1")]
            session.add(platform)


def query(location: str) -> dict[str, str]:
    """Return the query of a URL (a redirect's ``Location``) as a dict."""
    return dict(parse_qsl(urlsplit(location).query))


def login_params(
    launch_url: str, user: int | str, issuer: str = ISSUER, hint: str = "3"
) -> dict[str, str]:
    """Return the form a platform posts to start the login of ``user``."""
    return {
        "iss": issuer,
        "login_hint": str(user),
        "target_link_uri": launch_url,
        "lti_message_hint": hint,
        "client_id": CLIENT_ID,
        "lti_deployment_id": "1",
    }


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answers on 127.0.0.1:{port}") from None
            time.sleep(0.1)


def quiet_server(app: Any, port: int = 0) -> Any:
    """Return a threaded WSGI server on 127.0.0.1 that logs no request line."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *_args: Any, **_kwargs: Any) -> None:
            """Log nothing: the benchmark prints its own figures."""

    return make_server("127.0.0.1", port, app, threaded=True, request_handler=Quiet)


def jwks_server(document: dict[str, Any]) -> tuple[Any, str]:
    """Serve a key set on 127.0.0.1 in a thread; return the server and the key set's URL."""
    from werkzeug.serving import make_server

    body = json.dumps(document).encode()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/jwks"


class LmsServer:
    """The platform on 127.0.0.1: its key set, its token endpoint and one gradebook column.

    The column is ``tests/lti_tool/evaluation/moodle_gradebook.py``'s, written from
    Moodle's gradebook services; ``gradebook.stored`` holds every score it took.
    """

    def __init__(self, port: int = 0) -> None:
        from tests.lti_tool.evaluation.moodle_gradebook import MoodleGradebook

        self.gradebook = MoodleGradebook()
        self._server = quiet_server(self._wsgi, port)
        self.gradebook.port = self._server.server_port
        self.signer = PlatformSigner(self.origin, f"{self.origin}/mod/lti/certs.php")
        self.signer.lineitem = self.gradebook.lineitem_url
        self._keys = json.dumps({"keys": [self.signer.jwk]}).encode()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> LmsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def scores_by_user(self) -> dict[str, int]:
        """Count the scores the column stored, by learner."""
        counts: dict[str, int] = {}
        for score in list(self.gradebook.stored):
            user = str(score["userId"])
            counts[user] = counts.get(user, 0) + 1
        return counts

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/mod/lti/certs.php":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [self._keys]
        return self.gradebook._wsgi(environ, start_response)
