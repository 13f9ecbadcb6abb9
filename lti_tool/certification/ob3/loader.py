"""The JSON-LD contexts and the schema Jalon ships, and the offline document loader.

Signing and verifying never fetch anything: a context is a part of what a signature covers,
so a context served differently tomorrow must not change what verifies. The files under
``contexts/`` are byte copies of the published documents; their SHA-256 is checked when they
are first read, so an edited copy fails loudly instead of signing something else.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

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
