"""Jalon's xAPI Profile: the document served at ``/xapi/profile`` and a validator for it."""

from xapi.profile.model import (
    MEDIA_TYPE,
    Pattern,
    Profile,
    ProfileError,
    Rule,
    Template,
    load_profile,
    parse_profile,
    profile_document,
)
from xapi.profile.structure import check_profile_document
from xapi.profile.validator import (
    Violation,
    follows,
    matches_determining_properties,
    matching_templates,
    validate,
)

__all__ = [
    "MEDIA_TYPE",
    "Pattern",
    "Profile",
    "ProfileError",
    "Rule",
    "Template",
    "Violation",
    "check_profile_document",
    "follows",
    "load_profile",
    "matches_determining_properties",
    "matching_templates",
    "parse_profile",
    "profile_document",
    "validate",
]
