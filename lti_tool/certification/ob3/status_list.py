"""Bitstring Status List (W3C): one bit per credential, set when it is revoked.

Bit 0 is the most significant bit of the first byte (the spec's "left-most" bit). The list
is published GZIP-compressed, as multibase base64url (``u`` prefix), inside a
``BitstringStatusListCredential`` signed like the credentials it speaks for.
"""

from __future__ import annotations

import gzip
import io
from datetime import datetime
from typing import Any

from lti_tool.certification.ob3.integrity import timestamp
from lti_tool.certification.ob3.loader import VC_V2
from lti_tool.certification.ob3.multibase import base64url, from_base64url

# The spec's minimum: 16 KiB of bits, so one revoked credential hides among 131,072.
MIN_SIZE = 131_072
# A list that inflates beyond this is refused rather than held in memory (16 MiB of bits).
MAX_BYTES = 16 * 1024 * 1024


class StatusListError(ValueError):
    """An encoded list or an index that cannot be read."""


def new_bitstring(size: int = MIN_SIZE) -> bytes:
    """Return an all-zero list of ``size`` bits (a positive multiple of 8)."""
    if size <= 0 or size % 8:
        raise StatusListError("size: a positive multiple of 8 bits")
    return bytes(size // 8)


def _locate(bits: bytes, index: int) -> tuple[int, int]:
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"index: {index} is outside a list of {len(bits) * 8} bits")
    return index // 8, 7 - index % 8


def get_bit(bits: bytes, index: int) -> bool:
    """Return whether bit ``index`` is set."""
    byte, shift = _locate(bits, index)
    return bool(bits[byte] >> shift & 1)


def set_bit(bits: bytes, index: int, value: bool) -> bytes:
    """Return a copy of the list with bit ``index`` set to ``value``."""
    byte, shift = _locate(bits, index)
    changed = bytearray(bits)
    if value:
        changed[byte] |= 1 << shift
    else:
        changed[byte] &= ~(1 << shift) & 0xFF
    return bytes(changed)


def encode_list(bits: bytes) -> str:
    """Return the list as ``encodedList``: GZIP, then multibase base64url (``u…``)."""
    return base64url(gzip.compress(bits, compresslevel=9, mtime=0))


def decode_list(text: str) -> bytes:
    """Read an ``encodedList``; raise ``StatusListError`` if it is not one."""
    try:
        packed = from_base64url(text)
    except ValueError as error:
        raise StatusListError(f"encodedList: {error}") from error
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as stream:
            bits = stream.read(MAX_BYTES + 1)
    except (OSError, EOFError) as error:
        raise StatusListError(f"encodedList: not GZIP data ({error})") from error
    if not bits:
        raise StatusListError("encodedList: an empty list")
    if len(bits) > MAX_BYTES:
        raise StatusListError("encodedList: larger than 16 MiB once inflated")
    return bits


def status_list_credential(
    *, url: str, issuer_id: str, encoded_list: str, valid_from: datetime
) -> dict[str, Any]:
    """Return the unsigned ``BitstringStatusListCredential`` published at ``url``."""
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": timestamp(valid_from),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    }
