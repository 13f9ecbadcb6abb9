"""What a call to the LMS's services needs to know, from a launch or a stored resource link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.lti import keys
from lti_tool.lti.records import AGS_CLAIM, NRPS_CLAIM
from lti_tool.models import LtiResourceLink, Platform
from lti_tool.services.tokens import PlatformAccess, ToolSigner

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass(frozen=True)
class LmsContext:
    """One placement's services: the platform, Jalon's key, the endpoints, the granted scopes.

    ``scopes`` are the AGS scopes the launch granted (the ``scope`` of its AGS claim); Jalon
    never asks the token endpoint for anything else. NRPS has no scope list in its claim:
    its presence grants the membership scope.

    ``origins`` are the platform's own (``Platform.origins()``): every service URL — from
    the claims, a ``next`` page, a line item id the platform returned — must be on one of
    them when it is called.
    """

    access: PlatformAccess
    signer: ToolSigner
    origins: frozenset[str]
    resource_link_id: str | None = None
    lineitem_url: str | None = None
    lineitems_url: str | None = None
    scopes: frozenset[str] = frozenset()
    memberships_url: str | None = None

    @property
    def granted(self) -> frozenset[str]:
        """Return every scope Jalon may ask for here."""
        if self.memberships_url:
            return self.scopes | {SCOPE_MEMBERSHIPS}
        return self.scopes


def _signer(session: Session) -> ToolSigner:
    key = keys.current(session)
    return ToolSigner(kid=key.kid, private_key=keys.private_key(key))


def _access(platform: Platform) -> PlatformAccess:
    return PlatformAccess(
        platform_id=platform.id,
        issuer=platform.issuer,
        client_id=platform.client_id,
        token_url=platform.auth_token_url,
        audience=platform.auth_audience or None,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def context_for_launch(session: Session, platform: Platform, claims: dict[str, Any]) -> LmsContext:
    """Return the services a launch's claims offer (AGS and NRPS claims, resource link id)."""
    ags = claims.get(AGS_CLAIM)
    ags = ags if isinstance(ags, dict) else {}
    nrps = claims.get(NRPS_CLAIM)
    nrps = nrps if isinstance(nrps, dict) else {}
    link = claims.get("https://purl.imsglobal.org/spec/lti/claim/resource_link")
    scopes = ags.get("scope")
    return LmsContext(
        access=_access(platform),
        signer=_signer(session),
        origins=platform.origins(),
        resource_link_id=_text(link.get("id")) if isinstance(link, dict) else None,
        lineitem_url=_text(ags.get("lineitem")),
        lineitems_url=_text(ags.get("lineitems")),
        scopes=frozenset(s for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else frozenset(),
        memberships_url=_text(nrps.get("context_memberships_url")),
    )


def context_for_resource_link(session: Session, link: LtiResourceLink) -> LmsContext:
    """Return the services recorded at the last launch of a placement (for later jobs)."""
    platform = session.get(Platform, link.platform_id)
    if platform is None:  # pragma: no cover (a foreign key)
        raise LookupError(f"platform {link.platform_id} is gone")
    return LmsContext(
        access=_access(platform),
        signer=_signer(session),
        origins=platform.origins(),
        resource_link_id=link.resource_link_id,
        lineitem_url=link.lineitem_url,
        lineitems_url=link.lineitems_url,
        scopes=frozenset(link.ags_scopes or ()),
        memberships_url=link.memberships_url,
    )
