"""Statements of the certification jury's decisions: pure, serialized once.

Written from dicts, like :func:`xapi.statements.build`; :mod:`xapi.jury_tincan` builds each
one with tincan, and a test proves the two byte-identical.

One decision, one statement. The holder is the actor, by the pseudonymous LTI account only:
a jury's decision is a legal fact about a person whose civil identity Jalon keeps for the
Caisse des Dépôts and never for the LRS, so no name, e-mail or identity field, whatever
:class:`xapi.statements.Privacy` allows elsewhere.

* A validated bloc or title: verb ``earned`` (TinCan registry, "has earned or has been
  awarded the object"; an exact match of the xAPI Open Badges recipe's ``earned``),
  ``result.success`` true, and the credential issued for it (its ``urn:uuid`` id and public
  verification URL) as result extensions. No shared vocabulary has a *certified* verb
  whose actor is the holder; ``earned`` reads right with the holder as actor, and is one
  analytics tools know.
* A bloc or title not validated: ADL's ``failed``, ``result.success`` false.

The title gets one statement, not a *certified* and an *earned* one: what an analyst asks
("who holds the title?", "who got bloc B2 from the jury?", "the jury's pass rate per bloc")
is a verb and an activity, which an LRS's statement API filters on; a second statement of
the same fact at the same instant would double every count and would have to be voided in
pairs. The verb tells the outcome, so no query has to read ``result`` to tell them apart.

Objects are the bloc and the certification with the very IRIs and definitions Jalon's other
statements carry, so an LRS groups the jury's word with the evidence. The jury's reasons are
free text typed by jurors about a person: they stay in the minutes, never in a statement.
The jury is not the instructor either: its members are people named in the minutes, and a
Group without them says nothing the session activity does not.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from referentiel.iris import Kind, framework_iri, item_iri
from xapi import vocabulary as v
from xapi.events import _CODE, _SLUG, LmsContext, LtiUser, _require_shape, _require_text
from xapi.statements import (
    CANONICAL,
    UNDETERMINED,
    StatementRecord,
    item_name,
    item_type,
    lti_iri,
    milliseconds,
    registration,
    statement_id,
    timestamp_text,
)

# The jury deliberates and signs its minutes in French (an RNCP title is a French one).
LANGUAGE = "fr"

# Template names: a bloc or the title, validated or not (see xapi/data/profile.jsonld).
BLOC_CERTIFIED = "bloc-certified"
BLOC_NOT_CERTIFIED = "bloc-not-certified"
TITLE_CERTIFIED = "title-certified"
TITLE_NOT_CERTIFIED = "title-not-certified"
JURY_TEMPLATES = (BLOC_CERTIFIED, BLOC_NOT_CERTIFIED, TITLE_CERTIFIED, TITLE_NOT_CERTIFIED)


@dataclass(frozen=True, slots=True)
class Credential:
    """The credential issued for a validated decision: its id and its public page."""

    id: str  # urn:uuid:…
    verification_url: str

    def __post_init__(self) -> None:
        try:
            uuid.UUID(self.id.removeprefix("urn:uuid:"))
        except ValueError:
            raise ValueError("credential id must be urn:uuid:<uuid>") from None
        if not self.id.startswith("urn:uuid:"):
            raise ValueError("credential id must be urn:uuid:<uuid>")
        if not self.verification_url.startswith(("https://", "http://")):
            raise ValueError("verification_url must be an absolute http(s) URL")


@dataclass(frozen=True, slots=True, kw_only=True)
class JuryDecided:
    """A jury decision on one bloc (``bloc_code``) or on the title (``bloc_code`` None).

    ``lms`` is the course the candidate's evidence comes from, if the session knows it:
    the statement then shares the learner's registration in that course, and its
    deployment and context ids. ``corrects_decision_id`` names the decision this one
    corrects, whose statement it refers to.
    """

    learner: LtiUser
    platform_name: str
    lms: LmsContext | None
    framework_code: str
    session_id: int
    jury_date: dt.date
    decision_id: int
    bloc_code: str | None
    is_validated: bool
    decided_at: dt.datetime
    credential: Credential | None = None
    corrects_decision_id: int | None = None

    def __post_init__(self) -> None:
        _require_text("platform_name", self.platform_name)
        _require_shape("framework_code", self.framework_code, _SLUG)
        if self.bloc_code is not None:
            _require_shape("bloc_code", self.bloc_code, _CODE)
        if self.lms is not None and self.lms.issuer != self.learner.issuer:
            raise ValueError("the learner must come from the LMS of the course")
        for name in ("session_id", "decision_id"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer")
        if self.corrects_decision_id == self.decision_id:
            raise ValueError("a decision cannot correct itself")
        if self.decided_at.utcoffset() is None:
            raise ValueError("decided_at must be timezone-aware")
        if self.credential is not None and not self.is_validated:
            raise ValueError("only a validated decision has a credential")

    @property
    def template(self) -> str:
        """Return the name of the profile's template this decision's statement follows."""
        if self.bloc_code is not None:
            return BLOC_CERTIFIED if self.is_validated else BLOC_NOT_CERTIFIED
        return TITLE_CERTIFIED if self.is_validated else TITLE_NOT_CERTIFIED


def decision_statement_id(base_url: str, decision_id: int) -> uuid.UUID:
    """Return the id of the statement of jury decision ``decision_id`` (UUIDv5)."""
    return statement_id(base_url.rstrip("/"), ("jury-decision", str(decision_id)))


def session_iri(base_url: str, session_id: int) -> str:
    """Return the activity IRI of a certification session."""
    return f"{base_url.rstrip('/')}/xapi/activities/certification-sessions/{session_id}"


def jury_registration(base_url: str, event: JuryDecided) -> uuid.UUID:
    """Return the registration: the learner's in the course, else the learner's in the session.

    With the course known, the jury's statements join the learner's path in that course
    (the same UUIDv5 as :func:`xapi.statements.registration`); a candidate presented without
    a course gets a registration of their own in the session.
    """
    base = base_url.rstrip("/")
    if event.lms is not None:
        return registration(base, event.learner, event.lms)
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/xapi/jury-registrations")
    key = [event.learner.issuer, event.learner.sub, event.session_id]
    return uuid.uuid5(namespace, json.dumps(key))


def build_decision(event: JuryDecided, base_url: str) -> StatementRecord:
    """Build the statement of a jury decision and serialize it once (canonical JSON).

    The same statement as :func:`xapi.jury_tincan.to_tincan`, byte for byte (a test proves
    it): written from dicts because tincan costs milliseconds a statement, and signing a
    500-candidate session writes some 2,500 of them in one transaction.
    """
    base = base_url.rstrip("/")
    identifier = decision_statement_id(base, event.decision_id)
    learner_registration = jury_registration(base, event)
    timestamp = milliseconds(event.decided_at)
    data = decision_data(event, base)
    data["id"] = str(identifier)
    data["context"]["registration"] = str(learner_registration)
    data["timestamp"] = timestamp_text(timestamp)
    return StatementRecord(
        id=identifier,
        json=CANONICAL.encode(data),
        verb=data["verb"]["id"],
        object_id=data["object"]["id"],
        registration=learner_registration,
        timestamp=timestamp,
        template=event.template,
    )


def decision_data(event: JuryDecided, base: str) -> dict[str, Any]:
    """Return a decision's statement as JSON-ready dicts, without id, registration or time."""
    verb = v.EARNED if event.is_validated else v.FAILED
    certification = certification_activity(base, event.framework_code)
    grouping = [session_activity(base, event.session_id, event.framework_code, event.jury_date)]
    if event.bloc_code is not None:
        target = _activity(
            item_iri(base, event.framework_code, Kind.BLOC, event.bloc_code),
            item_type(base, Kind.BLOC),
            item_name(Kind.BLOC, event.bloc_code),
        )
        grouping.append(certification)
    else:
        target = certification
    extensions: dict[str, int | str] = {
        v.SESSION_ID.iri(base): event.session_id,
        v.DECISION_ID.iri(base): event.decision_id,
    }
    if event.lms is not None:
        grouping.append(course_activity(base, event.lms))
        extensions[v.DEPLOYMENT_ID.iri(base)] = event.lms.deployment_id
        extensions[v.CONTEXT_ID.iri(base)] = event.lms.context_id
    context: dict[str, Any] = {
        "platform": event.platform_name,
        "language": LANGUAGE,
        "contextActivities": {
            "category": [_activity(v.profile_version_iri(base), v.PROFILE.iri, None)],
            "grouping": grouping,
        },
        "extensions": extensions,
    }
    if event.corrects_decision_id is not None:
        corrected = decision_statement_id(base, event.corrects_decision_id)
        context["statement"] = {"id": str(corrected), "objectType": "StatementRef"}
    result: dict[str, Any] = {"success": event.is_validated}
    if event.credential is not None:
        result["extensions"] = {
            v.CREDENTIAL_ID.iri(base): event.credential.id,
            v.CREDENTIAL_URL.iri(base): event.credential.verification_url,
        }
    account = {"homePage": event.learner.issuer, "name": event.learner.sub}
    return {
        "actor": {"objectType": "Agent", "account": account},
        "verb": {"id": verb.iri, "display": dict(verb.display)},
        "object": target,
        "result": result,
        "context": context,
    }


def session_activity(
    base_url: str, session_id: int, framework_code: str, jury_date: dt.date
) -> dict[str, Any]:
    """Return a session's xAPI Activity as the statements carry it (what its IRI answers)."""
    base = base_url.rstrip("/")
    return {
        "id": session_iri(base, session_id),
        "objectType": "Activity",
        "definition": {
            "type": v.CERTIFICATION_SESSION.iri(base),
            "name": session_name(framework_code, jury_date),
        },
    }


def session_name(framework_code: str, jury_date: dt.date) -> dict[str, str]:
    """Name a session from what Jalon knows, never from a title someone typed."""
    day = jury_date.isoformat()
    return {
        "fr": f"Session de certification {framework_code} du {day}",
        "en": f"Certification session {framework_code}, {day}",
    }


def certification_activity(base_url: str, framework_code: str) -> dict[str, Any]:
    """Return the certification as every Jalon statement names it, word for word."""
    name = f"Certification {framework_code}"
    return _activity(
        framework_iri(base_url, framework_code),
        v.CERTIFICATION.iri(base_url),
        {"fr": name, "en": name},
    )


def course_activity(base_url: str, lms: LmsContext) -> dict[str, Any]:
    """Return the LMS course as every Jalon statement names it."""
    return _activity(
        lti_iri(base_url, "courses", lms.issuer, lms.deployment_id, lms.context_id),
        v.COURSE.iri,
        {UNDETERMINED: lms.context_title} if lms.context_title else None,
    )


def _activity(iri: str, activity_type: str, name: Mapping[str, str] | None) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": activity_type}
    if name:
        definition["name"] = dict(name)
    return {"id": iri, "objectType": "Activity", "definition": definition}
