"""Signed, URL-safe, timed tokens (session tokens, login states) without a useless zlib.

itsdangerous' URL-safe serializer tries zlib on every payload and keeps the result only
when shorter. Starting a zlib stream costs tens of microseconds — more than the rest of
the signing — and a session token or a login state is a few dozen to a few hundred bytes,
which zlib seldom shortens. Payloads from :data:`COMPRESS_FROM` bytes on are still tried;
tokens signed either way read the same (a compressed one starts with a dot).
"""

from __future__ import annotations

import zlib
from typing import Any

from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.serializer import Serializer

# Below this size (JSON bytes) a payload is not offered to zlib.
COMPRESS_FROM = 512


class TokenSerializer(URLSafeTimedSerializer):
    """A :class:`URLSafeTimedSerializer` that compresses only large payloads."""

    def dump_payload(self, obj: Any) -> bytes:
        """Return the base64 of ``obj``'s JSON, compressed first if large and shortened."""
        data = Serializer.dump_payload(self, obj)
        if len(data) >= COMPRESS_FROM:
            compressed = zlib.compress(data)
            if len(compressed) < len(data) - 1:
                return b"." + base64_encode(compressed)
        return base64_encode(data)
