"""The two multibase encodings the credentials use: base58btc (``z``) and base64url (``u``)."""

from __future__ import annotations

import base64

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: i for i, char in enumerate(_ALPHABET)}


def base58btc(data: bytes) -> str:
    """Return ``data`` as multibase base58btc: ``z`` then Bitcoin's base58 alphabet."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "z" + "1" * zeros + "".join(reversed(digits))


def from_base58btc(text: str) -> bytes:
    """Decode a multibase base58btc string; raise ``ValueError`` if it is not one."""
    if not text.startswith("z"):
        raise ValueError("not multibase base58btc (no 'z' prefix)")
    body = text[1:]
    number = 0
    for char in body:
        if char not in _INDEX:
            raise ValueError(f"not a base58 character: {char!r}")
        number = number * 58 + _INDEX[char]
    zeros = len(body) - len(body.lstrip("1"))
    size = (number.bit_length() + 7) // 8
    return b"\0" * zeros + number.to_bytes(size, "big")


def base64url(data: bytes) -> str:
    """Return ``data`` as multibase base64url without padding: ``u`` then RFC 4648 §5."""
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_base64url(text: str) -> bytes:
    """Decode a multibase base64url string; raise ``ValueError`` if it is not one."""
    if not text.startswith("u"):
        raise ValueError("not multibase base64url (no 'u' prefix)")
    body = text[1:]
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (ValueError, TypeError) as error:
        raise ValueError(f"not base64url: {error}") from error
