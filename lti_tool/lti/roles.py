"""Who someone is in the course that launched Jalon: learner, teaching assistant or staff.

Roles come from the LTI role URIs (LIS v2 vocabulary). Context roles decide, since Jalon
acts inside one course, and among them the *principal* roles decide:

- a principal ``membership#Instructor``, ``#Administrator`` or ``#ContentDeveloper`` (or
  its deprecated simple name) makes staff, whatever else is sent: they evaluate;
- a teaching assistant — principal ``membership#TeachingAssistant``, or the sub-role
  ``membership/Instructor#TeachingAssistant`` — *without* ``membership#Learner`` is on the
  course team and evaluates where the course allows it (``course_settings.
  teaching_assistants_evaluate``, on by default; the session decides, see
  ``session.can_evaluate``);
- ``membership#Learner`` with no principal staff role makes a learner, whatever sub-roles
  come with it.

A sub-role URI ``membership/<Principal>#<Sub>`` names a sub-role *of* Principal (LIS v2):
it never lifts anyone above their principal role. ``membership/Learner#Instructor`` (a
student leading a group) is a learner's sub-role. Open edX sends its forum Community TAs
and Group Moderators, who are students, ``membership#Learner`` together with
``membership/Instructor#TeachingAssistant``: they stay learners, so no student grades a
classmate. Other sub-roles (``membership/Instructor#Grader``…) grant nothing on their own;
platforms send the principal role beside them.

Of the institution and system roles only Administrator counts as staff (a Moodle site
administrator, a Canvas account administrator). An institution "Instructor" who is a
learner in this course stays a learner here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
CONTEXT = LIS + "membership"
INSTITUTION = LIS + "institution/person"
SYSTEM = LIS + "system/person"
STAFF_CONTEXT_ROLES = frozenset({"Instructor", "ContentDeveloper", "Administrator"})
TEACHING_ASSISTANT = "TeachingAssistant"
LEARNER = "Learner"
ADMIN_ROLES = frozenset({"Administrator", "SysAdmin"})


def _context_role(uri: str) -> tuple[str, str | None] | None:
    """Return (principal role, sub-role) of a context role URI, or None for other URIs.

    ``membership#Instructor`` → ("Instructor", None);
    ``membership/Instructor#TeachingAssistant`` → ("Instructor", "TeachingAssistant");
    a bare ``Instructor`` (deprecated simple name) counts as a principal context role too.
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
    """What a launch's roles claim means to Jalon.

    ``is_staff``: on the course team (not among the learners it evaluates);
    ``is_teaching_assistant``: on it only as a teaching assistant, who evaluates where the
    course allows it; ``is_learner``: a learner of the course.
    """

    uris: tuple[str, ...]
    is_staff: bool
    is_learner: bool
    is_teaching_assistant: bool = False

    @property
    def label(self) -> str:
        """Return the main role, for display: staff wins over learner."""
        if self.is_staff:
            return "staff"
        return "learner" if self.is_learner else "other"


def parse(uris: Iterable[str]) -> Roles:
    """Classify a launch's role URIs, scoped to its context."""
    uris = tuple(uri for uri in uris if isinstance(uri, str))
    is_principal_staff = is_assistant = is_learner = False
    for uri in uris:
        context = _context_role(uri)
        if context is not None:
            role, sub_role = context
            if sub_role is None and role in STAFF_CONTEXT_ROLES:
                is_principal_staff = True
            elif role == TEACHING_ASSISTANT or (
                role == "Instructor" and sub_role == TEACHING_ASSISTANT
            ):
                is_assistant = True
            elif role == LEARNER:
                is_learner = True
            continue
        for prefix in (INSTITUTION, SYSTEM):
            if uri.startswith(prefix + "#") and uri[len(prefix) + 1 :] in ADMIN_ROLES:
                is_principal_staff = True
    is_assistant = is_assistant and not is_learner and not is_principal_staff
    return Roles(
        uris=uris,
        is_staff=is_principal_staff or is_assistant,
        is_learner=is_learner,
        is_teaching_assistant=is_assistant,
    )
