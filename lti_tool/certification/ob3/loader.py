"""The JSON-LD contexts and the schema Jalon ships, the offline loader, a caching processor.

Signing and verifying never fetch anything: a context is a part of what a signature covers,
so a context served differently tomorrow must not change what verifies. The files under
``contexts/`` are byte copies of the published documents; their SHA-256 is checked when they
are first read, so an edited copy fails loudly instead of signing something else.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from functools import cache
from importlib import resources
from typing import Any

from pyld import jsonld

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)

# URL → (file under contexts/, its SHA-256 as published in shared/specs/README.md).
BUNDLED: dict[str, tuple[str, str]] = {
    VC_V2: (
        "credentials-v2.jsonld",
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    ),
    OB_V3P0: (
        "context-3.0.3.json",
        "3d34f4d4ef1bce691106e63798beb5e7b862ba841423f5ee1e53ab7ddf3bca84",
    ),
    OB_SCHEMA: (
        "ob_v3p0_achievementcredential_schema.json",
        "86a141ff0c1b1a6b4e08460f786a8ffe0f737d8256a86243d134a2e6450efe4d",
    ),
}
CONTEXTS = (VC_V2, OB_V3P0)


class UnknownDocumentError(LookupError):
    """A document that Jalon does not ship was asked for: it is never fetched."""


@cache
def bundled_bytes(url: str) -> bytes:
    """Return the bytes of a shipped document, checked against its published SHA-256."""
    try:
        name, digest = BUNDLED[url]
    except KeyError:
        raise UnknownDocumentError(f"not a document Jalon ships: {url}") from None
    data = resources.files(__package__).joinpath("contexts", name).read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise RuntimeError(f"contexts/{name} is not the published file (SHA-256 differs)")
    return data


@cache
def _parsed(url: str) -> Any:
    return json.loads(bundled_bytes(url))


def bundled_document(url: str) -> Any:
    """Return a shipped document, parsed (a fresh copy: callers may change it)."""
    return json.loads(json.dumps(_parsed(url)))


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Answer pyld's document requests from the shipped contexts only; refuse any other URL."""
    if url not in CONTEXTS:
        raise UnknownDocumentError(f"refusing to load a context Jalon does not ship: {url}")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        # "static": pyld then keeps the processed context between documents (as jsonld.js does).
        "tag": "static",
        "documentUrl": url,
        "document": bundled_document(url),
    }


_PROCESSED_MAX = 512


class Lru:
    """A small thread-safe LRU mapping (values are immutable or never mutated)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        """Return the value kept for ``key`` (now the most recent), or None."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Any, value: Any) -> None:
        """Keep ``value`` for ``key``, dropping the least recently used beyond the size."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_processed = Lru(_PROCESSED_MAX)
_IRIS_MAX = 20_000
_iris: dict[tuple[Any, ...], str | None] = {}
_MISSING = object()


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


class Processor(jsonld.JsonLdProcessor):  # type: ignore[misc]
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
