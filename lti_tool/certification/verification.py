"""Verifying a credential Jalon issued: the stored one, or a file someone presents.

The signature is checked with the key the proof names, resolved only among this Jalon's
own published keys (current or retired); the status with this Jalon's own status lists,
read from the database. A file is a credential's JSON or a PNG badge with the credential
baked in (Open Badges 3.0 baking: an ``iTXt`` chunk ``openbadgecredential``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from lti_tool.certification import keys, links
from lti_tool.certification.models import IssuedCredential, StatusList
from lti_tool.certification.ob3.baking import unbake_png
from lti_tool.certification.ob3.status_list import get_bit
from lti_tool.certification.ob3.verification import Verification, verify

MAX_FILE_BYTES = 1024 * 1024  # a credential is a few kB, a baked badge some tens
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class State(StrEnum):
    """What a credential's public page says of it."""

    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"


def state_of(credential: IssuedCredential, now: dt.datetime) -> State:
    """Return whether a stored credential is valid, revoked or expired at ``now``."""
    if credential.revoked_at is not None:
        return State.REVOKED
    if credential.valid_until is not None and credential.valid_until <= now:
        return State.EXPIRED
    return State.VALID


class PresentedFileError(ValueError):
    """What someone presented is not a credential file; ``field`` names the form field."""

    def __init__(self, field: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


def read_presented(text: str, upload: bytes | None) -> dict[str, Any]:
    """Return the credential in a pasted JSON text or an uploaded JSON or baked PNG file."""
    if upload:
        field = "fichier"
        if len(upload) > MAX_FILE_BYTES:
            raise PresentedFileError(field, "too large", status=413)
        if upload.startswith(PNG_SIGNATURE):
            try:
                baked = unbake_png(upload)
            except ValueError as error:
                raise PresentedFileError(field, f"png: {error}") from error
            if baked is None:
                raise PresentedFileError(field, "png: no credential baked in this image")
            return _parse(field, baked)
        return _parse(field, upload)
    if text.strip():
        if len(text.encode()) > MAX_FILE_BYTES:
            raise PresentedFileError("document", "too large", status=413)
        return _parse("document", text)
    raise PresentedFileError("document", "empty")


def _parse(field: str, data: str | bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(data, dict):
        return data
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PresentedFileError(field, f"not JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise PresentedFileError(field, "not a JSON object")
    return parsed


@dataclass(frozen=True)
class Resolver:
    """Look keys and status bits up in this Jalon's database, once each per verification."""

    db: Session
    base_url: str

    def key(self, method: str) -> Ed25519PublicKey | None:
        """Return the public key a verification method of this Jalon names, else None."""
        key_id = keys.key_id_of(self.base_url, method)
        found = keys.find_key(self.db, key_id) if key_id else None
        return keys.public_key(found) if found is not None else None

    def status(self, list_url: str, index: int) -> bool | None:
        """Return a status bit of one of this Jalon's lists (None: not one of its lists)."""
        prefix = links.status_list_url(self.base_url, 0).removesuffix("0")
        list_id = list_url.removeprefix(prefix)
        # A list id of this Jalon: ASCII digits a 64-bit key holds ("²" is a digit to isdigit).
        if not list_url.startswith(prefix) or not (
            0 < len(list_id) <= 18 and list_id.isascii() and list_id.isdigit()
        ):
            return None
        status_list = self.db.get(StatusList, int(list_id))
        if status_list is None or not 0 <= index < status_list.size:
            return None
        return bool(get_bit(status_list.bits, index))


def verify_document(
    db: Session, document: dict[str, Any], base_url: str, now: dt.datetime
) -> Verification:
    """Verify a credential's proof, status and dates against this Jalon's keys and lists."""
    resolver = Resolver(db, base_url)
    return verify(document, resolve_key=resolver.key, status_of=resolver.status, now=now)


def display(document: dict[str, Any]) -> dict[str, Any]:
    """Return what a page shows of a credential, read from its JSON (missing parts empty)."""
    subject = _dict(document.get("credentialSubject"))
    achievement = _dict(subject.get("achievement"))
    issuer = document.get("issuer")
    issuer_data = issuer if isinstance(issuer, dict) else {"id": issuer}
    results = subject.get("result")
    return {
        "name": _text(document.get("name")) or _text(achievement.get("name")),
        "holder": _text(subject.get("name")),
        "is_hashed_recipient": bool(subject.get("identifier")),
        "achievement": _text(achievement.get("name")),
        "achievement_id": _text(achievement.get("id")),
        "description": _text(achievement.get("description")),
        "criteria": _text(_dict(achievement.get("criteria")).get("narrative")),
        "alignments": [
            {
                "name": _text(item.get("targetName")),
                "code": _text(item.get("targetCode")),
                "url": _text(item.get("targetUrl")),
            }
            for item in achievement.get("alignment") or []
            if isinstance(item, dict)
        ],
        "results": [
            _text(item.get("value")) or _text(item.get("status"))
            for item in (results if isinstance(results, list) else [])
            if isinstance(item, dict)
        ],
        "issuer": _text(issuer_data.get("name")) or _text(issuer_data.get("id")),
        "issuer_url": _text(issuer_data.get("url")),
        "valid_from": _text(document.get("validFrom")),
        "valid_until": _text(document.get("validUntil")),
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
