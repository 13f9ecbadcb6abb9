"""Build an ``OpenBadgeCredential`` (OB 3.0 on the W3C VC Data Model 2.0), unsigned."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from lti_tool.certification import links
from lti_tool.certification.ob3.achievement import NOT_VALIDATED, VALIDATED, Achievement
from lti_tool.certification.ob3.integrity import timestamp
from lti_tool.certification.ob3.issuer import IssuerProfile
from lti_tool.certification.ob3.loader import CONTEXTS
from lti_tool.certification.ob3.recipient import Recipient

CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")
STATUS_PURPOSE = "revocation"
# The namespace of the opaque subject ids of credentials issued to no one in particular.
_SUBJECT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:jalon:credential-subject")


def status_entry(status_list_url: str, status_index: int) -> dict[str, Any]:
    """Return the ``BitstringStatusListEntry`` pointing at a bit of a revocation list."""
    if status_index < 0:
        raise ValueError("status_index: negative")
    return {
        "id": f"{status_list_url}#{status_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(status_index),
        "statusListCredential": status_list_url,
    }


def _subject(
    public_id: str,
    achievement: Achievement,
    recipient: Recipient | None,
    is_validated: bool,
    holder_name: str | None,
) -> dict[str, Any]:
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    identifiers = [recipient.identifier] if recipient is not None else []
    if holder_name and holder_name.strip():
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityHash": " ".join(holder_name.split()),
                "identityType": "name",
                "hashed": False,
            }
        )
    if identifiers:
        subject["identifier"] = identifiers
    else:
        # OB 3.0: a subject has an id or at least one identifier (the schema does not check
        # it). Without either, an opaque id derived from the credential: it names no person.
        subject["id"] = f"urn:uuid:{uuid.uuid5(_SUBJECT_NAMESPACE, public_id)}"
    subject["achievement"] = achievement.to_json()
    subject["result"] = [
        {
            "type": ["Result"],
            "resultDescription": achievement.result_description.id,
            "value": VALIDATED if is_validated else NOT_VALIDATED,
            "status": "Completed" if is_validated else "Failed",
        }
    ]
    return subject


def build_credential(
    *,
    public_id: str,
    issuer: IssuerProfile,
    achievement: Achievement,
    recipient: Recipient | None,
    is_validated: bool,
    decided_at: datetime,
    valid_from: datetime,
    valid_until: datetime | None = None,
    status_list_url: str,
    status_index: int,
    holder_name: str | None = None,
) -> dict[str, Any]:
    """Return the unsigned credential for one jury decision on a bloc or the title.

    ``decided_at`` becomes ``awardedDate``; ``holder_name``, if given, is shown in clear as
    an ``IdentityObject`` of type ``name`` (the holder's choice to print it, not Jalon's).
    """
    if valid_until is not None and valid_until <= valid_from:
        raise ValueError("valid_until: not after valid_from")
    credential: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": links.credential_id(public_id),
        "type": list(CREDENTIAL_TYPES),
        "name": achievement.name,
        "description": achievement.description,
        "issuer": issuer.to_json(),
        "validFrom": timestamp(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = timestamp(valid_until)
    credential["awardedDate"] = timestamp(decided_at)
    credential["credentialSubject"] = _subject(
        public_id, achievement, recipient, is_validated, holder_name
    )
    credential["credentialStatus"] = status_entry(status_list_url, status_index)
    return credential
