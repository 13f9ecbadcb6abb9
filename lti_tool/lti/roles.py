"""Who someone is in the course that launched Jalon: learner or staff.

Roles come from the LTI role URIs (LIS v2 vocabulary). Context roles decide, since Jalon
acts inside one course; of the institution and system roles only Administrator counts as
staff (a Moodle site administrator, a Canvas account administrator). An institution
"Instructor" who is a learner in this course stays a learner here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
CONTEXT = LIS + "membership"
INSTITUTION = LIS + "institution/person"
SYSTEM = LIS + "system/person"
STAFF_CONTEXT_ROLES = frozenset(
    {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"}
)
LEARNER_CONTEXT_ROLES = frozenset({"Learner"})
ADMIN_ROLES = frozenset({"Administrator", "SysAdmin"})


def _context_role(uri: str) -> tuple[str, str | None] | None:
    """Return (role, sub-role) of a context role URI, or None for other URIs.

    ``membership#Instructor`` → ("Instructor", None);
    ``membership/Instructor#TeachingAssistant`` → ("Instructor", "TeachingAssistant");
    a bare ``Instructor`` (deprecated simple name) counts as a context role too.
    """
    if uri.startswith(CONTEXT + "#"):
        return uri[len(CONTEXT) + 1 :], None
    if uri.startswith(CONTEXT + "/"):
        role, _, sub_role = uri[len(CONTEXT) + 1 :].partition("#")
        return role, sub_role or None
    if "/" not in uri and "#" not in uri and ":" not in uri:
        return uri, None
    return None


@dataclass(frozen=True)
class Roles:
    """What a launch's roles claim means to Jalon."""

    uris: tuple[str, ...]
    is_staff: bool
    is_learner: bool

    @property
    def label(self) -> str:
        """Return the main role, for display: staff wins over learner."""
        if self.is_staff:
            return "staff"
        return "learner" if self.is_learner else "other"


def parse(uris: Iterable[str]) -> Roles:
    """Classify a launch's role URIs, scoped to its context."""
    uris = tuple(uri for uri in uris if isinstance(uri, str))
    is_staff = is_learner = False
    for uri in uris:
        context = _context_role(uri)
        if context is not None:
            role, sub_role = context
            if role in STAFF_CONTEXT_ROLES or sub_role in STAFF_CONTEXT_ROLES:
                is_staff = True
            elif role in LEARNER_CONTEXT_ROLES:
                is_learner = True
            continue
        for prefix in (INSTITUTION, SYSTEM):
            if uri.startswith(prefix + "#") and uri[len(prefix) + 1 :] in ADMIN_ROLES:
                is_staff = True
    return Roles(uris=uris, is_staff=is_staff, is_learner=is_learner)
