"""What a successful launch records: the course, the person, their roles, the placement.

Upserts run in the launch's transaction (they only flush). Two first launches racing in
the same course both succeed: the insert does nothing on conflict and the row is re-read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.launch import CLAIM
from lti_tool.lti.roles import Roles
from lti_tool.lti.tool_config import RegisteredPlatform
from lti_tool.models import LtiContext, LtiMembership, LtiResourceLink, LtiUser

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


@functools.cache
def _statements(
    table: sa.Table, keys: tuple[str, ...], values: tuple[str, ...], dialect: str
) -> tuple[sa.Select[Any], sa.Executable]:
    """Return the (select, insert) pair of an upsert, built once per shape."""
    query = sa.select(table.c.id, *(table.c[name] for name in values)).where(
        *(table.c[name] == sa.bindparam(name) for name in keys)
    )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    add = (
        insert(table)
        .values({name: sa.bindparam(name) for name in (*keys, *values)})
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(table.c.id)
    )
    return query, add


def _upsert(session: Session, model: Any, keys: dict[str, Any], values: dict[str, Any]) -> int:
    """Return the id of the row with ``keys``, created or updated with ``values``.

    Core statements, built once, on the session's connection: a launch writes four rows,
    and the ORM's per-statement overhead would dominate its cost.
    """
    table = model.__table__
    connection = session.connection()
    query, add = _statements(table, tuple(keys), tuple(values), connection.dialect.name)
    row = connection.execute(query, keys).first()
    if row is None:
        inserted = connection.execute(add, {**keys, **values}).first()
        if inserted is not None:
            return int(inserted.id)
        row = connection.execute(query, keys).first()  # a concurrent launch inserted it first
        if row is None:  # pragma: no cover (deleted in between)
            raise RuntimeError(f"{table.name} upsert found no row")
    current = row._mapping
    changed = {name: value for name, value in values.items() if current[name] != value}
    if changed:
        if "updated_at" in table.c:
            changed["updated_at"] = utcnow()
        connection.execute(sa.update(table).where(table.c.id == row.id).values(**changed))
    return int(row.id)


@dataclass(frozen=True)
class LaunchRecords:
    """Primary keys of the rows a launch touched (``None`` when the claim was absent)."""

    context_id: int | None
    user_id: int | None
    membership_id: int | None
    resource_link_id: int | None


def record_launch(
    session: Session, platform: RegisteredPlatform, claims: dict[str, Any], roles: Roles
) -> LaunchRecords:
    """Upsert the context, user, membership and resource link of a validated launch."""
    context: int | None = None
    user: int | None = None
    membership: int | None = None
    link: int | None = None
    context_claim = claims.get(CLAIM + "context")
    if isinstance(context_claim, dict):
        context = _upsert(
            session,
            LtiContext,
            {"platform_id": platform.id, "context_id": str(context_claim["id"])[:255]},
            {
                "label": _text(context_claim.get("label"), 255),
                "title": _text(context_claim.get("title"), 1024),
            },
        )
    sub = claims.get("sub")
    if sub:
        user = _upsert(
            session,
            LtiUser,
            {"platform_id": platform.id, "sub": sub},
            {
                "name": _text(claims.get("name"), 255),
                "given_name": _text(claims.get("given_name"), 255),
                "family_name": _text(claims.get("family_name"), 255),
                "email": _text(claims.get("email"), 320),
            },
        )
    if context is not None and user is not None:
        membership = _upsert(
            session,
            LtiMembership,
            {"context_id": context, "user_id": user},
            {"roles": list(roles.uris), "is_staff": roles.is_staff},
        )
    link_claim = claims.get(CLAIM + "resource_link")
    if isinstance(link_claim, dict) and link_claim.get("id"):
        ags = claims.get(AGS_CLAIM)
        ags = ags if isinstance(ags, dict) else {}
        nrps = claims.get(NRPS_CLAIM)
        nrps = nrps if isinstance(nrps, dict) else {}
        custom = claims.get(CLAIM + "custom")
        scopes = ags.get("scope")
        link = _upsert(
            session,
            LtiResourceLink,
            {"platform_id": platform.id, "resource_link_id": str(link_claim["id"])[:255]},
            {
                "context_id": context,
                "title": _text(link_claim.get("title"), 1024),
                "custom": custom if isinstance(custom, dict) else {},
                "lineitem_url": _text(ags.get("lineitem"), 1024),
                "lineitems_url": _text(ags.get("lineitems"), 1024),
                "ags_scopes": [s for s in scopes if isinstance(s, str)]
                if isinstance(scopes, list)
                else [],
                "memberships_url": _text(nrps.get("context_memberships_url"), 1024),
            },
        )
    return LaunchRecords(
        context_id=context, user_id=user, membership_id=membership, resource_link_id=link
    )
