"""Baked badges: the credential travels inside the PNG and comes out unchanged."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from PIL import Image

from lti_tool.certification.ob3 import (
    BakingError,
    achievement_for_bloc,
    achievement_for_title,
    badge_png,
    bake_png,
    generate_key,
    sign_jwt,
    unbake_png,
)
from tests.conftest import BASE_URL
from tests.lti_tool.certification.ob3_support import KEY_URL, credential, framework, signed


def _chunk_types(png: bytes) -> list[bytes]:
    kinds, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kinds.append(png[at + 4 : at + 8])
        at += 12 + length
    return kinds


def test_a_signed_credential_round_trips_through_the_badge_image() -> None:
    image = badge_png(achievement_for_bloc(framework(), "B2", BASE_URL), issuer_name="École")
    text = json.dumps(signed(generate_key()), ensure_ascii=False)
    baked = bake_png(image, text)
    assert unbake_png(baked) == text
    assert unbake_png(image) is None
    kinds = _chunk_types(baked)
    assert kinds.count(b"iTXt") == 1
    assert kinds[-2:] == [b"iTXt", b"IEND"]
    # Still a PNG every reader opens, the same picture.
    with Image.open(io.BytesIO(baked)) as opened, Image.open(io.BytesIO(image)) as plain:
        assert opened.tobytes() == plain.tobytes()
        assert opened.text["openbadgecredential"] == text  # Pillow reads the iTXt too


def test_baking_again_replaces_the_credential() -> None:
    image = badge_png(achievement_for_title(framework(), BASE_URL))
    token = sign_jwt(credential(), generate_key(), kid=KEY_URL)
    baked = bake_png(bake_png(image, "first"), token)
    assert unbake_png(baked) == token
    assert _chunk_types(baked).count(b"iTXt") == 1


def test_a_compressed_chunk_written_by_another_tool_is_read() -> None:
    image = badge_png(achievement_for_title(framework(), BASE_URL))
    data = b"openbadgecredential\0\x01\x00\0\0" + zlib.compress(b'{"id":"x"}')
    chunk = (
        struct.pack(">I", len(data))
        + b"iTXt"
        + data
        + struct.pack(">I", zlib.crc32(b"iTXt" + data))
    )
    assert unbake_png(image[:-12] + chunk + image[-12:]) == '{"id":"x"}'


@pytest.mark.parametrize(
    "bad", [b"", b"GIF89a", b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", b"\x89PNG\r\n\x1a\n"]
)
def test_what_is_not_a_png_is_refused(bad: bytes) -> None:
    with pytest.raises(BakingError):
        unbake_png(bad)
    with pytest.raises(BakingError):
        bake_png(bad, "x")


def test_a_corrupted_chunk_is_refused() -> None:
    image = bytearray(badge_png(achievement_for_title(framework(), BASE_URL)))
    image[40] ^= 0xFF
    with pytest.raises(BakingError, match="CRC"):
        unbake_png(bytes(image))


def test_the_default_badge_is_a_readable_square_png() -> None:
    image = badge_png(achievement_for_bloc(framework(), "B1", BASE_URL))
    with Image.open(io.BytesIO(image)) as opened:
        assert opened.format == "PNG"
        assert opened.size == (512, 512)
        # Not blank: the white code and name are drawn on the navy disc.
        colours = opened.convert("RGB").getcolors(maxcolors=100_000) or []
        assert len(colours) > 10
    assert image != badge_png(achievement_for_bloc(framework(), "B2", BASE_URL))
