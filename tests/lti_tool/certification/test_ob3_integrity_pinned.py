"""Signing stays byte-for-byte what it was: proofs pinned before the canonicalization got faster.

``ob3_pinned.json`` holds three fixed credentials (salt fixed, so nothing is random); the key
is a fixed Ed25519 seed. Ed25519 is deterministic, so the same document, key and ``created``
must always give these proofValues, whatever caching the canonicalization does.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld

from lti_tool.certification.ob3.integrity import canonicalize, sign, verify_proof
from lti_tool.certification.ob3.loader import document_loader

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
METHOD = "https://jalon.test/certification/cles/2026-12-a"
CREATED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
# (proofValue, proofValue of a second proof over the signed document, SHA-256 of the N-Quads)
PINNED = [
    (
        "z58gfKbakoe3eyJRyrxb3uTpkBA9VmbVku1zV76BePEr1gau98wFXUcLvucPPUVn4BnbCPczRzU8FLNeoKuRJGty",
        "z63ciMfQDhPvE21ra5v6ynveBNforR2rwKayvdJKfi3xi1B8DUyJBzSA3tXNRAV8mW5XAhWWvqpouG35dGJu5oHcc",
        "c95c0e69924518714ba1ca266ac8dc9a4d11d99a64af236f294a9a2731117dda",
    ),
    (
        "z4WvdTAc3VHSkame45JGxpzam8dpvJwtxRoE2EATJt6GSqCNEmrF4nWj3ZXZ7iBMc9va3jmY2LTNsSva2kPf1KkVK",
        "z3PVntkoqVRcRmL5q85fSh9wEo3fRjzTqSaKNgWifVi7BddU6AKj86w6Qs7VsExytieroxc5f9iHMRS4neiLcZi7J",
        "7833320e756c5501078451301a48d155596877ad5b21a48f70115d761eb46d7f",
    ),
    (
        "zM4st3rvt8UKKp5kQgG4UnaPkCYat1z29YdRtwqYwBqwCvxkpYPGEz6XPjD9YyxT6boYW5Cfp7ouggYmnAicN5tC",
        "ziegdCqo51JP6sYytBS2VsQcf4CqFZR3S8VX1eBccgkHmuB53aZFXo1VipkUq8H4VYjU6wgx74s98gvRFtQKhWZu",
        "a66e28a9420db78865737d2e2b4d12078c3bc45a200f302e8980755402597f2e",
    ),
]


def documents() -> list[dict[str, Any]]:
    path = Path(__file__).with_name("ob3_pinned.json")
    loaded: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("index", range(len(PINNED)))
def test_proofs_are_the_pinned_bytes(index: int) -> None:
    document = documents()[index]
    first, second, nquads = PINNED[index]
    assert hashlib.sha256(canonicalize(document).encode()).hexdigest() == nquads
    secured = sign(document, KEY, verification_method=METHOD, created=CREATED)
    assert secured["proof"] == [
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-12-01T09:00:00Z",
            "verificationMethod": METHOD,
            "proofPurpose": "assertionMethod",
            "proofValue": first,
        }
    ]
    assert {k: v for k, v in secured.items() if k != "proof"} == document
    twice = sign(secured, KEY, verification_method=METHOD + "-2", created=LATER)
    assert [p["proofValue"] for p in twice["proof"]] == [first, second]
    for proof in twice["proof"]:
        verify_proof(twice, proof, KEY.public_key())


@pytest.mark.parametrize("index", range(len(PINNED)))
def test_canonical_form_is_pylds_uncached_urdna2015(index: int) -> None:
    """The reference: pyld's normalize with no shared cache, a fresh loader result each time."""
    document = documents()[index]
    reference = jsonld.normalize(
        document,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": lambda url, options=None: {**document_loader(url), "tag": None},
        },
    )
    assert canonicalize(document) == reference


def test_threads_signing_at_once_get_the_pinned_proofs() -> None:
    work = [documents()[i % len(PINNED)] for i in range(24)]

    def one(document: dict[str, Any]) -> str:
        secured = sign(document, KEY, verification_method=METHOD, created=CREATED)
        value: str = secured["proof"][-1]["proofValue"]
        return value

    with ThreadPoolExecutor(max_workers=8) as pool:
        values = list(pool.map(one, work))
    assert values == [PINNED[i % len(PINNED)][0] for i in range(24)]


def test_an_inline_context_changed_in_place_is_processed_again() -> None:
    """The context memo keys objects by identity: a document's own context must not go stale."""
    document = documents()[0]
    inline: dict[str, Any] = {"motto": "https://jalon.test/vocab#motto"}
    document["@context"] = [*document["@context"], inline]
    document["motto"] = "Apprendre"
    first = canonicalize(document)
    assert "<https://jalon.test/vocab#motto>" in first
    inline["motto"] = "https://jalon.test/vocab#devise"
    second = canonicalize(document)
    assert "<https://jalon.test/vocab#devise>" in second
    assert "#motto>" not in second
    assert second == first.replace("vocab#motto>", "vocab#devise>")
