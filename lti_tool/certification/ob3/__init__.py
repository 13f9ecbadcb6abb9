"""Open Badges 3.0 credentials: pure functions and frozen dataclasses, no Flask, no database.

Build (``achievement``, ``credential``, ``issuer``, ``recipient``), secure (``integrity`` for
Data Integrity ``eddsa-rdfc-2022``, ``jose`` for ``vc+jwt``, keys in ``multikey``), revoke
(``status_list``), check (``verification``) and bake into a PNG (``baking``). Every JSON-LD
context comes from the copies under ``contexts/`` (``loader``): nothing is fetched.
"""

from __future__ import annotations

from lti_tool.certification.ob3.achievement import (
    Achievement,
    Alignment,
    ResultDescription,
    achievement_for_bloc,
    achievement_for_title,
)
from lti_tool.certification.ob3.credential import build_credential
from lti_tool.certification.ob3.integrity import ProofError, sign
from lti_tool.certification.ob3.issuer import IssuerProfile, issuer_profile_document
from lti_tool.certification.ob3.multikey import (
    generate_key,
    multikey_document,
    public_key_from_multibase,
    public_key_multibase,
)
from lti_tool.certification.ob3.recipient import InvalidEmailError, Recipient, recipient_matches

__all__ = [
    "Achievement",
    "Alignment",
    "InvalidEmailError",
    "IssuerProfile",
    "ProofError",
    "Recipient",
    "ResultDescription",
    "achievement_for_bloc",
    "achievement_for_title",
    "build_credential",
    "generate_key",
    "issuer_profile_document",
    "multikey_document",
    "public_key_from_multibase",
    "public_key_multibase",
    "recipient_matches",
    "sign",
]
