"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C VC-DI-EdDSA).

The document and the proof options are canonicalized with RDFC-1.0 (pyld's URDNA2015, which
produces the same N-Quads for every literal without control characters: those are refused
below rather than signed differently from other implementations), hashed with SHA-256, and
the concatenated hashes are signed with Ed25519. Contexts come from ``loader`` only.

Speed, without changing a byte: pyld caches a processed context per (context, active
context's ``_uuid``), but a type-scoped context (``@propagate: false``, which every OB 3.0
class has) is applied to a fresh clone with a fresh ``_uuid``, so every nested object of every
credential re-processed its class's context (~75 % of the time). ``loader.Processor`` memoizes
``_process_context`` on the (immutable, frozen) active context and the local context, so the
same frozen result - hence the same ``_uuid`` - comes back and pyld's own caches hit too. The
proof options' hash is memoized as well: within a batch they differ only by ``created``.
Every cache is bounded and safe across threads (gunicorn threads sign concurrently): LRUs
behind a lock, immutable values (a processed context is frozen); see ``loader.Processor``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pyld import jsonld

from lti_tool.certification.ob3.loader import Lru, Processor, document_loader
from lti_tool.certification.ob3.multibase import base58btc, from_base58btc

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PURPOSE = "assertionMethod"
# Characters whose escaping differs between URDNA2015 (pyld) and RDFC-1.0's canonical
# N-Quads; none belongs in a credential.
_CONTROL = frozenset(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
# The proof options' hash: a batch shares them (only ``created`` differs between batches).
_options_hashes = Lru(256)


class ProofError(ValueError):
    """A proof is missing, malformed or does not match the document."""


def timestamp(moment: datetime) -> str:
    """Return an XML Schema dateTime in UTC to the second: ``2026-12-06T17:00:00Z``."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime: give a timezone-aware one")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def canonicalize(document: dict[str, Any]) -> str:
    """Return the RDFC-1.0 canonical N-Quads of a JSON-LD document, contexts offline."""
    for text in _strings(document):
        if not _CONTROL.isdisjoint(text):
            raise ProofError("a control character in a value: it cannot be canonicalized")
    try:
        result = Processor().normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": document_loader,
            },
        )
    except jsonld.JsonLdError as error:
        raise ProofError(f"the document is not valid JSON-LD: {_root_cause(error)}") from error
    return str(result)


def _root_cause(error: BaseException) -> str:
    """Return the innermost reason pyld wrapped (an unknown context URL, for one)."""
    seen: BaseException = error
    for _ in range(20):
        inner = getattr(seen, "cause", None) or seen.__cause__
        if not isinstance(inner, BaseException):
            break
        seen = inner
    if isinstance(seen, jsonld.JsonLdError):
        return str(getattr(seen, "message", seen))
    return str(seen)


def _hash_data(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    config = {"@context": document["@context"], **options}
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    return _options_hash(config) + hashlib.sha256(canonicalize(unsecured).encode()).digest()


def _options_hash(config: dict[str, Any]) -> bytes:
    """SHA-256 of the proof configuration's N-Quads, memoized on its exact JSON."""
    key = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    found: bytes | None = _options_hashes.get(key)
    if found is None:
        found = hashlib.sha256(canonicalize(config).encode()).digest()
        _options_hashes.put(key, found)
    return found


def sign(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """Return a copy of ``document`` secured with an ``eddsa-rdfc-2022`` proof.

    The proof is a list of one (the OB 3.0 schema types ``proof`` as an array); a document
    that already has proofs keeps them and gains this one.
    """
    if "@context" not in document:
        raise ProofError("the document has no @context")
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": PURPOSE,
    }
    signature = private_key.sign(_hash_data(document, options))
    secured: dict[str, Any] = _copy(document)
    earlier = secured.pop("proof", [])
    proofs = earlier if isinstance(earlier, list) else [earlier]
    secured["proof"] = [*proofs, {**options, "proofValue": base58btc(signature)}]
    return secured


def _copy(value: Any) -> Any:
    """Return a deep copy of a JSON tree, several times faster than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return copy.deepcopy(value)


def proofs_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the document's ``eddsa-rdfc-2022`` proofs; raise ``ProofError`` if none."""
    proof = document.get("proof")
    found = proof if isinstance(proof, list) else [proof] if isinstance(proof, dict) else []
    ours = [
        p
        for p in found
        if isinstance(p, dict)
        and p.get("type") == PROOF_TYPE
        and p.get("cryptosuite") == CRYPTOSUITE
    ]
    if not ours:
        raise ProofError("no DataIntegrityProof with the eddsa-rdfc-2022 cryptosuite")
    return ours


def verify_proof(
    document: dict[str, Any], proof: dict[str, Any], public_key: Ed25519PublicKey
) -> None:
    """Check one proof of ``document`` with ``public_key``; raise ``ProofError`` with the reason."""
    if proof.get("proofPurpose") != PURPOSE:
        raise ProofError(f"the proof's purpose is not {PURPOSE}")
    value = proof.get("proofValue")
    if not isinstance(value, str):
        raise ProofError("the proof has no proofValue")
    try:
        signature = from_base58btc(value)
    except ValueError as error:
        raise ProofError(f"the proofValue is not base58btc: {error}") from error
    if len(signature) != 64:
        raise ProofError("the proofValue is not a 64-byte Ed25519 signature")
    options = {key: item for key, item in proof.items() if key != "proofValue"}
    unsecured = {key: item for key, item in document.items() if key != "proof"}
    try:
        public_key.verify(signature, _hash_data(unsecured, options))
    except InvalidSignature:
        raise ProofError("the signature does not match the document") from None
