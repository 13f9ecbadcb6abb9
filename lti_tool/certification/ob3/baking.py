"""Baked badges: the credential inside a PNG, as Open Badges 3.0 bakes it.

One ``iTXt`` chunk with the keyword ``openbadgecredential`` holds the credential, JSON with
its embedded proof or a compact JWS, uncompressed, just before ``IEND``. Baking a baked
image replaces its credential. ``badge_png`` draws the default image of an achievement.
"""

from __future__ import annotations

import io
import struct
import textwrap
import unicodedata
import zlib
from collections.abc import Iterator

from PIL import Image, ImageDraw, ImageFont

from lti_tool.certification.ob3.achievement import Achievement

KEYWORD = b"openbadgecredential"
SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A badge credential is a few kilobytes; refuse to inflate anything far larger.
MAX_TEXT = 4 * 1024 * 1024


class BakingError(ValueError):
    """The bytes are not a PNG image that can be read chunk by chunk."""


def _chunks(png: bytes) -> Iterator[tuple[bytes, bytes]]:
    if not png.startswith(SIGNATURE):
        raise BakingError("not a PNG image (bad signature)")
    at = len(SIGNATURE)
    while at < len(png):
        if at + 8 > len(png):
            raise BakingError("truncated PNG chunk header")
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(png):
            raise BakingError(f"truncated PNG chunk {kind!r}")
        data = png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : end])
        if zlib.crc32(kind + data) != crc:
            raise BakingError(f"PNG chunk {kind!r} has a bad CRC")
        yield kind, data
        at = end
        if kind == b"IEND":
            return
    raise BakingError("PNG image without IEND")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _is_ours(kind: bytes, data: bytes) -> bool:
    return kind == b"iTXt" and data.split(b"\0", 1)[0] == KEYWORD


def bake_png(png: bytes, credential: str) -> bytes:
    """Return ``png`` with ``credential`` (JSON text or a compact JWS) baked in."""
    # keyword, NUL, compression flag 0, method 0, empty language tag and translated keyword.
    text = _chunk(b"iTXt", KEYWORD + b"\0\0\0\0\0" + credential.encode("utf-8"))
    out = [SIGNATURE]
    for kind, data in _chunks(png):
        if _is_ours(kind, data):
            continue
        if kind == b"IEND":
            out.append(text)
        out.append(_chunk(kind, data))
    return b"".join(out)


def unbake_png(png: bytes) -> str | None:
    """Return the credential baked in ``png``, or None; raise ``BakingError`` if not a PNG."""
    for kind, data in _chunks(png):
        if not _is_ours(kind, data):
            continue
        try:
            _keyword, rest = data.split(b"\0", 1)
            flag, _method = rest[0], rest[1]
            _language, _translated, text = rest[2:].split(b"\0", 2)
            if flag:
                inflater = zlib.decompressobj()
                text = inflater.decompress(text, MAX_TEXT)
                if inflater.unconsumed_tail:
                    raise BakingError("the baked credential is larger than 4 MiB")
            return text.decode("utf-8")
        except (IndexError, ValueError, zlib.error) as error:
            raise BakingError(f"unreadable openbadgecredential chunk: {error}") from error
    return None


# The badge: a navy disc, its code in large white type, its name below; 512 px square.
SIZE = 512
NAVY = (0, 0, 145)
GOLD = (245, 190, 65)
# DejaVu Sans (Debian's fonts-dejavu-core, on every machine the project runs on) has the
# French accents; Pillow's own font does not, so without DejaVu the text loses them.
FONT = "DejaVuSans.ttf"


def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """Return a font of ``size`` px and whether it draws accented letters."""
    try:
        return ImageFont.truetype(FONT, size), True
    except OSError:
        return ImageFont.load_default(size=size), False


def _drawable(text: str, has_accents: bool) -> str:
    if has_accents:
        return text
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("—", "-"))
    return "".join(c for c in decomposed if ord(c) < 128)


def badge_png(achievement: Achievement, *, issuer_name: str | None = None) -> bytes:
    """Return the default image of an achievement: its code and its name, readable."""
    image = Image.new("RGB", (SIZE, SIZE), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, SIZE - 16, SIZE - 16), fill=NAVY, outline=GOLD, width=12)
    middle = SIZE / 2
    heading = achievement.bloc_code or "Titre"
    size = 92
    big, accents = _font(size)
    while size > 24 and draw.textlength(heading, font=big) > SIZE - 160:
        size -= 8
        big, accents = _font(size)
    draw.text((middle, 140), _drawable(heading, accents), font=big, fill="white", anchor="mm")
    font, accents = _font(24)
    name = achievement.name
    if achievement.bloc_code:
        name = name.split(" — ", 1)[-1]
    lines = textwrap.wrap(_drawable(name, accents), width=28)[:5]
    for number, line in enumerate(lines):
        draw.text((middle, 230 + 34 * number), line, font=font, fill="white", anchor="mm")
    small, accents = _font(18)
    footer = [achievement.rncp or "", issuer_name or ""]
    for number, text in enumerate(line for line in footer if line):
        label = textwrap.shorten(_drawable(text, accents), width=32, placeholder="…")
        draw.text((middle, SIZE - 130 + 30 * number), label, font=small, fill=GOLD, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
