"""The public addresses of the certification back-office, in one place.

Credentials, PDF certificates (their QR codes) and pages all name these URLs; they are
part of what a holder shows to others, so they never change shape once issued.
"""

from __future__ import annotations


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def verification_url(base_url: str, public_id: str) -> str:
    """Return the public page where anyone verifies the credential ``public_id``."""
    return f"{_base(base_url)}/verifier/{public_id}"


def credential_id(public_id: str) -> str:
    """Return a credential's ``id`` (a URN: it names the credential, it is not fetched)."""
    return f"urn:uuid:{public_id}"


def issuer_url(base_url: str) -> str:
    """Return the certifier's Open Badges issuer profile (JSON)."""
    return f"{_base(base_url)}/certification/emetteur"


def key_url(base_url: str, key_id: str) -> str:
    """Return the verification method of a signing key (a Multikey document)."""
    return f"{_base(base_url)}/certification/cles/{key_id}"


def status_list_url(base_url: str, list_id: int) -> str:
    """Return the BitstringStatusListCredential that holds a credential's revocation bit."""
    return f"{_base(base_url)}/certification/statuts/{list_id}"
