"""Voiding statements: how Jalon tells the LRS to disregard statements it sent.

When a person's data is erased, each of their statements the LRS may hold is voided by a
statement whose verb is ``voided`` and whose object is a ``StatementRef`` to it (xAPI
1.0.3, part 2, §2.3.2). The voiding statement's actor is Jalon itself (an account on the
instance's public URL), never the person: it must not bring back what it erases. Its id
is derived from the voided statement's, so voiding twice is the same statement and the
LRS keeps one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from types import MappingProxyType
from typing import Any

from xapi.outbox import SerializedStatement
from xapi.statements import CANONICAL, timestamp_text
from xapi.vocabulary import Term

VOIDED = Term(
    "http://adlnet.gov/expapi/verbs/voided", MappingProxyType({"fr": "a annulé", "en": "voided"})
)
# The name of Jalon's own account on its public URL, the actor of what it voids.
TOOL_ACCOUNT = "jalon"


def voiding_id(base_url: str, voided_id: str) -> uuid.UUID:
    """Return the id of the statement voiding ``voided_id`` on the instance at ``base_url``."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url.rstrip('/')}/xapi/voiding")
    return uuid.uuid5(namespace, str(uuid.UUID(voided_id)))


def voiding_data(base_url: str, voided_id: str, now: dt.datetime) -> dict[str, Any]:
    """Return the voiding statement of ``voided_id`` as JSON-ready dicts."""
    base = base_url.rstrip("/")
    return {
        "id": str(voiding_id(base, voided_id)),
        "actor": {"objectType": "Agent", "account": {"homePage": base, "name": TOOL_ACCOUNT}},
        "verb": {"id": VOIDED.iri, "display": dict(VOIDED.display)},
        "object": {"objectType": "StatementRef", "id": str(uuid.UUID(voided_id))},
        "timestamp": timestamp_text(now),
    }


def voiding(base_url: str, voided_id: str, now: dt.datetime) -> SerializedStatement:
    """Return the voiding statement of ``voided_id``, serialized for the outbox."""
    data = voiding_data(base_url, voided_id, now)
    return SerializedStatement(id=data["id"], json=CANONICAL.encode(data))


def is_voiding(document: dict[str, Any]) -> bool:
    """Return whether a statement voids another (a voiding statement cannot be voided)."""
    verb = document.get("verb")
    return isinstance(verb, dict) and verb.get("id") == VOIDED.iri
