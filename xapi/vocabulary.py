"""The words of Jalon's statements: verbs, activity types, extensions and the profile's IRIs.

Verbs and most activity types are the established ones of the ADL vocabulary and Activity
Streams, as DESIGN.md's table names them: analytics tools already know them. What no shared
vocabulary has (a competency, an RNCP *bloc*, a certification, the LTI identifiers) Jalon
defines in its own xAPI Profile, served at ``{base_url}/xapi/profile``; those IRIs therefore
depend on the instance's public URL, like the référentiel IRIs do.

Every term carries its display language map in French and English. Language keys are the
shortest correct tags (``fr``, ``en``), as the xAPI specification recommends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


def _language_map(fr: str, en: str) -> Mapping[str, str]:
    return MappingProxyType({"fr": fr, "en": en})


@dataclass(frozen=True, slots=True)
class Term:
    """An IRI shared with other vocabularies, with its display names."""

    iri: str
    display: Mapping[str, str]


# Verbs (DESIGN.md, section "xAPI").
LAUNCHED = Term("http://adlnet.gov/expapi/verbs/launched", _language_map("a lancé", "launched"))
SUBMITTED = Term(
    "http://activitystrea.ms/schema/1.0/submit", _language_map("a soumis", "submitted")
)
SCORED = Term("http://adlnet.gov/expapi/verbs/scored", _language_map("a obtenu un score", "scored"))
PROGRESSED = Term(
    "http://adlnet.gov/expapi/verbs/progressed", _language_map("a progressé", "progressed")
)
MASTERED = Term("http://adlnet.gov/expapi/verbs/mastered", _language_map("a maîtrisé", "mastered"))
SATISFIED = Term(
    "https://w3id.org/xapi/adl/verbs/satisfied", _language_map("a satisfait", "satisfied")
)
# The certification jury's decisions (xapi.jury). No shared vocabulary has "certified": the
# TinCan registry's ``earned`` ("has earned or has been awarded the object", the verb of the
# xAPI Open Badges recipe) says what the holder gets from the jury, and ADL's ``failed``
# what a "non validé" means, each with result.success to match.
EARNED = Term("http://id.tincanapi.com/verb/earned", _language_map("a obtenu", "earned"))
FAILED = Term("http://adlnet.gov/expapi/verbs/failed", _language_map("a échoué", "failed"))
VERBS = (LAUNCHED, SUBMITTED, SCORED, PROGRESSED, MASTERED, SATISFIED, EARNED, FAILED)

# Activity types of the ADL vocabulary.
ASSESSMENT = Term(
    "http://adlnet.gov/expapi/activities/assessment", _language_map("évaluation", "assessment")
)
OBJECTIVE = Term(
    "http://adlnet.gov/expapi/activities/objective", _language_map("objectif", "objective")
)
COURSE = Term("http://adlnet.gov/expapi/activities/course", _language_map("cours", "course"))
PROFILE = Term(
    "http://adlnet.gov/expapi/activities/profile", _language_map("profil xAPI", "xAPI profile")
)

# The xAPI Profiles specification that Jalon's profile conforms to.
PROFILES_CONTEXT = "https://w3id.org/xapi/profiles/context"
PROFILES_SPEC = "https://w3id.org/xapi/profiles#1.0"
PROFILE_VERSION = "v1"


class ConceptType(StrEnum):
    """The kinds of concept Jalon's profile defines (xAPI Profiles, section 7)."""

    ACTIVITY_TYPE = "ActivityType"
    CONTEXT_EXTENSION = "ContextExtension"
    ACTIVITY_EXTENSION = "ActivityExtension"
    RESULT_EXTENSION = "ResultExtension"


@dataclass(frozen=True, slots=True)
class Concept:
    """A concept of Jalon's own profile; its IRI hangs under the profile's IRI."""

    path: str
    type: ConceptType
    display: Mapping[str, str]

    def iri(self, base_url: str) -> str:
        """Return this concept's IRI on the Jalon instance at ``base_url``."""
        return f"{profile_iri(base_url)}/{self.path}"


COMPETENCY = Concept(
    "activity-types/competency",
    ConceptType.ACTIVITY_TYPE,
    _language_map("compétence", "competency"),
)
BLOC = Concept(
    "activity-types/bloc",
    ConceptType.ACTIVITY_TYPE,
    _language_map("bloc de compétences", "competency bloc"),
)
CERTIFICATION = Concept(
    "activity-types/certification",
    ConceptType.ACTIVITY_TYPE,
    _language_map("certification professionnelle", "professional certification"),
)
DEPLOYMENT_ID = Concept(
    "extensions/lti-deployment-id",
    ConceptType.CONTEXT_EXTENSION,
    _language_map("identifiant de déploiement LTI", "LTI deployment id"),
)
CONTEXT_ID = Concept(
    "extensions/lti-context-id",
    ConceptType.CONTEXT_EXTENSION,
    _language_map("identifiant du cours LTI", "LTI context id"),
)
RESOURCE_LINK_ID = Concept(
    "extensions/lti-resource-link-id",
    ConceptType.ACTIVITY_EXTENSION,
    _language_map("identifiant du lien LTI", "LTI resource link id"),
)
# The certification jury (xapi.jury): its session, the decision, and the credential issued.
CERTIFICATION_SESSION = Concept(
    "activity-types/certification-session",
    ConceptType.ACTIVITY_TYPE,
    _language_map("session de certification", "certification session"),
)
SESSION_ID = Concept(
    "extensions/certification-session-id",
    ConceptType.CONTEXT_EXTENSION,
    _language_map("identifiant de la session de certification", "certification session id"),
)
DECISION_ID = Concept(
    "extensions/jury-decision-id",
    ConceptType.CONTEXT_EXTENSION,
    _language_map("identifiant de la décision du jury", "jury decision id"),
)
CREDENTIAL_ID = Concept(
    "extensions/credential-id",
    ConceptType.RESULT_EXTENSION,
    _language_map("identifiant du justificatif numérique", "credential id"),
)
CREDENTIAL_URL = Concept(
    "extensions/credential-verification-url",
    ConceptType.RESULT_EXTENSION,
    _language_map("adresse de vérification du justificatif", "credential verification URL"),
)
CONCEPTS = (
    COMPETENCY,
    BLOC,
    CERTIFICATION,
    DEPLOYMENT_ID,
    CONTEXT_ID,
    RESOURCE_LINK_ID,
    CERTIFICATION_SESSION,
    SESSION_ID,
    DECISION_ID,
    CREDENTIAL_ID,
    CREDENTIAL_URL,
)


def profile_iri(base_url: str) -> str:
    """Return the IRI of Jalon's profile (all versions): ``{base_url}/xapi/profile``."""
    return f"{base_url.rstrip('/')}/xapi/profile"


def profile_version_iri(base_url: str) -> str:
    """Return the IRI of the current profile version, which statements carry as category."""
    return f"{profile_iri(base_url)}/{PROFILE_VERSION}"


def template_iri(base_url: str, name: str) -> str:
    """Return the IRI of one of the profile's statement templates."""
    return f"{profile_iri(base_url)}/templates/{name}"
