"""What the demo platform and the tool agree on: claims, scopes, roles, URLs, refusals.

:class:`DemoTool` is the tool's registration as the LMS stores it; :class:`DemoUrls` the
platform's own endpoints, built on Jalon's stable base URL (never on the request's host, so
the issuer does not change with the way the server is reached).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_SCOPES = (
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCOPE_MEMBERSHIPS,
)
ROLE_URIS = {
    "Instructor": "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "Learner": "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
}
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Clocks of the LMS and the tool differ by a few seconds in real deployments.
LEEWAY = 60
ID_TOKEN_LIFETIME = 60  # Moodle's: exp = iat + 60 s.


@dataclass(frozen=True)
class DemoTool:
    """What the demo LMS knows of the tool it launches: its registration."""

    login_url: str
    launch_url: str
    deep_link_url: str
    jwks_url: str
    client_id: str = "jalon-demo"
    deployment_id: str = "1"
    name: str = "Jalon"
    redirect_uris: tuple[str, ...] = ()
    allowed_scopes: tuple[str, ...] = ALL_SCOPES

    @classmethod
    def jalon(cls, base_url: str, **overrides: Any) -> DemoTool:
        """Describe the Jalon at ``base_url``: its fixed LTI endpoints."""
        base = base_url.rstrip("/")
        launch = f"{base}/lti/launch"
        fields: dict[str, Any] = {
            "login_url": f"{base}/lti/login",
            "launch_url": launch,
            "deep_link_url": launch,
            "jwks_url": f"{base}/lti/jwks",
        }
        fields.update(overrides)
        return cls(**fields)

    @property
    def registered_redirect_uris(self) -> tuple[str, ...]:
        """Return the only URIs an id_token may be posted to."""
        return self.redirect_uris or tuple(dict.fromkeys((self.launch_url, self.deep_link_url)))


@dataclass(frozen=True)
class DemoUrls:
    """The demo platform's URLs, built on Jalon's stable base URL, never on the request."""

    base_url: str

    @property
    def issuer(self) -> str:
        """Return the platform's issuer (``iss``)."""
        return f"{self.base_url}/demo"

    @property
    def auth(self) -> str:
        """Return the OIDC authorization endpoint."""
        return f"{self.issuer}/auth"

    @property
    def token(self) -> str:
        """Return the OAuth2 token endpoint."""
        return f"{self.issuer}/token"

    @property
    def jwks(self) -> str:
        """Return the platform's key set URL."""
        return f"{self.issuer}/jwks"

    @property
    def deep_link_return(self) -> str:
        """Return where tools post deep-linking responses."""
        return f"{self.issuer}/deep-link-return"

    def course(self, course_id: int) -> str:
        """Return the course page."""
        return f"{self.issuer}/cours/{course_id}"

    def lineitems(self, course_id: int) -> str:
        """Return the AGS line items container of a course."""
        return f"{self.issuer}/courses/{course_id}/lineitems"

    def lineitem(self, course_id: int, line_item_id: int) -> str:
        """Return one AGS line item."""
        return f"{self.lineitems(course_id)}/{line_item_id}"

    def memberships(self, course_id: int) -> str:
        """Return the NRPS membership container of a course."""
        return f"{self.issuer}/courses/{course_id}/memberships"


class AuthRequestError(Exception):
    """An OIDC authorization request the platform refuses; ``code`` is the OAuth error."""

    def __init__(self, code: str, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


class TokenRequestError(Exception):
    """A refused token request, answered as RFC 6749 §5.2 JSON."""

    def __init__(self, code: str, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


class DeepLinkError(Exception):
    """A deep-linking response the platform refuses."""
