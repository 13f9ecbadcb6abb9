"""Ed25519 keys as Multikey verification methods (W3C Controlled Identifiers, Multikey)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lti_tool.certification.ob3.multibase import base58btc, from_base58btc

MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
# The multicodec prefix of an Ed25519 public key (0xed, as an unsigned varint).
_ED25519_PUB = b"\xed\x01"


def generate_key() -> Ed25519PrivateKey:
    """Return a new Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def public_key_multibase(public_key: Ed25519PublicKey) -> str:
    """Return the key's ``publicKeyMultibase``: base58btc of the multicodec key (``z6Mk…``)."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base58btc(_ED25519_PUB + raw)


def public_key_from_multibase(text: str) -> Ed25519PublicKey:
    """Read a ``publicKeyMultibase``; raise ``ValueError`` unless it is an Ed25519 key."""
    data = from_base58btc(text)
    if not data.startswith(_ED25519_PUB) or len(data) != len(_ED25519_PUB) + 32:
        raise ValueError("not an Ed25519 multikey")
    return Ed25519PublicKey.from_public_bytes(data[len(_ED25519_PUB) :])


def multikey_document(
    key_url: str, controller: str, public_key: Ed25519PublicKey
) -> dict[str, Any]:
    """Return the Multikey document served at ``key_url`` (the proofs' verificationMethod)."""
    return {
        "@context": MULTIKEY_CONTEXT,
        "id": key_url,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": public_key_multibase(public_key),
    }
