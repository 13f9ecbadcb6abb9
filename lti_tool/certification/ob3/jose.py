"""VC-JOSE-COSE: a credential secured as a compact JWS (``typ`` ``vc+jwt``, ``cty`` ``vc``).

The payload is the credential itself (no ``vc`` claim: VC-JOSE-COSE forbids it); the
``kid`` is the key's URL, the same verification method the Data Integrity proofs name. The
algorithm is ``Ed25519``, RFC 9864's fully specified name for EdDSA over Ed25519.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

ALGORITHM = "Ed25519"
TYP = "vc+jwt"
CTY = "vc"


class JwtError(ValueError):
    """A token that is not a compact JWS, or whose signature does not verify."""


def sign_jwt(document: dict[str, Any], private_key: Ed25519PrivateKey, *, kid: str) -> str:
    """Return ``document`` secured as a ``vc+jwt`` compact JWS signed with ``private_key``."""
    header = {"alg": ALGORITHM, "typ": TYP, "cty": CTY, "kid": kid}
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return jws.serialize_compact(
        header, payload, OKPKey.import_key(private_key), algorithms=[ALGORITHM]
    )


def read_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the protected header and the credential of a token, not yet verified."""
    try:
        compact = jws.extract_compact(token.strip().encode())
        payload = json.loads(compact.payload)
    except (JoseError, ValueError) as error:
        raise JwtError(f"not a compact JWS with a JSON payload: {error}") from error
    if not isinstance(payload, dict):
        raise JwtError("the payload is not a JSON object")
    return dict(compact.protected), payload


def verify_jwt(token: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """Check a token's signature; return its credential or raise ``JwtError`` with the reason."""
    header, _payload = read_jwt(token)
    if header.get("alg") != ALGORITHM:
        raise JwtError(f"the algorithm is not {ALGORITHM}: {header.get('alg')!r}")
    try:
        compact = jws.deserialize_compact(
            token.strip(), OKPKey.import_key(public_key), algorithms=[ALGORITHM]
        )
    except JoseError as error:
        raise JwtError(f"the signature does not match the token: {error}") from error
    credential: dict[str, Any] = json.loads(compact.payload)
    return credential
