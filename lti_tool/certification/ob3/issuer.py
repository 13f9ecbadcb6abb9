"""The certifier as an Open Badges 3.0 issuer ``Profile``."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lti_tool.certification.ob3.loader import CONTEXTS


@dataclass(frozen=True, slots=True)
class IssuerProfile:
    """Who issues the credentials: ``id`` is the profile's URL (``links.issuer_url``)."""

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the profile as a credential's ``issuer`` (no ``@context``)."""
        profile: dict[str, Any] = {"id": self.id, "type": ["Profile"], "name": self.name}
        for key in ("url", "email", "description"):
            value = getattr(self, key)
            if value:
                profile[key] = value
        return profile


# The one term a controller document needs beyond the OB 3.0 context: the keys it vouches for.
# Inline, with the IRI of the Security vocabulary (as in W3C Controlled Identifiers).
ASSERTION_METHOD_CONTEXT = {
    "assertionMethod": {
        "@id": "https://w3id.org/security#assertionMethod",
        "@type": "@id",
        "@container": "@set",
    }
}


def issuer_profile_document(
    profile: IssuerProfile, *, assertion_methods: Sequence[str] = ()
) -> dict[str, Any]:
    """Return the OB 3.0 Profile document served at the issuer's URL.

    ``assertion_methods`` are the URLs of the keys (``links.key_url``) the issuer signs with.
    Verifiers that check a proof's key against its controller (Digital Bazaar's ``vc``, for
    one: the key's ``controller`` is this profile) find them here.
    """
    document: dict[str, Any] = {"@context": [*CONTEXTS], **profile.to_json()}
    if assertion_methods:
        document["@context"].append(copy.deepcopy(ASSERTION_METHOD_CONTEXT))
        document["assertionMethod"] = list(assertion_methods)
    return document
