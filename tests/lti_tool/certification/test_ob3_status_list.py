"""Bitstring Status List: bits, their encoding, and the list's own credential."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lti_tool.certification import links
from lti_tool.certification.ob3 import (
    StatusListError,
    decode_list,
    encode_list,
    generate_key,
    get_bit,
    new_bitstring,
    set_bit,
    sign,
    status_list_credential,
)
from lti_tool.certification.ob3.integrity import verify_proof
from lti_tool.certification.ob3.multibase import base64url
from tests.conftest import BASE_URL
from tests.lti_tool.certification.ob3_support import DECIDED, KEY_URL, STATUS_URL

SIZE = 2048


@given(st.sets(st.integers(0, SIZE - 1), max_size=40), st.integers(0, SIZE - 1))
def test_a_bit_reads_as_it_was_set_and_touches_no_other(revoked: set[int], probe: int) -> None:
    bits = new_bitstring(SIZE)
    for index in revoked:
        bits = set_bit(bits, index, True)
    assert get_bit(bits, probe) is (probe in revoked)
    cleared = set_bit(bits, probe, False)
    assert [i for i in range(SIZE) if get_bit(cleared, i)] == sorted(revoked - {probe})


@given(st.binary(min_size=1, max_size=4096))
def test_encoding_round_trips(bits: bytes) -> None:
    text = encode_list(bits)
    assert text.startswith("u")
    assert "=" not in text
    assert decode_list(text) == bits


def test_bit_zero_is_the_left_most_bit_of_the_first_byte() -> None:
    bits = set_bit(new_bitstring(16), 0, True)
    assert bits == b"\x80\x00"
    assert set_bit(new_bitstring(16), 9, True) == b"\x00\x40"


def test_default_list_has_the_spec_minimum_of_131072_bits_and_stays_small() -> None:
    bits = new_bitstring()
    assert len(bits) * 8 == 131_072
    assert len(encode_list(bits)) < 300


@pytest.mark.parametrize("index", [-1, SIZE])
def test_an_index_outside_the_list_is_refused(index: int) -> None:
    with pytest.raises(StatusListError, match="index"):
        get_bit(new_bitstring(SIZE), index)


@pytest.mark.parametrize(
    "text", ["", "zabc", "u!!!", base64url(b"not gzip"), base64url(gzip.compress(b"x")[:-4])]
)
def test_an_unreadable_encoded_list_is_refused(text: str) -> None:
    with pytest.raises(StatusListError, match="encodedList"):
        decode_list(text)


def test_a_list_that_inflates_too_far_is_refused() -> None:
    bomb = base64url(gzip.compress(bytes(17 * 1024 * 1024)))
    with pytest.raises(StatusListError, match="16 MiB"):
        decode_list(bomb)


@pytest.mark.parametrize("size", [0, 7, -8])
def test_sizes_are_positive_multiples_of_eight(size: int) -> None:
    with pytest.raises(StatusListError, match="size"):
        new_bitstring(size)


def test_status_list_credential_is_signed_like_the_credentials() -> None:
    key = generate_key()
    encoded = encode_list(set_bit(new_bitstring(), 7, True))
    document = status_list_credential(
        url=STATUS_URL,
        issuer_id=links.issuer_url(BASE_URL),
        encoded_list=encoded,
        valid_from=DECIDED,
    )
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["credentialSubject"] == {
        "id": f"{STATUS_URL}#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": encoded,
    }
    secured = sign(document, key, verification_method=KEY_URL, created=DECIDED)
    verify_proof(secured, secured["proof"][0], key.public_key())
    assert get_bit(decode_list(secured["credentialSubject"]["encodedList"]), 7)
