"""Revocation lists (W3C Bitstring Status List): where each credential's bit lives.

Each credential gets an index in a list of 131,072 bits. Indexes are drawn at random
among the free ones rather than in issuance order, so that a list's readers cannot tell
which credentials were issued together, or in what order. A list is closed to new
credentials once half of it is used: a random draw then finds a free bit within two tries
on average, and the used bits still hide among a list of 131,072. Allocation locks the
list's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway), and
the unique (list, index) constraint of ``issued_credentials`` stands behind it.

The published list is a signed ``BitstringStatusListCredential``. Its ``validFrom`` and
proof date are the list's last change, so signing is deterministic: each process signs a
list once per change and keeps the document, and every process serves the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification import keys, links
from lti_tool.certification.models import IssuedCredential, StatusList
from lti_tool.certification.ob3 import sign
from lti_tool.certification.ob3.status_list import (
    encode_list,
    new_bitstring,
    set_bit,
    status_list_credential,
)
from lti_tool.db import utcnow

LIST_SIZE = 131_072  # bits: the minimum the specification recommends for privacy
PURPOSE = "revocation"
_CHECK_CHUNK = 500  # indexes per IN (…) when checking draws against the issued ones


@dataclass(frozen=True)
class Slot:
    """A status list entry given to one credential."""

    list_id: int
    index: int


def _open_list(db: Session) -> StatusList:
    """Return the newest list still open to new credentials, locked; create one if none."""
    status_list = db.scalars(
        sa.select(StatusList)
        .where(StatusList.purpose == PURPOSE, StatusList.next_index < StatusList.size // 2)
        .order_by(StatusList.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if status_list is None:
        status_list = StatusList(
            purpose=PURPOSE, size=LIST_SIZE, bits=new_bitstring(LIST_SIZE), next_index=0
        )
        db.add(status_list)
        db.flush()
    return status_list


def _taken(db: Session, list_id: int, indexes: Sequence[int]) -> set[int]:
    taken: set[int] = set()
    for start in range(0, len(indexes), _CHECK_CHUNK):
        chunk = indexes[start : start + _CHECK_CHUNK]
        taken.update(
            db.scalars(
                sa.select(IssuedCredential.status_index).where(
                    IssuedCredential.status_list_id == list_id,
                    IssuedCredential.status_index.in_(chunk),
                )
            )
        )
    return taken


def allocate(db: Session, count: int) -> list[Slot]:
    """Give ``count`` credentials a free random index each, in as few lists as possible.

    The caller must store each slot in an ``IssuedCredential`` in the same transaction:
    the list's row stays locked until then.
    """
    slots: list[Slot] = []
    while len(slots) < count:
        status_list = _open_list(db)
        room = status_list.size // 2 - status_list.next_index
        wanted = min(room, count - len(slots))
        chosen: set[int] = set()
        tried: set[int] = set()
        while len(chosen) < wanted:
            draws: list[int] = []
            while len(draws) < wanted - len(chosen):
                index = secrets.randbelow(status_list.size)
                if index not in tried:
                    tried.add(index)
                    draws.append(index)
            chosen.update(set(draws) - _taken(db, status_list.id, draws))
        status_list.next_index += wanted
        slots.extend(Slot(status_list.id, index) for index in chosen)
    return slots


def set_revoked(
    db: Session, list_id: int, indexes: Iterable[int], now: dt.datetime | None = None
) -> None:
    """Set credentials' revocation bits in one list, its row locked while it changes."""
    status_list = db.scalars(
        sa.select(StatusList).where(StatusList.id == list_id).with_for_update()
    ).one()
    bits = status_list.bits
    for index in indexes:
        bits = set_bit(bits, index, True)
    status_list.bits = bits
    status_list.updated_at = now or utcnow()
    db.flush()


@dataclass(frozen=True)
class PublishedList:
    """A signed status list credential, as served: its JSON bytes and their ETag."""

    body: bytes
    etag: str
    last_modified: dt.datetime


_signed: dict[tuple[int, str, str, str], PublishedList] = {}
_signed_lock = threading.Lock()


def published(db: Session, list_id: int, base_url: str) -> PublishedList | None:
    """Return the signed list ``list_id`` (signed again only after it changed), or None."""
    status_list = db.get(StatusList, list_id)
    if status_list is None:
        return None
    key = keys.current_key(db)
    changed = status_list.updated_at
    cache_key = (list_id, changed.isoformat(), key.key_id, base_url)
    found = _signed.get(cache_key)
    if found is not None:
        return found
    url = links.status_list_url(base_url, list_id)
    document = status_list_credential(
        url=url,
        issuer_id=links.issuer_url(base_url),
        encoded_list=encode_list(status_list.bits),
        valid_from=changed,
    )
    signed = sign(
        document,
        keys.private_key(key),
        verification_method=keys.verification_method(base_url, key),
        created=changed,
    )
    body = json.dumps(signed, ensure_ascii=False, separators=(",", ":")).encode()
    found = PublishedList(body, hashlib.sha256(body).hexdigest()[:32], changed)
    with _signed_lock:
        if len(_signed) >= 64:
            _signed.clear()
        _signed[cache_key] = found
    return found
