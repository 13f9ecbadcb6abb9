"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C VC-DI-EdDSA).

The document and the proof options are canonicalized with RDFC-1.0 (pyld's URDNA2015, which
produces the same N-Quads for every literal without control characters: those are refused
below rather than signed differently from other implementations), hashed with SHA-256, and
the concatenated hashes are signed with Ed25519. Contexts come from ``loader`` only.

Speed, without changing a byte: pyld caches a processed context per (context, active
context's ``_uuid``), but a type-scoped context (``@propagate: false``, which every OB 3.0
class has) is applied to a fresh clone with a fresh ``_uuid``, so every nested object of every
credential re-processed its class's context (~75 % of the time). ``_Processor`` memoizes
``_process_context`` on the (immutable, frozen) active context and the local context, so the
same frozen result - hence the same ``_uuid`` - comes back and pyld's own caches hit too. The
proof options' hash is memoized as well: within a batch they differ only by ``created``.
Both caches are bounded LRUs behind a lock (gunicorn threads sign concurrently); a processed
context is immutable, so sharing one between threads is safe.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pyld import jsonld

from lti_tool.certification.ob3.loader import document_loader
from lti_tool.certification.ob3.multibase import base58btc, from_base58btc

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PURPOSE = "assertionMethod"
# Characters whose escaping differs between URDNA2015 (pyld) and RDFC-1.0's canonical
# N-Quads; none belongs in a credential.
_CONTROL = frozenset(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))


_PROCESSED_MAX = 512
_OPTIONS_HASH_MAX = 256


class _Lru:
    """A small thread-safe LRU mapping (values are immutable or never mutated)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_processed = _Lru(_PROCESSED_MAX)
_IRIS_MAX = 20_000
_iris: dict[tuple[Any, ...], str | None] = {}
_MISSING = object()
_options_hashes = _Lru(_OPTIONS_HASH_MAX)


def _context_key(local_ctx: Any) -> tuple[Any, list[Any]] | None:
    """Key a local context: URLs by value, objects by identity (kept alive with the entry)."""
    items = local_ctx if isinstance(local_ctx, list) else [local_ctx]
    parts: list[Any] = []
    held: list[Any] = []
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, dict | jsonld.frozendict):
            # By identity: a term's scoped context lives in a frozen, cached active context, so
            # it is the same object each time; a document's own inline context is a fresh copy
            # (pyld copies its input) and merely misses. The entry holds it: no id is reused.
            parts.append(("object", id(item)))
            held.append(item)
        else:
            return None
    return (isinstance(local_ctx, list), tuple(parts)), held


class _Processor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor, with ``_process_context`` and ``_expand_iri`` memoized across documents.

    Both only for a frozen active context (identified by its ``_uuid``, a fresh UUID for each
    one pyld builds); ``_expand_iri`` only outside context processing (no ``local_ctx``), where
    it is a pure function. The IRI memo is a plain dict: one get or set is atomic under the GIL
    and its values are strings; it is emptied when it grows past its bound.
    """

    def _expand_iri(  # type: ignore[no-untyped-def]
        self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None
    ):
        if local_ctx or not isinstance(active_ctx, jsonld.frozendict):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        key = (active_ctx.get("_uuid"), value, base, vocab)
        if key[0] is None or not isinstance(value, str):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        found = _iris.get(key, _MISSING)
        if found is _MISSING:
            found = super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
            if len(_iris) >= _IRIS_MAX:
                _iris.clear()
            _iris[key] = found
        return found

    def _process_context(  # type: ignore[no-untyped-def]
        self,
        active_ctx,
        local_ctx,
        options,
        override_protected=False,
        propagate=True,
        validate_scoped=True,
        cycles=None,
    ):
        context_key = _context_key(local_ctx)
        if (
            cycles
            or context_key is None
            or not isinstance(active_ctx, jsonld.frozendict)
            or "_uuid" not in active_ctx
        ):
            return super()._process_context(
                active_ctx,
                local_ctx,
                options,
                override_protected,
                propagate,
                validate_scoped,
                cycles,
            )
        key = (
            active_ctx["_uuid"],
            context_key[0],
            override_protected,
            propagate,
            validate_scoped,
            options.get("base"),
            options.get("processingMode"),
        )
        entry = _processed.get(key)
        if (
            entry is not None
            and entry[0] is active_ctx
            and all(a is b for a, b in zip(entry[1], context_key[1], strict=True))
        ):
            return entry[2]
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        if isinstance(result, jsonld.frozendict):
            _processed.put(key, (active_ctx, context_key[1], result))
        return result


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
        result = _Processor().normalize(
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
    secured = _copy(document)
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
