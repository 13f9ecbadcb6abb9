"""Optional claims of the wrong type: ignored with a log line, never a 500.

Platforms differ (Open edX shares no name by default, Moodle sends empty strings, a
misconfigured platform may send a list where the specification says a string). Required
identifiers keep their own refusals (:meth:`JalonMessageLaunch.validate_message`); every
optional claim Jalon reads is checked here once, after validation, and a wrongly typed one
is removed from the launch so that nothing downstream (records, statements, pages, the
stored launch) ever sees it. The log line names the claim and the types, never the value.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

# OpenID Connect standard claims Jalon reads: non-empty strings when present.
PERSON = ("name", "given_name", "family_name", "email", "preferred_username")

# Object claims and the members Jalon reads, with the type each member must have.
# An empty string member is what Moodle sends for an unknown value: kept, not logged.
OBJECTS: dict[str, dict[str, type | tuple[type, ...]]] = {
    CLAIM + "context": {"label": str, "title": str, "type": list},
    CLAIM + "resource_link": {"title": str, "description": str},
    CLAIM + "launch_presentation": {
        "document_target": str,
        "return_url": str,
        "locale": str,
        "width": (int, float),
        "height": (int, float),
    },
    CLAIM + "lis": {"person_sourcedid": str, "course_section_sourcedid": str},
    CLAIM + "tool_platform": {
        "guid": str,
        "name": str,
        "product_family_code": str,
        "version": str,
        "url": str,
        "contact_email": str,
        "description": str,
    },
    CLAIM + "ext": {},
    AGS_CLAIM: {"scope": list, "lineitems": str, "lineitem": str},
    NRPS_CLAIM: {"context_memberships_url": str, "service_versions": list},
}
CUSTOM = CLAIM + "custom"


def _label(claim: str, member: str | None = None) -> str:
    short = claim.removeprefix(CLAIM)
    return f"{short}.{member}" if member else short


def _ignore(claim: str, member: str | None, expected: str, value: Any) -> None:
    log.warning(
        "launch claim %s ignored: %s expected, %s received",
        _label(claim, member),
        expected,
        "an empty string" if value == "" else type(value).__name__,
    )


def drop_mistyped(body: dict[str, Any]) -> None:
    """Remove, in place, every optional claim (or member) of the wrong type, logging each."""
    for claim in PERSON:
        value = body.get(claim)
        if value is not None and not (isinstance(value, str) and value):
            _ignore(claim, None, "a non-empty string", value)
            del body[claim]
    for claim, members in OBJECTS.items():
        value = body.get(claim)
        if value is None:
            continue
        if not isinstance(value, dict):
            _ignore(claim, None, "an object", value)
            del body[claim]
            continue
        for member, kind in members.items():
            found = value.get(member)
            if found is not None and (isinstance(found, bool) or not isinstance(found, kind)):
                _ignore(claim, member, _expected(kind), found)
                del value[member]
        scope = value.get("scope") if claim == AGS_CLAIM else None
        if isinstance(scope, list) and not all(isinstance(s, str) for s in scope):
            _ignore(claim, "scope", "a list of strings", scope)
            del value["scope"]
    custom = body.get(CUSTOM)
    if custom is not None:
        if not isinstance(custom, dict):
            _ignore(CUSTOM, None, "an object", custom)
            del body[CUSTOM]
        else:
            for member in [m for m, v in custom.items() if not isinstance(v, str)]:
                # LTI Core §5.4.6: custom values are strings; Jalon writes only strings.
                _ignore(CUSTOM, member, "a string", custom[member])
                del custom[member]


def _expected(kind: type | tuple[type, ...]) -> str:
    if kind is str:
        return "a string"
    if kind is list:
        return "a list"
    return "a number"
