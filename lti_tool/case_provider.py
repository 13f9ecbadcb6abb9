"""The CASE 1.1 objects of the installed référentiels, found by their identifier.

The CASE provider API (``lti_tool.views.case_api``) answers from the very packages the CASE
export builds (``lti_tool.frameworks.case_package``): nothing is mapped a second time, so the
API, an exported file and the browsable IRIs agree on every ``identifier`` and ``uri``.

Only the current version of each référentiel is indexed. Identifiers are derived from the
référentiel's code, not its version (``referentiel.identifiers``), so a newer version answers
for the same ids and a consumer keeps its alignments across versions.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.frameworks import case_package, framework_of
from lti_tool.models import FrameworkRecord

# The CFDefinitions lists, each served by its own endpoint. The export writes none today; a
# framework imported with some (or a later export) gets them served without a code change.
DEFINITIONS = ("CFConcepts", "CFSubjects", "CFLicenses", "CFItemTypes", "CFAssociationGroupings")


@dataclass(frozen=True, slots=True)
class Found:
    """One CASE object, the list of the package it sits in, and that package."""

    collection: str  # "CFItems", "CFAssociations", "CFRubrics" or one of DEFINITIONS
    value: dict[str, Any]
    package: dict[str, Any]


@dataclass(slots=True)
class CaseIndex:
    """Every current package, and each of its objects by identifier."""

    packages: list[dict[str, Any]]
    etag: str
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, Found] = field(default_factory=dict)
    # An item's identifier → the associations it is the origin or the destination of.
    links: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Answers already serialised, by endpoint and identifier: a package is ~300 kB of JSON.
    texts: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def text(self, key: tuple[str, str], body: Callable[[], dict[str, Any]]) -> bytes:
        """Return the JSON of an answer, serialised once for this index."""
        text = self.texts.get(key)
        if text is None:
            text = self.texts[key] = dumps(body())
        return text

    def find(self, collection: str, identifier: str) -> Found | None:
        """Return the object of that collection with that identifier, or ``None``."""
        found = self.objects.get(identifier)
        return found if found is not None and found.collection == collection else None


_CURRENT = (
    sa.select(FrameworkRecord.id, FrameworkRecord.code, FrameworkRecord.checksum)
    .where(FrameworkRecord.is_current)
    .order_by(FrameworkRecord.code)
)
_INDEXES: dict[tuple[tuple[tuple[str, str], ...], str], CaseIndex] = {}
_LOCK = threading.Lock()


def case_index(session: Session, base_url: str) -> CaseIndex:
    """Return the index of the current référentiels: one narrow query once it is built.

    Keyed by every current (code, checksum) and the base URL, so importing a version, or a
    new référentiel, is seen by the next request of every process.
    """
    rows = session.execute(_CURRENT).all()
    key = (tuple((row.code, row.checksum) for row in rows), base_url)
    index = _INDEXES.get(key)
    if index is None:
        packages = []
        for row in rows:
            record = session.get(FrameworkRecord, row.id)
            if record is None:  # pragma: no cover (deleted in between)
                continue
            packages.append(case_package(row.checksum, framework_of(record), base_url))
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        index = build_index(packages, digest)
        with _LOCK:
            if len(_INDEXES) >= 8:
                _INDEXES.clear()
            _INDEXES[key] = index
    return index


def build_index(packages: list[dict[str, Any]], etag: str) -> CaseIndex:
    """Index packages' documents and objects by identifier, and items by their associations."""
    index = CaseIndex(packages=packages, etag=etag)
    for package in packages:
        index.documents[package["CFDocument"]["identifier"]] = package
        for collection, value in _objects(package):
            index.objects[value["identifier"]] = Found(collection, value, package)
        for association in package.get("CFAssociations", []):
            for end in ("originNodeURI", "destinationNodeURI"):
                index.links.setdefault(association[end]["identifier"], []).append(association)
    return index


def _objects(package: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for collection in ("CFItems", "CFAssociations", "CFRubrics"):
        for value in package.get(collection, []):
            yield collection, value
    definitions = package.get("CFDefinitions", {})
    for collection in DEFINITIONS:
        for value in definitions.get(collection, []):
            yield collection, value


def document_link(package: dict[str, Any]) -> dict[str, str]:
    """Return the LinkURI of a package's document, as its associations already point to it."""
    document = package["CFDocument"]
    return {key: document[key] for key in ("title", "identifier", "uri")}


def children(collection: str, found: Found) -> list[dict[str, Any]]:
    """Return a definition and those below it by ``hierarchyCode`` (the CASE *Set* answers)."""
    code = found.value.get("hierarchyCode")
    values = found.package.get("CFDefinitions", {}).get(collection, [])
    below = [
        v
        for v in values
        if code and v is not found.value and str(v.get("hierarchyCode", "")).startswith(f"{code}.")
    ]
    return [found.value, *below]


def dumps(body: dict[str, Any]) -> bytes:
    """Serialise an answer: UTF-8, compact, in the export's key order."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
