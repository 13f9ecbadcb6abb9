"""What a successful launch records: the course, the person, their roles, the placement.

The course and the person belong to the issuer (courses also to the deployment), not to
the platform row the launch came through: the client ids of one issuer (one per Open edX
component) share them. The placement keeps its platform row, whose credentials its grades
go back with.

Writes run in the launch's transaction (they only flush). One query reads the four rows
a launch touches; then only what is missing is inserted and only what changed is
updated, so a returning learner's launch costs one statement here. Two first launches
racing in the same course both succeed: the insert does nothing on conflict and the row
is re-read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.launch import CLAIM
from lti_tool.lti.roles import Roles
from lti_tool.lti.tool_config import RegisteredPlatform
from lti_tool.models import FrameworkRecord, LtiContext, LtiMembership, LtiResourceLink, LtiUser
from lti_tool.registration import normalise_issuer
from xapi.prepared import Prepared

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
LIS_CLAIM = CLAIM + "lis"

_CONTEXTS, _USERS, _MEMBERSHIPS, _LINKS, _FRAMEWORKS = (
    cast("sa.Table", model.__table__)
    for model in (LtiContext, LtiUser, LtiMembership, LtiResourceLink, FrameworkRecord)
)
# Per table: the alias of its columns in the launch's read, and the columns compared.
_READ: Mapping[sa.Table, tuple[str, tuple[str, ...]]] = {
    _CONTEXTS: ("context", ("label", "title")),
    _USERS: (
        "user",
        ("name", "given_name", "family_name", "email", "preferred_username", "person_sourcedid"),
    ),
    _MEMBERSHIPS: ("membership", ("roles", "is_staff")),
    _LINKS: (
        "link",
        (
            "context_id",
            "title",
            "custom",
            "lineitem_url",
            "lineitems_url",
            "ags_scopes",
            "memberships_url",
        ),
    ),
}


def _text(value: Any, limit: int) -> str | None:
    """Return a non-blank string claim, cut to its column; anything else reads as absent."""
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _person_sourcedid(claims: Mapping[str, Any]) -> Any:
    """Return the ``lis`` claim's ``person_sourcedid`` (the SIS id Open edX may send)."""
    lis = claims.get(LIS_CLAIM)
    return lis.get("person_sourcedid") if isinstance(lis, dict) else None


@functools.cache
def _launch_read(
    has_context: bool, has_user: bool, has_link: bool, has_framework: bool
) -> Prepared:
    """Return the one query that reads every row a launch of this shape touches.

    A one-row select outer-joined to each table by its natural key, so that a missing
    row reads as NULLs rather than as no row at all; and, for a link naming a référentiel,
    the checksum of its current version (what the *launched* statement's blocs come from).
    """
    one = sa.select(sa.literal_column("1").label("one")).subquery("one")
    joins: list[tuple[sa.Table, sa.ColumnElement[bool]]] = []
    platform: sa.BindParameter[int] = sa.bindparam("platform_id")
    issuer: sa.BindParameter[str] = sa.bindparam("issuer")
    if has_context:
        joins.append(
            (
                _CONTEXTS,
                sa.and_(
                    _CONTEXTS.c.issuer == issuer,
                    _CONTEXTS.c.deployment_id == sa.bindparam("deployment_id"),
                    _CONTEXTS.c.context_id == sa.bindparam("context_key"),
                ),
            )
        )
    if has_user:
        joins.append(
            (_USERS, sa.and_(_USERS.c.issuer == issuer, _USERS.c.sub == sa.bindparam("sub")))
        )
    if has_context and has_user:
        joins.append(
            (
                _MEMBERSHIPS,
                sa.and_(
                    _MEMBERSHIPS.c.context_id == _CONTEXTS.c.id,
                    _MEMBERSHIPS.c.user_id == _USERS.c.id,
                ),
            )
        )
    if has_link:
        joins.append(
            (
                _LINKS,
                sa.and_(
                    _LINKS.c.platform_id == platform,
                    _LINKS.c.resource_link_id == sa.bindparam("link_key"),
                ),
            )
        )
    columns = [
        table.c[name].label(f"{_READ[table][0]}_{name}")
        for table, _ in joins
        for name in ("id", *_READ[table][1])
    ]
    if has_framework:
        columns.append(_FRAMEWORKS.c.checksum.label("framework_checksum"))
        joins.append(
            (
                _FRAMEWORKS,
                sa.and_(
                    _FRAMEWORKS.c.code == sa.bindparam("framework_code"),
                    _FRAMEWORKS.c.is_current,
                ),
            )
        )
    query = sa.select(*columns).select_from(one)
    for table, condition in joins:
        query = query.outerjoin(table, condition)
    return Prepared(query)


def _found(values: Mapping[str, Any], table: sa.Table) -> dict[str, Any] | None:
    """Return one table's part of the launch's read, or None if its row is missing."""
    alias, names = _READ[table]
    if values[f"{alias}_id"] is None:
        return None
    return {name: values[f"{alias}_{name}"] for name in ("id", *names)}


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


def _write(
    connection: Connection,
    table: sa.Table,
    keys: dict[str, Any],
    values: dict[str, Any],
    current: Mapping[str, Any] | None,
) -> int:
    """Return the id of the row with ``keys``, inserted or updated to hold ``values``.

    ``current`` is what the launch's read found (None: no row). Core statements, built
    once, on the session's connection: the ORM's per-statement overhead would dominate.
    """
    if current is None:
        query, add = _statements(table, tuple(keys), tuple(values), connection.dialect.name)
        inserted = connection.execute(add, {**keys, **values}).first()
        if inserted is not None:
            return int(inserted.id)
        row = connection.execute(query, keys).first()  # a concurrent launch inserted it first
        if row is None:  # pragma: no cover (deleted in between)
            raise RuntimeError(f"{table.name} upsert found no row")
        return _write(connection, table, keys, values, dict(row._mapping))
    changed = {name: value for name, value in values.items() if current[name] != value}
    if changed:
        if "updated_at" in table.c:
            changed["updated_at"] = utcnow()
        connection.execute(sa.update(table).where(table.c.id == current["id"]).values(**changed))
    return int(current["id"])


@dataclass(frozen=True)
class LaunchRecords:
    """Primary keys of the rows a launch touched (``None`` when the claim was absent)."""

    context_id: int | None
    user_id: int | None
    membership_id: int | None
    resource_link_id: int | None
    # The current version of the référentiel the link names, read in the same query.
    framework_checksum: str | None = None


def record_launch(
    session: Session, platform: RegisteredPlatform, claims: dict[str, Any], roles: Roles
) -> LaunchRecords:
    """Upsert the context, user, membership and resource link of a validated launch."""
    context_claim = claims.get(CLAIM + "context")
    context_claim = context_claim if isinstance(context_claim, dict) else None
    sub = claims.get("sub") or None
    link_claim = claims.get(CLAIM + "resource_link")
    link_claim = link_claim if isinstance(link_claim, dict) and link_claim.get("id") else None
    custom = claims.get(CLAIM + "custom")
    framework_code = custom.get("framework") if isinstance(custom, dict) else None
    framework_code = framework_code if isinstance(framework_code, str) and framework_code else None
    deployment_id = str(claims.get(CLAIM + "deployment_id") or "")[:255]
    issuer = normalise_issuer(platform.issuer)
    keys = {
        "platform_id": platform.id,
        "issuer": issuer,
        "deployment_id": deployment_id,
        "context_key": str(context_claim["id"])[:255] if context_claim else None,
        "sub": sub,
        "link_key": str(link_claim["id"])[:255] if link_claim else None,
        "framework_code": framework_code,
    }
    connection = session.connection()
    query = _launch_read(
        context_claim is not None,
        sub is not None,
        link_claim is not None,
        framework_code is not None,
    )
    found = query.first(connection, keys)
    assert found is not None  # noqa: S101 (a select from one row, outer-joined)

    context: int | None = None
    user: int | None = None
    membership: int | None = None
    link: int | None = None
    if context_claim is not None:
        context = _write(
            connection,
            _CONTEXTS,
            {
                "issuer": issuer,
                "deployment_id": deployment_id,
                "context_id": keys["context_key"],
            },
            {
                "label": _text(context_claim.get("label"), 255),
                "title": _text(context_claim.get("title"), 1024),
            },
            _found(found, _CONTEXTS),
        )
    if sub is not None:
        user = _write(
            connection,
            _USERS,
            {"issuer": issuer, "sub": sub},
            {
                "name": _text(claims.get("name"), 255),
                "given_name": _text(claims.get("given_name"), 255),
                "family_name": _text(claims.get("family_name"), 255),
                "email": _text(claims.get("email"), 320),
                "preferred_username": _text(claims.get("preferred_username"), 255),
                "person_sourcedid": _text(_person_sourcedid(claims), 255),
            },
            _found(found, _USERS),
        )
    if context is not None and user is not None:
        membership = _write(
            connection,
            _MEMBERSHIPS,
            {"context_id": context, "user_id": user},
            {"roles": list(roles.uris), "is_staff": roles.is_staff},
            _found(found, _MEMBERSHIPS),
        )
    if link_claim is not None:
        ags = claims.get(AGS_CLAIM)
        ags = ags if isinstance(ags, dict) else {}
        nrps = claims.get(NRPS_CLAIM)
        nrps = nrps if isinstance(nrps, dict) else {}
        scopes = ags.get("scope")
        link = _write(
            connection,
            _LINKS,
            {"platform_id": platform.id, "resource_link_id": keys["link_key"]},
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
            _found(found, _LINKS),
        )
    return LaunchRecords(
        context_id=context,
        user_id=user,
        membership_id=membership,
        resource_link_id=link,
        framework_checksum=found.get("framework_checksum"),
    )
