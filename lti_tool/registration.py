"""Platforms and deployments registered with Jalon: add, list, remove, with validation.

The CLI, the admin page and Dynamic Registration all go through these functions, so a
registration is checked the same way whichever path it takes. They take the session as
first argument and only ``flush()``: the caller commits, or rolls back after an error.

Errors name the field and a reason *code*; the CLI words them in English
(``str(error)``), the web pages in the reader's language.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from lti_tool.db import utcnow
from lti_tool.models import (
    Deployment,
    LtiContext,
    LtiUser,
    Platform,
    PlatformStatus,
    RegistrationInvite,
    url_origin,
)

log = logging.getLogger(__name__)
# Plain http is for a platform on this machine (the demo LMS, tests); anything else would
# carry id_tokens and service tokens in clear.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
MAX_LENGTH = {
    "issuer": 255,
    "client_id": 255,
    "name": 255,
    "auth_login_url": 1024,
    "auth_token_url": 1024,
    "key_set_url": 1024,
    "auth_audience": 1024,
    "product_family_code": 100,
    "deployment_id": 255,
}
URL_FIELDS = ("issuer", "auth_login_url", "auth_token_url", "key_set_url", "auth_audience")
REASONS = {
    "required": "is required",
    "too_long": "is longer than {limit} characters",
    "not_url": "must be an absolute URL such as https://lms.example.edu/…",
    "not_https": "must use https (plain http is accepted only for 127.0.0.1 and localhost)",
    "has_query": "must not contain a query (?…) or a fragment (#…)",
    "duplicate_platform": "a platform with this issuer and client id is already registered",
    "duplicate_deployment": "deployment {value!r} is given twice or is already registered",
    "unknown_platform": "no platform is registered with this issuer and client id",
    "unknown_deployment": "this platform has no deployment {value!r}",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a registration: the field and why."""

    field: str
    reason: str
    value: str = ""

    @property
    def message(self) -> str:
        """Say what is wrong, in English (for the CLI and logs)."""
        limit = MAX_LENGTH.get(self.field, 1024)
        return REASONS[self.reason].format(limit=limit, value=self.value)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class RegistrationError(ValueError):
    """A registration was refused; ``problems`` lists every reason, field by field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def reasons(self) -> set[str]:
        """Return the reason codes, for callers that react to a kind of refusal."""
        return {p.reason for p in self.problems}


@dataclass(frozen=True)
class PlatformFields:
    """What registering a platform needs, as given (validation normalises it)."""

    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None = None
    name: str = ""
    product_family_code: str | None = None
    deployment_ids: tuple[str, ...] = field(default_factory=tuple)


def url_problem(field_name: str, value: str) -> Problem | None:
    """Return what is wrong with a URL field, or ``None`` when it is acceptable."""
    if not value:
        return Problem(field_name, "required")
    if len(value) > MAX_LENGTH.get(field_name, 1024):
        return Problem(field_name, "too_long")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return Problem(field_name, "not_url")
    if parts.scheme not in {"http", "https"} or not hostname or any(c.isspace() for c in value):
        return Problem(field_name, "not_url")
    if parts.scheme == "http" and hostname not in LOOPBACK_HOSTS:
        return Problem(field_name, "not_https")
    if field_name == "issuer" and (parts.query or parts.fragment or value.endswith("?")):
        return Problem(field_name, "has_query")
    return None


def _text_problem(field_name: str, value: str, *, required: bool = True) -> Problem | None:
    if not value:
        return Problem(field_name, "required") if required else None
    if len(value) > MAX_LENGTH[field_name]:
        return Problem(field_name, "too_long")
    return None


def normalise_issuer(issuer: str) -> str:
    """Return an issuer as platforms send it: trimmed, without one trailing slash.

    No platform Jalon knows sends an ``iss`` ending in a slash: Moodle refuses a
    ``wwwroot`` that ends with one, Open edX sends its LMS root URL, Canvas its own fixed
    URL. A slash typed after the address (``https://lms.example.edu/``, or a Moodle in a
    folder, ``https://example.edu/moodle/``) is a copy of the browser's address bar, and
    would make every launch fail; so it is removed, whatever the path.
    """
    issuer = issuer.strip()
    if issuer.endswith("/") and not issuer.endswith("//"):
        return issuer[:-1]
    return issuer


def validate_platform(fields: PlatformFields) -> PlatformFields:
    """Return the fields trimmed and checked, or raise with every problem found."""
    audience = (fields.auth_audience or "").strip() or None
    family = (fields.product_family_code or "").strip() or None
    clean = replace(
        fields,
        issuer=normalise_issuer(fields.issuer),
        client_id=fields.client_id.strip(),
        auth_login_url=fields.auth_login_url.strip(),
        auth_token_url=fields.auth_token_url.strip(),
        key_set_url=fields.key_set_url.strip(),
        auth_audience=audience,
        name=fields.name.strip(),
        product_family_code=family,
        deployment_ids=tuple(d.strip() for d in fields.deployment_ids),
    )
    problems: list[Problem | None] = [
        url_problem("issuer", clean.issuer),
        _text_problem("client_id", clean.client_id),
        url_problem("auth_login_url", clean.auth_login_url),
        url_problem("auth_token_url", clean.auth_token_url),
        url_problem("key_set_url", clean.key_set_url),
        url_problem("auth_audience", audience) if audience else None,
        _text_problem("name", clean.name, required=False),
        _text_problem("product_family_code", family or "", required=False),
    ]
    seen: set[str] = set()
    for deployment_id in clean.deployment_ids:
        problem = _text_problem("deployment_id", deployment_id)
        if problem is None and deployment_id in seen:
            problem = Problem("deployment_id", "duplicate_deployment", deployment_id)
        seen.add(deployment_id)
        problems.append(problem)
    found = [p for p in problems if p is not None]
    if found:
        raise RegistrationError(found)
    return clean


def find_platform(session: Session, issuer: str, client_id: str) -> Platform | None:
    """Return the platform registered with this issuer and client id, or ``None``."""
    # As typed, or as stored since the trailing slash is removed (:func:`normalise_issuer`).
    issuers = {issuer.strip(), normalise_issuer(issuer)}
    return session.scalar(
        sa.select(Platform)
        .where(Platform.issuer.in_(issuers), Platform.client_id == client_id.strip())
        .order_by(Platform.id)
        .limit(1)
    )


def get_platform(session: Session, issuer: str, client_id: str) -> Platform:
    """Return the platform, or raise naming the pair that is unknown."""
    platform = find_platform(session, issuer, client_id)
    if platform is None:
        raise RegistrationError([Problem("client_id", "unknown_platform")])
    return platform


def list_platforms(session: Session) -> list[Platform]:
    """Return every platform with its deployments, by issuer then client id."""
    query = (
        sa.select(Platform)
        .options(selectinload(Platform.deployments))
        .order_by(Platform.issuer, Platform.client_id)
    )
    return list(session.scalars(query))


def register_platform(
    session: Session, fields: PlatformFields, *, status: PlatformStatus
) -> Platform:
    """Store a new platform and its deployments, active or waiting for an administrator.

    Each caller says which: an operator's ``jalon platform add`` and a registration through
    an administrator's invitation make it active; the admin form and an uninvited Dynamic
    Registration (``/lti/register`` is public) leave it pending, its launches refused.

    The same issuer and client id twice is refused: Canvas shares one issuer between all
    its hosted instances, so only the pair names a registration.
    """
    clean = validate_platform(fields)
    if find_platform(session, clean.issuer, clean.client_id) is not None:
        raise RegistrationError([Problem("client_id", "duplicate_platform")])
    platform = Platform(
        issuer=clean.issuer,
        client_id=clean.client_id,
        name=clean.name,
        auth_login_url=clean.auth_login_url,
        auth_token_url=clean.auth_token_url,
        key_set_url=clean.key_set_url,
        auth_audience=clean.auth_audience,
        product_family_code=clean.product_family_code,
        deployments=[Deployment(deployment_id=d) for d in clean.deployment_ids],
        status=status,
        activated_at=utcnow() if status == PlatformStatus.ACTIVE else None,
    )
    session.add(platform)
    _flush(session, Problem("client_id", "duplicate_platform"))
    return platform


def activate_platform(session: Session, platform: Platform) -> bool:
    """Let a pending platform launch Jalon; return False if it already could."""
    if platform.is_active:
        return False
    platform.status = PlatformStatus.ACTIVE
    platform.activated_at = utcnow()
    session.flush()
    log.info("platform activated: %s (client id %s)", platform.issuer, platform.client_id)
    return True


def invite_token_hash(token: str) -> str:
    """Return what the database keeps of an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(
    session: Session, lifetime: dt.timedelta, note: str = ""
) -> tuple[RegistrationInvite, str]:
    """Issue a single-use registration invitation; return it and its token (shown once)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invite = RegistrationInvite(
        token_hash=invite_token_hash(token),
        note=note.strip()[:255],
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(invite)
    session.flush()
    return invite, token


def find_usable_invite(session: Session, token: str) -> RegistrationInvite | None:
    """Return the invitation of a token if it is unused and unexpired, else None."""
    if not token:
        return None
    return session.scalar(
        sa.select(RegistrationInvite).where(
            RegistrationInvite.token_hash == invite_token_hash(token),
            RegistrationInvite.used_at.is_(None),
            RegistrationInvite.expires_at > utcnow(),
        )
    )


def consume_invite(session: Session, token: str) -> int | None:
    """Use up an invitation; return its id, or None if it is unknown, used or expired.

    One conditional UPDATE: of two registrations racing with the same link, one wins.
    """
    if not token:
        return None
    table = RegistrationInvite.__table__
    invite_id = session.execute(
        sa.update(table)
        .where(
            table.c.token_hash == invite_token_hash(token),
            table.c.used_at.is_(None),
            table.c.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(table.c.id)
    ).scalar()
    return int(invite_id) if invite_id is not None else None


def record_invite_use(session: Session, invite_id: int, platform: Platform) -> None:
    """Note which platform an invitation registered."""
    table = RegistrationInvite.__table__
    session.execute(sa.update(table).where(table.c.id == invite_id).values(platform_id=platform.id))


def add_deployments(
    session: Session, platform: Platform, deployment_ids: Iterable[str]
) -> list[Deployment]:
    """Add deployments to a platform; refuse one it already has."""
    wanted = [d.strip() for d in deployment_ids]
    existing = {d.deployment_id for d in platform.deployments}
    problems: list[Problem] = []
    for index, deployment_id in enumerate(wanted):
        problem = _text_problem("deployment_id", deployment_id)
        if problem is None and (deployment_id in existing or deployment_id in wanted[:index]):
            problem = Problem("deployment_id", "duplicate_deployment", deployment_id)
        if problem is not None:
            problems.append(problem)
    if not wanted:
        problems.append(Problem("deployment_id", "required"))
    if problems:
        raise RegistrationError(problems)
    added = [Deployment(deployment_id=d) for d in wanted]
    platform.deployments.extend(added)
    _flush(session, Problem("deployment_id", "duplicate_deployment", ", ".join(wanted)))
    return added


def remove_platform(session: Session, platform: Platform) -> None:
    """Remove a platform, its deployments and links: its launches are refused from now on.

    Courses and people belong to the issuer, which other client ids may share (one per
    Open edX component): they are forgotten with the issuer's last platform only.
    """
    issuer = normalise_issuer(platform.issuer)
    session.delete(platform)
    session.flush()
    if session.scalar(sa.select(sa.exists().where(Platform.issuer.in_((issuer, issuer + "/"))))):
        return
    session.execute(sa.delete(LtiContext).where(LtiContext.issuer == issuer))
    session.execute(sa.delete(LtiUser).where(LtiUser.issuer == issuer))
    session.flush()


def remove_deployment(session: Session, platform: Platform, deployment_id: str) -> None:
    """Remove one deployment of a platform."""
    deployment_id = deployment_id.strip()
    for deployment in platform.deployments:
        if deployment.deployment_id == deployment_id:
            platform.deployments.remove(deployment)
            session.flush()
            return
    raise RegistrationError([Problem("deployment_id", "unknown_deployment", deployment_id)])


def set_service_origins(
    session: Session,
    platform: Platform,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> list[str]:
    """Add and remove the extra origins a platform serves its AGS and NRPS from.

    Jalon calls a service URL only on one of the platform's origins (its issuer, login,
    token and key-set URLs'), plus these: hosted Canvas serves AGS from the school's own
    host, not from canvas.instructure.com. Each value is a URL whose origin is kept; it
    follows the rules of the platform's URLs (https, http only on loopback). Return the
    extra origins now stored.
    """
    origins = list(platform.service_origins or ())
    problems: list[Problem] = []
    for action, values in (("add", add), ("remove", remove)):
        for value in values:
            value = value.strip()
            problem = url_problem("service_origin", value)
            origin = url_origin(value)
            if problem is not None or origin is None:
                problems.append(problem or Problem("service_origin", "not_url"))
            elif action == "add" and origin not in origins:
                origins.append(origin)
            elif action == "remove" and origin in origins:
                origins.remove(origin)
    if problems:
        raise RegistrationError(problems)
    platform.service_origins = sorted(origins)
    session.flush()
    return list(platform.service_origins)


def _flush(session: Session, on_conflict: Problem) -> None:
    """Flush, turning a unique-constraint race into the refusal it stands for.

    The session is then unusable until the caller rolls back, as after any refusal.
    """
    try:
        session.flush()
    except sa.exc.IntegrityError as exc:
        raise RegistrationError([on_conflict]) from exc
