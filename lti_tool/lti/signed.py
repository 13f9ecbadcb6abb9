"""Signed, URL-safe, timed tokens (session tokens, login states), made for frequent use.

itsdangerous' URL-safe serializer tries zlib on every payload and keeps the result only
when shorter. Starting a zlib stream costs tens of microseconds — more than the rest of
the signing — and a session token or a login state is a few dozen to a few hundred bytes,
which zlib seldom shortens. Payloads from :data:`COMPRESS_FROM` bytes on are still tried;
tokens signed either way read the same (a compressed one starts with a dot).

It also builds a signer, and derives its key from the secret, at each token signed or
read; here the signer of the serializer's own salt is built once and derives each key
once. Keys, salt, algorithm and token format are those of ``URLSafeTimedSerializer``.
"""

from __future__ import annotations

import zlib
from typing import Any

from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, want_bytes
from itsdangerous.serializer import Serializer

# Below this size (JSON bytes) a payload is not offered to zlib.
COMPRESS_FROM = 512


class _KeyedSigner(TimestampSigner):
    """A :class:`TimestampSigner` that derives the key of each secret once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """Return the key derived from ``secret_key`` (default: the newest secret)."""
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        key = self._derived.get(secret)
        if key is None:
            key = self._derived[secret] = super().derive_key(secret)
        return key


class TokenSerializer(URLSafeTimedSerializer):
    """A :class:`URLSafeTimedSerializer` with one signer, compressing only large payloads."""

    default_signer = _KeyedSigner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._own_signer = super().make_signer()

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        """Return the signer for ``salt``: built once for the serializer's own salt."""
        return self._own_signer if salt is None else super().make_signer(salt)

    def dump_payload(self, obj: Any) -> bytes:
        """Return the base64 of ``obj``'s JSON, compressed first if large and shortened."""
        data = Serializer.dump_payload(self, obj)
        if len(data) >= COMPRESS_FROM:
            compressed = zlib.compress(data)
            if len(compressed) < len(data) - 1:
                return b"." + base64_encode(compressed)
        return base64_encode(data)
