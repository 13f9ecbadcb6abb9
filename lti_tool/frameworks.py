"""Frameworks known to this Jalon: import, look-up and the bundled ones.

Stored frameworks are parsed once per process and version (the cache is keyed by the
document's checksum), so serving an IRI never re-validates a file.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.models import FrameworkRecord
from referentiel.exports.case import export_case
from referentiel.exports.yaml_file import to_document
from referentiel.loader import load_document, load_file
from referentiel.model import Framework
from xapi.prepared import Prepared


class FrameworkConflictError(ValueError):
    """The same code and version is stored with other content."""


def checksum(document: dict[str, Any]) -> str:
    """Return a stable digest of a framework document."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def import_framework(
    session: Session, framework: Framework, *, replace: bool = False
) -> FrameworkRecord:
    """Store a framework as the current version of its code.

    Importing the same content again changes nothing. The same code and version with
    other content is refused unless ``replace`` is given, so a correction is deliberate.
    """
    document = json.loads(json.dumps(to_document(framework), default=str))
    digest = checksum(document)
    identity = framework.identity
    record = session.scalar(
        sa.select(FrameworkRecord).where(
            FrameworkRecord.code == identity.code, FrameworkRecord.version == identity.version
        )
    )
    if record is not None and record.checksum != digest and not replace:
        raise FrameworkConflictError(
            f"{identity.code} version {identity.version} is already stored with other content; "
            "give it a new version, or replace it explicitly"
        )
    if record is None:
        record = FrameworkRecord(code=identity.code, version=identity.version)
        session.add(record)
    record.title = identity.title
    record.document = document
    record.checksum = digest
    session.execute(
        sa.update(FrameworkRecord)
        .where(FrameworkRecord.code == identity.code, FrameworkRecord.version != identity.version)
        .values(is_current=False)
    )
    record.is_current = True
    session.flush()
    return record


def current_records(session: Session) -> list[FrameworkRecord]:
    """Return the current version of every stored framework, by code."""
    query = (
        sa.select(FrameworkRecord).where(FrameworkRecord.is_current).order_by(FrameworkRecord.code)
    )
    return list(session.scalars(query))


def find_record(session: Session, code: str) -> FrameworkRecord | None:
    """Return the current version of a framework, or ``None``."""
    return session.scalar(
        sa.select(FrameworkRecord).where(FrameworkRecord.code == code, FrameworkRecord.is_current)
    )


_PARSED: dict[str, Framework] = {}


def framework_of(record: FrameworkRecord) -> Framework:
    """Return the framework a stored record holds, parsed once per process."""
    framework = _PARSED.get(record.checksum)
    if framework is None:
        framework = load_document(record.document, source=f"stored framework {record.code}")
        if len(_PARSED) >= 32:
            _PARSED.clear()
        _PARSED[record.checksum] = framework
    return framework


_CURRENT = Prepared(
    sa.select(FrameworkRecord.id, FrameworkRecord.checksum).where(
        FrameworkRecord.code == sa.bindparam("code"), FrameworkRecord.is_current
    )
)


_PACKAGES: dict[tuple[str, str], dict[str, Any]] = {}


def case_package(checksum: str, framework: Framework, base_url: str) -> dict[str, Any]:
    """Return a version's CASE package, built once per process, version and base URL.

    The browsable IRIs and the CASE API serve this one object, so a consumer reading either
    sees the same identifiers and URIs. Shared: callers copy before they change anything.
    """
    key = (checksum, base_url)
    package = _PACKAGES.get(key)
    if package is None:
        if len(_PACKAGES) >= 16:
            _PACKAGES.clear()
        package = _PACKAGES[key] = export_case(framework, base_url)
    return package


UNREAD = ""  # the caller has not read the current checksum


def current_framework(
    session: Session, code: str, checksum: str | None = UNREAD
) -> tuple[str, Framework] | None:
    """Return the checksum and the parsed framework of a code's current version, or ``None``.

    For the hot paths (a launch): one narrow query when this process has already parsed
    that version; the deferred document is read only the first time. A caller that read
    the current checksum already (the launch's one read) passes it, None if there is no
    current version: no query at all then.
    """
    if checksum is None:
        return None
    if checksum in _PARSED:
        return checksum, _PARSED[checksum]
    row = _CURRENT.first(session.connection(), {"code": code})
    if row is None:
        return None
    framework = _PARSED.get(row["checksum"])
    if framework is None:
        record = session.get(FrameworkRecord, row["id"])
        if record is None:  # pragma: no cover (deleted in between)
            return None
        framework = framework_of(record)
    return row["checksum"], framework


def bundled_frameworks() -> list[Framework]:
    """Return the frameworks shipped in ``referentiel/data``."""
    data = resources.files("referentiel") / "data"
    return [
        load_file(str(entry))
        for entry in sorted(data.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]


def install_bundled(session: Session) -> list[FrameworkRecord]:
    """Import the shipped frameworks whose code is not stored yet."""
    installed = []
    for framework in bundled_frameworks():
        if find_record(session, framework.code) is None:
            installed.append(import_framework(session, framework))
    return installed
