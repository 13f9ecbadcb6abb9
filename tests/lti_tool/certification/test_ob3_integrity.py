"""Data Integrity eddsa-rdfc-2022: what Jalon signs verifies, and nothing else does."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from lti_tool.certification.ob3 import (
    ProofError,
    generate_key,
    multikey_document,
    public_key_from_multibase,
    public_key_multibase,
)
from lti_tool.certification.ob3.integrity import (
    canonicalize,
    proofs_of,
    timestamp,
    verify_proof,
)
from tests.conftest import BASE_URL
from tests.lti_tool.certification.ob3_support import KEY_URL, credential, schema_errors, signed


def test_signed_credential_carries_one_eddsa_rdfc_2022_proof_and_stays_schema_valid() -> None:
    key = generate_key()
    document = signed(key)
    (proof,) = document["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == KEY_URL
    assert proof["created"] == "2026-11-30T14:05:00Z"
    assert proof["proofValue"].startswith("z")
    assert schema_errors(document) == []
    verify_proof(document, proof, key.public_key())


def test_signing_leaves_the_unsigned_credential_untouched() -> None:
    document = credential()
    before = copy.deepcopy(document)
    signed(generate_key(), document)
    assert document == before


def test_another_key_does_not_verify() -> None:
    document = signed(generate_key())
    with pytest.raises(ProofError, match="does not match"):
        verify_proof(document, document["proof"][0], generate_key().public_key())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("name",), "Autre bloc"),
        (("validFrom",), "2020-01-01T00:00:00Z"),
        (("issuer", "name"), "Une autre école"),
        (("credentialSubject", "achievement", "name"), "B1 — autre"),
        (("credentialSubject", "result", 0, "value"), "Non validé"),
        (("credentialSubject", "identifier", 0, "identityHash"), "sha256$00"),
        (("credentialStatus", "statusListIndex"), "8"),
        (("proof", 0, "created"), "2027-01-01T00:00:00Z"),
        (("proof", 0, "verificationMethod"), f"{BASE_URL}/certification/cles/other"),
    ],
)
def test_tampering_with_a_field_breaks_the_proof(path: tuple[str | int, ...], value: str) -> None:
    key = generate_key()
    document = signed(key)
    target = document
    for step in path[:-1]:
        target = target[step]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    with pytest.raises(ProofError, match="does not match"):
        verify_proof(document, document["proof"][0], key.public_key())


def test_a_credential_without_our_proof_is_reported() -> None:
    with pytest.raises(ProofError, match="no DataIntegrityProof"):
        proofs_of(credential())


def test_a_context_jalon_does_not_ship_is_never_fetched() -> None:
    document = {"@context": ["https://example.org/context.jsonld"], "name": "x"}
    with pytest.raises(ProofError, match=r"does not ship: https://example\.org/context"):
        canonicalize(document)


def test_control_characters_are_refused_rather_than_signed_differently() -> None:
    document = credential()
    document["name"] = "B2\x0c"
    with pytest.raises(ProofError, match="control character"):
        signed(generate_key(), document)


def test_multikey_round_trip_and_document() -> None:
    key = generate_key()
    encoded = public_key_multibase(key.public_key())
    assert encoded.startswith("z6Mk")
    assert public_key_from_multibase(encoded) == key.public_key()
    controller = f"{BASE_URL}/certification/emetteur"
    assert multikey_document(KEY_URL, controller, key.public_key()) == {
        "@context": "https://w3id.org/security/multikey/v1",
        "id": KEY_URL,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": encoded,
    }
    with pytest.raises(ValueError, match="Ed25519"):
        public_key_from_multibase("z" + encoded[5:])


def test_timestamps_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="naive"):
        timestamp(datetime(2026, 1, 1))
    assert timestamp(datetime(2026, 1, 1, 1, 2, 3, 999, tzinfo=UTC)) == "2026-01-01T01:02:03Z"
