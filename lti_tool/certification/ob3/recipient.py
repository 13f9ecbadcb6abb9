"""The credential's recipient: a salted hash of the e-mail address the learner chose.

Never the LTI ``sub``: a holder shows the credential to strangers, and the address they
chose is the only identifier they agreed to be checked against. The hash is the Open
Badges one: ``sha256$`` and the hex SHA-256 of the normalised address followed by the salt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

IDENTITY_TYPE = "emailAddress"


class InvalidEmailError(ValueError):
    """The text given as the recipient's e-mail address is not one."""


def normalise_email(email: str) -> str:
    """Return the address as hashed: trimmed and lower-case; raise ``InvalidEmailError``."""
    text = email.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in text):
        raise InvalidEmailError("email: not an e-mail address")
    if len(text) > 254:
        raise InvalidEmailError("email: longer than 254 characters")
    return text


def identity_hash(email: str, salt: str) -> str:
    """Return ``sha256$<hex>`` of the normalised address followed by the salt."""
    digest = hashlib.sha256((normalise_email(email) + salt).encode()).hexdigest()
    return f"sha256${digest}"


@dataclass(frozen=True, slots=True)
class Recipient:
    """A recipient as the credential names it: the hash and its salt, not the address."""

    identity_hash: str
    salt: str

    @classmethod
    def from_email(cls, email: str) -> Recipient:
        """Hash an address with a new random salt; raise ``InvalidEmailError`` if invalid."""
        salt = secrets.token_hex(16)
        return cls(identity_hash=identity_hash(email, salt), salt=salt)

    @property
    def identifier(self) -> dict[str, Any]:
        """Return the OB 3.0 ``IdentityObject`` of ``credentialSubject.identifier``."""
        return {
            "type": "IdentityObject",
            "identityHash": self.identity_hash,
            "identityType": IDENTITY_TYPE,
            "hashed": True,
            "salt": self.salt,
        }


def recipient_matches(credential: dict[str, Any], email: str) -> bool:
    """Tell whether ``email`` is the address the credential's subject is identified by."""
    try:
        address = normalise_email(email)
    except InvalidEmailError:
        return False
    subject = credential.get("credentialSubject")
    identifiers = subject.get("identifier", []) if isinstance(subject, dict) else []
    for entry in identifiers if isinstance(identifiers, list) else [identifiers]:
        if not isinstance(entry, dict) or entry.get("identityType") != IDENTITY_TYPE:
            continue
        expected = entry.get("identityHash")
        if not isinstance(expected, str):
            continue
        if entry.get("hashed") is True:
            salt = entry.get("salt", "")
            actual = identity_hash(address, salt if isinstance(salt, str) else "")
        else:
            actual = address
        if hmac.compare_digest(actual.encode(), expected.strip().lower().encode()):
            return True
    return False
