"""Stable identifiers for a framework's items.

Every identifier is a UUIDv5 of the framework's code and the item's kind and code, so a
re-export, or an export made on another machine, gives the same ids; a new version of the
same framework keeps the ids of the items it keeps.
"""

from __future__ import annotations

import uuid

JALON_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:jalon:referentiel")


def framework_id(framework_code: str) -> uuid.UUID:
    """Return the id of the framework document itself."""
    return uuid.uuid5(JALON_NAMESPACE, f"{framework_code}")


def item_id(framework_code: str, kind: str, code: str) -> uuid.UUID:
    """Return the id of an item of a kind (bloc, competency, criterion, activity, epreuve…)."""
    return uuid.uuid5(JALON_NAMESPACE, f"{framework_code}/{kind}/{code}")
