"""OAuth2 access tokens for the LMS services (LTI Security §4.1, RFC 7523 client assertions).

A token is asked for with a JWT signed by Jalon's tool key (``iss`` = ``sub`` = client id,
``aud`` = the platform's ``auth_audience`` or its token URL, a unique ``jti``), and kept per
platform and scope set until shortly before it expires, so a page that publishes a class's
grades makes one token request, not one per learner.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_tool.services.errors import LmsServiceError, oauth_code
from xapi.outbound import OutboundError, OutboundHttp

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 60
# A token is given up this long before the platform says it expires (clock skew, slow calls).
EXPIRY_MARGIN = 60.0
DEFAULT_EXPIRES_IN = 3600
USER_AGENT = "Jalon LTI tool"


@dataclass(frozen=True)
class ToolSigner:
    """Jalon's current tool key, loaded, with its ``kid``."""

    kid: str
    private_key: rsa.RSAPrivateKey

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign claims RS256, naming the key."""
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})


@dataclass(frozen=True)
class PlatformAccess:
    """Where and as whom Jalon asks a platform for tokens."""

    platform_id: int
    issuer: str
    client_id: str
    token_url: str
    audience: str | None = None


CacheKey = tuple[str, str, frozenset[str]]


class AccessTokens:
    """Access tokens per (token URL, client id, scope set), reused until shortly before expiry."""

    def __init__(
        self,
        http: OutboundHttp,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = EXPIRY_MARGIN,
    ) -> None:
        self.http = http
        self.clock = clock
        self.margin = margin
        self._tokens: dict[CacheKey, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.requests = 0  # token requests made (a figure for the admin page and tests)

    @staticmethod
    def _key(access: PlatformAccess, scopes: Iterable[str]) -> CacheKey:
        return access.token_url, access.client_id, frozenset(scopes)

    def token(self, access: PlatformAccess, scopes: Iterable[str], signer: ToolSigner) -> str:
        """Return a live token for exactly these scopes, asking the platform when needed."""
        key = self._key(access, scopes)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached[1] > self.clock():
                return cached[0]
        token, expires_in = self._request(access, sorted(key[2]), signer)
        lifetime = max(expires_in - self.margin, expires_in / 2)
        with self._lock:
            self._tokens[key] = (token, self.clock() + lifetime)
        return token

    def forget(self, access: PlatformAccess, scopes: Iterable[str]) -> None:
        """Drop a token the platform refused (revoked, or expired early)."""
        with self._lock:
            self._tokens.pop(self._key(access, scopes), None)

    def _request(
        self, access: PlatformAccess, scopes: list[str], signer: ToolSigner
    ) -> tuple[str, float]:
        now = int(time.time())
        assertion = signer.sign(
            {
                "iss": access.client_id,
                "sub": access.client_id,
                "aud": access.audience or access.token_url,
                "iat": now,
                "exp": now + ASSERTION_LIFETIME,
                "jti": str(uuid.uuid4()),
            }
        )
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
            "scope": " ".join(scopes),
        }
        self.requests += 1
        try:
            # The token URL is the platform's registered one: its address is checked, and
            # it needs no origin besides its own.
            response = self.http.request(
                "POST",
                access.token_url,
                data=form,
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            )
        except OutboundError as exc:
            raise LmsServiceError.outbound(exc) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            error = oauth_code(body.get("error")) if isinstance(body, dict) else None
            code = "LMS_SCOPE_REFUSED" if error == "invalid_scope" else "LMS_TOKEN_REFUSED"
            if response.status_code >= 500:
                code = "LMS_UNREACHABLE"
            raise LmsServiceError(code, status=response.status_code, detail=error)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise LmsServiceError("LMS_BAD_ANSWER", status=200, detail="no access_token")
        granted = body.get("scope")
        if isinstance(granted, str) and not set(scopes) <= set(granted.split()):
            # A platform may grant less than asked (RFC 6749 §3.3): the call would fail later.
            missing = " ".join(sorted(set(scopes) - set(granted.split())))
            raise LmsServiceError("LMS_SCOPE_REFUSED", status=200, detail=missing)
        expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
        if not isinstance(expires_in, int | float) or isinstance(expires_in, bool):
            expires_in = DEFAULT_EXPIRES_IN
        return body["access_token"], float(expires_in)
