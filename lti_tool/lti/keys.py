"""Jalon's own RSA keys: the current one signs, retired ones stay published for a while.

Platforms cache a tool's JWKS, so a key that just stopped signing must stay published
until their caches have expired (the grace period). Parsing a PEM costs ~40 ms, so each
private key is loaded once per process and kept by its ``kid``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import ToolKey

KEY_SIZE = 2048
_loaded: dict[str, rsa.RSAPrivateKey] = {}
_loaded_lock = threading.Lock()


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def thumbprint(jwk: dict[str, Any]) -> str:
    """Return the RFC 7638 thumbprint of an RSA JWK (SHA-256, base64url)."""
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def public_jwk(private_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """Return the public JWK of a key, with its thumbprint as ``kid``."""
    numbers = private_key.public_key().public_numbers()
    jwk: dict[str, Any] = {"kty": "RSA", "e": _b64(numbers.e), "n": _b64(numbers.n)}
    jwk.update(kid=thumbprint(jwk), alg="RS256", use="sig")
    return jwk


def generate(session: Session) -> ToolKey:
    """Create a new current key (RSA-2048) and flush it."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    jwk = public_jwk(private_key)
    key = ToolKey(kid=jwk["kid"], private_key_pem=pem, public_jwk=jwk, is_current=True)
    session.add(key)
    session.flush()
    with _loaded_lock:
        _loaded[key.kid] = private_key
    return key


def current(session: Session) -> ToolKey:
    """Return the key Jalon signs with, creating the first one on first need."""
    key = session.scalars(
        sa.select(ToolKey).where(ToolKey.is_current).order_by(ToolKey.id.desc()).limit(1)
    ).first()
    return key or generate(session)


def rotate(session: Session) -> tuple[ToolKey, list[ToolKey]]:
    """Add a new current key and retire the others; return it and the keys it retired."""
    retired = list(session.scalars(sa.select(ToolKey).where(ToolKey.is_current)))
    now = utcnow()
    for key in retired:
        key.is_current = False
        key.retired_at = now
    return generate(session), retired


def published(session: Session, grace: dt.timedelta) -> list[dict[str, Any]]:
    """Return the public JWKs to publish: current keys and those retired within ``grace``."""
    current(session)
    since = utcnow() - grace
    keys = session.scalars(
        sa.select(ToolKey)
        .where(sa.or_(ToolKey.is_current, ToolKey.retired_at >= since))
        .order_by(ToolKey.id.desc())
    )
    return [dict(key.public_jwk) for key in keys]


def private_key(key: ToolKey) -> rsa.RSAPrivateKey:
    """Return the loaded private key object, parsing its PEM once per process."""
    loaded = _loaded.get(key.kid)
    if loaded is None:
        parsed = serialization.load_pem_private_key(key.private_key_pem.encode(), password=None)
        if not isinstance(parsed, rsa.RSAPrivateKey):
            raise TypeError(f"tool key {key.kid} is not an RSA key")
        with _loaded_lock:
            loaded = _loaded.setdefault(key.kid, parsed)
    return loaded
