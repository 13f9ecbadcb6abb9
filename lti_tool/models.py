"""Tables of the web app."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, created_at, utcnow


class FrameworkRecord(Base):
    """One imported version of a référentiel, kept as its file document.

    The document is the ``jalon-referentiel/1`` mapping, so the stored framework is
    exactly what a person could export, correct and import again.
    """

    __tablename__ = "frameworks"
    __table_args__ = (sa.UniqueConstraint("code", "version", name="uq_frameworks_code_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(100), index=True)
    version: Mapped[str] = mapped_column(sa.String(50))
    title: Mapped[str] = mapped_column(sa.String(300))
    checksum: Mapped[str] = mapped_column(sa.String(64))
    # Deferred: look-ups by code read the checksum and reach the parsed cache instead.
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON, deferred=True)
    imported_at: Mapped[created_at]
    is_current: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<FrameworkRecord {self.code} {self.version}>"


class PlatformStatus(StrEnum):
    """Whether a registered platform may launch Jalon."""

    # Registered (Dynamic Registration, admin form) but not yet approved: no launch accepted.
    PENDING = "pending"
    ACTIVE = "active"


def url_origin(url: str | None) -> str | None:
    """Return ``scheme://host[:port]`` of an absolute http(s) URL, lower-cased, or ``None``."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    default = 443 if scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


class Platform(Base):
    """An LMS registered with Jalon, keyed by issuer and client id.

    Canvas uses one issuer for every hosted instance, so the issuer alone names nothing.
    """

    __tablename__ = "platforms"
    __table_args__ = (
        sa.UniqueConstraint("issuer", "client_id", name="uq_platforms_issuer_client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.String(255))
    client_id: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    auth_login_url: Mapped[str] = mapped_column(sa.String(1024))
    auth_token_url: Mapped[str] = mapped_column(sa.String(1024))
    key_set_url: Mapped[str] = mapped_column(sa.String(1024))
    # Some token endpoints want another audience than the token URL (pylti1p3 #118).
    auth_audience: Mapped[str | None] = mapped_column(sa.String(1024))
    product_family_code: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[created_at]
    # PlatformStatus: a pending platform's launches are refused (LTI_PLATFORM_PENDING).
    status: Mapped[str] = mapped_column(
        sa.String(20), default=PlatformStatus.PENDING, server_default="active"
    )
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Origins (``https://host[:port]``) beyond those of the registered URLs where the
    # platform's services (AGS, NRPS) and pages framing Jalon live: hosted Canvas serves
    # them from the school's own host, not from its shared issuer.
    service_origins: Mapped[list[str] | None] = mapped_column(sa.JSON)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )

    def __repr__(self) -> str:
        return f"<Platform {self.issuer} {self.client_id}>"

    @property
    def is_active(self) -> bool:
        """Return whether an administrator approved the platform."""
        return self.status == PlatformStatus.ACTIVE

    def origins(self) -> frozenset[str]:
        """Return the origins the platform lives on: its registered URLs' and the extra ones."""
        urls = [self.issuer, self.auth_login_url, self.auth_token_url, self.key_set_url]
        urls += list(self.service_origins or ())
        return frozenset(o for o in map(url_origin, urls) if o is not None)


class Deployment(Base):
    """One deployment of Jalon in a platform (a Moodle tool type, a Canvas sub-account…)."""

    __tablename__ = "deployments"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "deployment_id", name="uq_deployments_platform_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[created_at]

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(Base):
    """An RSA key Jalon signs with; published at ``/lti/jwks`` until its grace period ends."""

    __tablename__ = "tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    private_key_pem: Mapped[str] = mapped_column(sa.Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    is_current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    # When a newer key replaced it; it stays published for a grace period after that.
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CacheEntry(Base):
    """Short-lived LTI data (used nonces, launch data) when no Redis is configured.

    Insertion is the atomic "add if absent" that makes nonces single-use.
    """

    __tablename__ = "lti_cache"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    # Not indexed: every launch would pay for it, and only the purge reads by expiry (a
    # scan, by one process at a time every few minutes: lti_tool.privacy.purge).
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LtiContext(Base):
    """A course (Moodle course, Canvas course, Open edX course) Jalon was launched from.

    Keyed by issuer, deployment and ``context.id`` — LTI 1.3 makes ``context.id`` unique
    within a deployment and a deployment id unique within its issuer — not by platform row:
    Open edX gives each component of a course its own client id, and the course must stay
    one course across them. Two issuers never share a course. The issuer is the platforms'
    normalised one (no trailing slash).
    """

    __tablename__ = "lti_contexts"
    __table_args__ = (
        sa.UniqueConstraint("issuer", "deployment_id", "context_id", name="uq_lti_contexts_issuer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.String(255))
    deployment_id: Mapped[str] = mapped_column(sa.String(255))
    context_id: Mapped[str] = mapped_column(sa.String(255))
    label: Mapped[str | None] = mapped_column(sa.String(255))
    title: Mapped[str | None] = mapped_column(sa.String(1024))
    created_at: Mapped[created_at]


class LtiUser(Base):
    """A person as the issuer names them (``sub``, unique within its issuer in LTI 1.3).

    Keyed by issuer, not platform row, so that one learner launching through several
    client ids of one issuer (Open edX components) is one person. Name, login and e-mail
    are kept only as the platform sent them, because evaluators need them; they never
    reach a log or an xAPI statement.
    """

    __tablename__ = "lti_users"
    __table_args__ = (sa.UniqueConstraint("issuer", "sub", name="uq_lti_users_issuer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.String(255))
    sub: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    given_name: Mapped[str | None] = mapped_column(sa.String(255))
    family_name: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    # Display claims of platforms that share no name (Open edX): the login, and the
    # ``lis`` claim's ``person_sourcedid``.
    preferred_username: Mapped[str | None] = mapped_column(sa.String(255))
    person_sourcedid: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<LtiUser {self.id}>"


class LtiMembership(Base):
    """A user's roles in one context, as of their latest launch there."""

    __tablename__ = "lti_memberships"
    __table_args__ = (
        sa.UniqueConstraint("context_id", "user_id", name="uq_lti_memberships_context_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_contexts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_users.id", ondelete="CASCADE"), index=True
    )
    roles: Mapped[list[str]] = mapped_column(sa.JSON)
    is_staff: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LtiResourceLink(Base):
    """A placement of Jalon in a course, with what the platform lets it do there."""

    __tablename__ = "lti_resource_links"
    __table_args__ = (
        sa.UniqueConstraint(
            "platform_id", "resource_link_id", name="uq_lti_resource_links_platform_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("lti_contexts.id", ondelete="CASCADE"), index=True
    )
    resource_link_id: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str | None] = mapped_column(sa.String(1024))
    # The custom parameters of the placement (framework, épreuve, competencies…).
    custom: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Assignment and Grade Services endpoint claim, and the roster (NRPS) URL.
    lineitem_url: Mapped[str | None] = mapped_column(sa.String(1024))
    lineitems_url: Mapped[str | None] = mapped_column(sa.String(1024))
    ags_scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    memberships_url: Mapped[str | None] = mapped_column(sa.String(1024))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RegistrationInvite(Base):
    """A single-use, expiring Dynamic Registration link an administrator issued.

    Only a hash of the token is kept: the link itself is shown once, to the administrator.
    A platform registered through it is active at once.
    """

    __tablename__ = "registration_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    note: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    platform_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("platforms.id", ondelete="SET NULL")
    )


class AdminSession(Base):
    """A signed-in administrator's session, so that signing out ends it on the server."""

    __tablename__ = "admin_sessions"

    # A hash of the random id the signed cookie carries.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    created_at: Mapped[created_at]
    # Absolute end, whatever the activity.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
