"""The keys that sign credentials: one current, retired ones kept published.

A credential names the key that signed it (its ``verificationMethod``), and a holder may
show it years later: a retired key therefore stays published for good, only no longer
signs. These are Ed25519 keys of their own, never the LTI tool key (``lti_tool.lti.keys``),
stored the same way (PKCS#8 PEM in the database). Parsing a PEM costs more than a
signature, so each private key is loaded once per process and kept by its ``key_id``.
"""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from lti_tool.certification import links
from lti_tool.certification.models import CredentialKey
from lti_tool.certification.ob3 import generate_key, public_key_multibase
from lti_tool.db import utcnow

_loaded: dict[str, Ed25519PrivateKey] = {}
_loaded_lock = threading.Lock()


def _create(db: Session) -> CredentialKey:
    private = generate_key()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    key = CredentialKey(
        key_id=public_key_multibase(private.public_key()), private_key_pem=pem, is_current=True
    )
    db.add(key)
    db.flush()
    with _loaded_lock:
        _loaded[key.key_id] = private
    return key


def current_key(db: Session) -> CredentialKey:
    """Return the key credentials are signed with, creating the first one on first need."""
    key = db.scalars(
        sa.select(CredentialKey)
        .where(CredentialKey.is_current)
        .order_by(CredentialKey.id.desc())
        .limit(1)
    ).first()
    return key or _create(db)


def rotate_key(db: Session, now: dt.datetime | None = None) -> CredentialKey:
    """Make a new current key and retire the others, which stay published; return it."""
    when = now or utcnow()
    for key in db.scalars(sa.select(CredentialKey).where(CredentialKey.is_current)):
        key.is_current = False
        key.retired_at = when
    return _create(db)


def all_keys(db: Session) -> list[CredentialKey]:
    """Return every key, newest first: the current one and those it replaced."""
    return list(db.scalars(sa.select(CredentialKey).order_by(CredentialKey.id.desc())))


def find_key(db: Session, key_id: str) -> CredentialKey | None:
    """Return the key whose multibase public key is ``key_id``, current or retired."""
    return db.scalar(sa.select(CredentialKey).where(CredentialKey.key_id == key_id))


def private_key(key: CredentialKey) -> Ed25519PrivateKey:
    """Return the loaded private key, parsing its PEM once per process."""
    loaded = _loaded.get(key.key_id)
    if loaded is None:
        parsed = serialization.load_pem_private_key(key.private_key_pem.encode(), password=None)
        if not isinstance(parsed, Ed25519PrivateKey):
            raise TypeError(f"credential key {key.id} is not an Ed25519 key")
        with _loaded_lock:
            loaded = _loaded.setdefault(key.key_id, parsed)
    return loaded


def public_key(key: CredentialKey) -> Ed25519PublicKey:
    """Return the public half of a key."""
    return private_key(key).public_key()


def verification_method(base_url: str, key: CredentialKey) -> str:
    """Return the URL a proof names for this key (its published Multikey document)."""
    return links.key_url(base_url, key.key_id)


def key_id_of(base_url: str, method: str) -> str | None:
    """Return the ``key_id`` a verification method URL of this Jalon names, else None."""
    prefix = links.key_url(base_url, "")
    if not method.startswith(prefix):
        return None
    key_id = method.removeprefix(prefix).split("#", 1)[0]
    return key_id or None
