"""The LMS objects behind Jalon's activity IRIs: resource links and courses.

Statements name a resource link ``{base}/xapi/activities/resource-links/<uuid>`` and a
course ``{base}/xapi/activities/courses/<uuid>``, where the UUID is a UUIDv5 of the issuer,
the deployment id and the LMS's own id (:func:`xapi.statements.lti_key`); a course row
holds all three, and a resource link takes its platform's issuer and deployments. Those UUIDs are
derived, not stored: an :class:`ActivityIndex` recomputes them from the rows the launches
wrote and keeps a map from UUID to row. On a miss it reads only the rows it has not seen,
plus the last :data:`RECENT` ids below the highest it has (a transaction that took its id
earlier may commit later), so an unknown UUID costs a bounded query, not a scan of every link.

A found row is read again and its UUID recomputed before it is answered, so a row deleted
or renamed since is not served from memory.

What an IRI describes is the activity's xAPI definition and nothing more: the very
``definition`` the statements carry (type, name as the LMS gave it, the LTI resource link
id), and for a resource link the référentiel and épreuve its placement names, which are
public. Never a learner, never a result.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.models import Deployment, LtiContext, LtiResourceLink, Platform
from xapi import vocabulary as v
from xapi.statements import UNDETERMINED, lti_key


class ActivityKind(StrEnum):
    """The LMS objects Jalon names, valued by their IRI's path segment."""

    RESOURCE_LINK = "resource-links"
    COURSE = "courses"


@dataclass(frozen=True, slots=True)
class LmsActivity:
    """What an activity IRI says about the LMS object it names."""

    iri: str
    kind: ActivityKind
    title: str | None
    resource_link_id: str | None = None
    framework_code: str | None = None
    epreuve_code: str | None = None

    def definition(self, base_url: str) -> dict[str, Any]:
        """Return the xAPI Activity object, as the statements' own ``object`` carries it."""
        kind = v.ASSESSMENT if self.kind is ActivityKind.RESOURCE_LINK else v.COURSE
        definition: dict[str, Any] = {"type": kind.iri}
        if self.title:
            definition["name"] = {UNDETERMINED: self.title}
        if self.resource_link_id is not None:
            definition["extensions"] = {v.RESOURCE_LINK_ID.iri(base_url): self.resource_link_id}
        return {"id": self.iri, "objectType": "Activity", "definition": definition}


# Ids re-read below the highest seen, for rows committed out of id order by concurrent
# launches: far more than the launches that can commit while one launch's transaction is open.
RECENT = 256

# Where an index entry points: which table's row, its id, and the deployment of the IRI.
_LINK, _CONTEXT, _LINK_COURSE = "link", "context", "link-course"


@dataclass(frozen=True, slots=True)
class _Entry:
    source: str
    row_id: int
    deployment_id: str


class ActivityIndex:
    """UUIDs of the activity IRIs of one Jalon instance, mapped to the rows they name."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._lock = threading.Lock()
        self._entries: dict[tuple[ActivityKind, uuid.UUID], _Entry] = {}
        # The (table, row id, deployment) pairs already keyed: re-read ones cost no UUID.
        self._keyed: set[tuple[str, int, str]] = set()
        # The highest row ids read so far: a new (row, deployment) pair has one above them.
        self._seen = {"link": 0, "context": 0, "deployment": 0}

    def find(self, session: Session, kind: ActivityKind, key: uuid.UUID) -> LmsActivity | None:
        """Return the activity Jalon issued as ``kind``/``key``, or None if it never did."""
        with self._lock:
            entry = self._entries.get((kind, key))
            if entry is None:
                self._read_new_rows(session)
                entry = self._entries.get((kind, key))
        if entry is None:
            return None
        activity = self._load(session, kind, key, entry)
        if activity is None:
            with self._lock:
                self._entries.pop((kind, key), None)
        return activity

    def iri(self, kind: ActivityKind, key: uuid.UUID) -> str:
        """Return the IRI of ``kind``/``key`` on this instance."""
        return f"{self.base_url}/xapi/activities/{kind.value}/{key}"

    def _key(self, kind: ActivityKind, issuer: str, deployment_id: str, lms_id: str) -> uuid.UUID:
        return lti_key(self.base_url, kind.value, issuer, deployment_id, lms_id)

    def _read_new_rows(self, session: Session) -> None:
        highest = session.execute(
            sa.select(
                sa.select(sa.func.max(LtiResourceLink.id)).scalar_subquery(),
                sa.select(sa.func.max(LtiContext.id)).scalar_subquery(),
                sa.select(sa.func.max(Deployment.id)).scalar_subquery(),
            )
        ).one()
        now = dict(zip(("link", "context", "deployment"), (n or 0 for n in highest), strict=True))
        if any(now[name] < seen for name, seen in self._seen.items()):
            # Ids went back: the tables were emptied (a restored backup, a test database).
            self._entries.clear()
            self._keyed.clear()
            self._seen = dict.fromkeys(self._seen, 0)
        seen = {name: max(0, highest - RECENT) for name, highest in self._seen.items()}
        # Deployments come from registrations, not launches, and a launch needs its deployment
        # committed first; a window there would join every link to every old deployment.
        seen["deployment"] = self._seen["deployment"]
        links = (
            sa.select(
                LtiResourceLink.id,
                LtiResourceLink.resource_link_id,
                LtiResourceLink.context_id,
                Platform.issuer,
                Deployment.deployment_id,
            )
            .join(Platform, Platform.id == LtiResourceLink.platform_id)
            .join(Deployment, Deployment.platform_id == LtiResourceLink.platform_id)
        )
        # Two queries, not one OR: each then reads its few rows by index, not the whole table.
        new_links = [
            *session.execute(links.where(LtiResourceLink.id > seen["link"])),
            *session.execute(links.where(Deployment.id > seen["deployment"])),
        ]
        for row_id, link_id, context_id, issuer, deployment_id in new_links:
            if (_LINK, row_id, deployment_id) in self._keyed:
                continue
            self._keyed.add((_LINK, row_id, deployment_id))
            entry = _Entry(_LINK, row_id, deployment_id)
            key = self._key(ActivityKind.RESOURCE_LINK, issuer, deployment_id, link_id)
            self._entries[(ActivityKind.RESOURCE_LINK, key)] = entry
            if context_id is None:
                # A launch without a context: its statements name the link as the course.
                course = self._key(ActivityKind.COURSE, issuer, deployment_id, link_id)
                self._entries[(ActivityKind.COURSE, course)] = _Entry(
                    _LINK_COURSE, row_id, deployment_id
                )
        # A course carries its own issuer and deployment: one IRI per row.
        contexts = sa.select(
            LtiContext.id, LtiContext.context_id, LtiContext.issuer, LtiContext.deployment_id
        ).where(LtiContext.id > seen["context"])
        for row_id, context_id, issuer, deployment_id in session.execute(contexts):
            if (_CONTEXT, row_id, deployment_id) in self._keyed:
                continue
            self._keyed.add((_CONTEXT, row_id, deployment_id))
            key = self._key(ActivityKind.COURSE, issuer, deployment_id, context_id)
            self._entries[(ActivityKind.COURSE, key)] = _Entry(_CONTEXT, row_id, deployment_id)
        self._seen = now

    def _load(
        self, session: Session, kind: ActivityKind, key: uuid.UUID, entry: _Entry
    ) -> LmsActivity | None:
        """Read the entry's row as it is now; None if it is gone or no longer has this UUID."""
        if entry.source == _CONTEXT:
            row = session.execute(
                sa.select(LtiContext.context_id, LtiContext.title, LtiContext.issuer).where(
                    LtiContext.id == entry.row_id
                )
            ).one_or_none()
            if row is None or self._key(kind, row[2], entry.deployment_id, row[0]) != key:
                return None
            return LmsActivity(self.iri(kind, key), kind, row[1])
        link = session.execute(
            sa.select(LtiResourceLink, Platform.issuer)
            .join(Platform, Platform.id == LtiResourceLink.platform_id)
            .where(LtiResourceLink.id == entry.row_id)
        ).one_or_none()
        if link is None:
            return None
        row, issuer = link
        if self._key(kind, issuer, entry.deployment_id, row.resource_link_id) != key:
            return None
        if entry.source == _LINK_COURSE:
            return LmsActivity(self.iri(kind, key), kind, None)
        custom = row.custom if isinstance(row.custom, dict) else {}
        return LmsActivity(
            self.iri(kind, key),
            kind,
            row.title,
            resource_link_id=row.resource_link_id,
            framework_code=_text(custom.get("framework")),
            epreuve_code=_text(custom.get("epreuve")),
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
