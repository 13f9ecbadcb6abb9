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
from lti_tool.certification.ob3.baking import BakingError, badge_png, bake_png, unbake_png
from lti_tool.certification.ob3.credential import build_credential
from lti_tool.certification.ob3.integrity import ProofError, sign
from lti_tool.certification.ob3.issuer import IssuerProfile, issuer_profile_document
from lti_tool.certification.ob3.jose import JwtError, sign_jwt
from lti_tool.certification.ob3.multikey import (
    generate_key,
    multikey_document,
    public_key_from_multibase,
    public_key_multibase,
)
from lti_tool.certification.ob3.recipient import InvalidEmailError, Recipient, recipient_matches
from lti_tool.certification.ob3.status_list import (
    StatusListError,
    decode_list,
    encode_list,
    get_bit,
    new_bitstring,
    set_bit,
    status_list_credential,
)
from lti_tool.certification.ob3.verification import Check, Verification, verify

__all__ = [
    "Achievement",
    "Alignment",
    "BakingError",
    "Check",
    "InvalidEmailError",
    "IssuerProfile",
    "JwtError",
    "ProofError",
    "Recipient",
    "ResultDescription",
    "StatusListError",
    "Verification",
    "achievement_for_bloc",
    "achievement_for_title",
    "badge_png",
    "bake_png",
    "build_credential",
    "decode_list",
    "encode_list",
    "generate_key",
    "get_bit",
    "issuer_profile_document",
    "multikey_document",
    "new_bitstring",
    "public_key_from_multibase",
    "public_key_multibase",
    "recipient_matches",
    "set_bit",
    "sign",
    "sign_jwt",
    "status_list_credential",
    "unbake_png",
    "verify",
]
