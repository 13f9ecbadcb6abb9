"""Pure statement builders: one domain event in, one serialized xAPI 1.0.3 statement out.

``build`` makes a tincan ``Statement`` and serializes it once, to canonical JSON text (sorted
keys, no spaces, UTF-8 characters as they are). That text is what the outbox stores and what
the relay sends, byte for byte, however many times it is retried: an LRS compares a re-sent
statement with the one it holds, and some answer 409 to a mere change of notation.

Two corrections to tincan 1.0.0's serialization, both tested:

* tincan writes timestamps with ``datetime.isoformat()`` (``+00:00``, microseconds); Jalon
  writes RFC 3339 UTC with milliseconds and ``Z``, the precision every LRS keeps;
* tincan sets ``"version": "1.0.3"``, but a Learning Record Provider "SHOULD NOT set the
  Statement version" and, if it does, "MUST set it to 1.0.0" (xAPI 1.0.3, Data 2.4.10), so
  Jalon leaves it out.

Identifiers are deterministic: the statement id is a UUIDv5 of the event's identity, the
registration a UUIDv5 of the learner and the LMS course, so rebuilding the statement of the
same event gives the same bytes, and the LRS recognises a duplicate.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from tincan import (  # type: ignore[import-untyped]
    Activity,
    ActivityDefinition,
    ActivityList,
    Agent,
    AgentAccount,
    Context,
    ContextActivities,
    Extensions,
    LanguageMap,
    Result,
    Score,
    Statement,
    StatementRef,
    Verb,
)

from referentiel.iris import Kind, framework_iri, item_iri
from xapi import vocabulary as v
from xapi.conformance import is_language_tag, is_mailto
from xapi.events import (
    AnyEvent,
    BlocSatisfied,
    CertificationSatisfied,
    CompetencyMastered,
    CompetencyProgressed,
    CriterionScored,
    Event,
    Launched,
    LmsContext,
    LtiUser,
    ResourceLink,
    Submitted,
)

# Language of titles that come from the LMS: the course's language is not known.
UNDETERMINED = "und"


@dataclass(frozen=True, slots=True)
class Privacy:
    """What an administrator allows into statements besides the pseudonymous LTI account.

    By default an actor is ``account {homePage: LTI iss, name: LTI sub}`` and nothing else.
    ``include_name`` adds the person's name. ``include_email`` identifies the person by
    ``mbox`` *instead of* the account (xAPI allows one identifier per agent), so switching it
    on starts a new agent in the LRS; registrations do not change. A person without an
    address, or with one Learning Locker refuses, keeps the account.
    """

    include_name: bool = False
    include_email: bool = False


PSEUDONYMOUS = Privacy()


@dataclass(frozen=True, slots=True)
class StatementRecord:
    """A built statement: its canonical JSON and what the outbox indexes it by."""

    id: uuid.UUID
    json: str
    verb: str
    object_id: str
    registration: uuid.UUID
    timestamp: datetime
    template: str


TEMPLATES: Mapping[type[Event], str] = {
    Launched: "launched",
    Submitted: "submitted",
    CriterionScored: "criterion-scored",
    CompetencyProgressed: "competency-progressed",
    CompetencyMastered: "competency-mastered",
    BlocSatisfied: "bloc-satisfied",
    CertificationSatisfied: "certification-satisfied",
}


def build(event: AnyEvent, base_url: str, privacy: Privacy = PSEUDONYMOUS) -> StatementRecord:
    """Build the statement of ``event`` for the Jalon instance at ``base_url``."""
    base = base_url.rstrip("/")
    statement = to_tincan(event, base, privacy)
    return StatementRecord(
        id=statement.id,
        json=serialize(statement),
        verb=statement.verb.id,
        object_id=statement.object.id,
        registration=statement.context.registration,
        timestamp=statement.timestamp,
        template=TEMPLATES[type(event)],
    )


def to_tincan(event: AnyEvent, base_url: str, privacy: Privacy = PSEUDONYMOUS) -> Any:
    """Return the tincan ``Statement`` of an event (serialize it with :func:`serialize`)."""
    base = base_url.rstrip("/")
    result: Any = None
    parent: list[Any] = []
    instructor: LtiUser | None = None
    reference: uuid.UUID | None = None
    match event:
        case Launched() | Submitted():
            verb = v.LAUNCHED if isinstance(event, Launched) else v.SUBMITTED
            target = _resource_link(base, event.lms, event.resource_link)
            grouping = [
                *_blocs(base, event.framework_code, event.resource_link.bloc_codes),
                *_outer(base, event, event.resource_link),
            ]
        case CriterionScored():
            verb = v.SCORED
            target = _item(base, event.framework_code, Kind.CRITERION, event.criterion_code)
            result = Result(
                success=event.success,
                score=Score(
                    scaled=event.score_scaled,
                    raw=event.score_raw,
                    min=event.score_min,
                    max=event.score_max,
                ),
            )
            parent = [_resource_link(base, event.lms, event.resource_link)]
            grouping = [
                _item(base, event.framework_code, Kind.COMPETENCY, event.competency_code),
                *_blocs(base, event.framework_code, (event.bloc_code,)),
                *_outer(base, event, event.resource_link),
            ]
            instructor = event.evaluator
            reference = statement_id(base, ("submitted", event.submission_id))
        case CompetencyProgressed() | CompetencyMastered():
            verb = v.PROGRESSED if isinstance(event, CompetencyProgressed) else v.MASTERED
            target = _item(base, event.framework_code, Kind.COMPETENCY, event.competency_code)
            success = event.success if isinstance(event, CompetencyProgressed) else True
            result = Result(success=success)
            if event.score is not None:
                result.score = Score(scaled=event.score)
            parent = [_resource_link(base, event.lms, event.resource_link)]
            grouping = [
                *_blocs(base, event.framework_code, (event.bloc_code,)),
                *_outer(base, event, event.resource_link),
            ]
            instructor = event.evaluator
        case BlocSatisfied():
            verb = v.SATISFIED
            target = _item(base, event.framework_code, Kind.BLOC, event.bloc_code)
            grouping = _outer(base, event, None)
        case CertificationSatisfied():
            verb = v.SATISFIED
            target = _certification(base, event.framework_code)
            grouping = [_course(base, event.lms)]
        case _:  # pragma: no cover - AnyEvent is closed
            raise TypeError(f"no statement for {type(event).__name__}")

    context = Context(
        registration=registration(base, event.learner, event.lms),
        platform=event.lms.platform_name,
        context_activities=ContextActivities(
            category=ActivityList([_profile(base)]),
            grouping=ActivityList(grouping),
        ),
        extensions=Extensions(
            {
                v.DEPLOYMENT_ID.iri(base): event.lms.deployment_id,
                v.CONTEXT_ID.iri(base): event.lms.context_id,
            }
        ),
    )
    if parent:
        context.context_activities.parent = ActivityList(parent)
    language = language_tag(event.language)
    if language is not None:
        context.language = language
    if instructor is not None:
        context.instructor = _agent(instructor, privacy)
    if reference is not None:
        context.statement = StatementRef(id=reference)

    statement = Statement(
        id=statement_id(base, event.identity()),
        actor=_agent(event.learner, privacy),
        verb=Verb(id=verb.iri, display=LanguageMap(verb.display)),
        object=target,
        context=context,
        timestamp=_to_milliseconds(event.occurred_at),
    )
    if result is not None:
        statement.result = result
    statement.version = None  # see the module docstring
    return statement


def serialize(statement: Any) -> str:
    """Return the canonical JSON text of a tincan statement, timestamps in RFC 3339 ``Z``."""
    data = cast("dict[str, Any]", statement.as_version("1.0.3"))
    data.pop("version", None)
    if statement.timestamp is not None:
        data["timestamp"] = timestamp_text(statement.timestamp)
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def statement_id(base_url: str, identity: Sequence[str]) -> uuid.UUID:
    """Return the statement id of an event identity on the instance at ``base_url``."""
    return uuid.uuid5(_namespace(base_url, "statements"), json.dumps(list(identity)))


def registration(base_url: str, learner: LtiUser, lms: LmsContext) -> uuid.UUID:
    """Return the registration of a learner in an LMS course: UUIDv5(learner, context)."""
    key = [learner.issuer, learner.sub, lms.deployment_id, lms.context_id]
    return uuid.uuid5(_namespace(base_url, "registrations"), json.dumps(key))


def timestamp_text(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with milliseconds: ``2026-01-31T08:00:00.000Z``."""
    if moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def language_tag(value: str | None) -> str | None:
    """Return an RFC 5646 tag for an LMS locale (Moodle writes ``pt_br``), or None if unusable."""
    if value is None:
        return None
    tag = value.strip().replace("_", "-")
    return tag if is_language_tag(tag) else None


def _to_milliseconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


@lru_cache(maxsize=64)
def _namespace(base_url: str, name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url.rstrip('/')}/xapi/{name}")


def _agent(user: LtiUser, privacy: Privacy) -> Any:
    mbox = None
    if privacy.include_email and user.email is not None:
        local, domain = user.email.rsplit("@", 1)
        mbox = f"mailto:{local}@{domain.lower()}"
    # An address a strict LRS would refuse (say, with "~" or a Unicode domain) would cost
    # the whole batch; the pseudonymous account is always acceptable.
    if mbox is not None and is_mailto(mbox):
        agent = Agent(mbox=mbox)
    else:
        agent = Agent(account=AgentAccount(home_page=user.issuer, name=user.sub))
    if privacy.include_name and user.name is not None:
        agent.name = user.name
    return agent


def _activity(
    iri: str,
    activity_type: str,
    name: Mapping[str, str] | None,
    extensions: Mapping[str, str] | None = None,
) -> Any:
    definition = ActivityDefinition(type=activity_type)
    if name:
        definition.name = LanguageMap(name)
    if extensions:
        definition.extensions = Extensions(extensions)
    return Activity(id=iri, definition=definition)


def _lti_iri(base_url: str, kind: str, *parts: str) -> str:
    key = uuid.uuid5(_namespace(base_url, "lti"), json.dumps([kind, *parts]))
    return f"{base_url}/xapi/activities/{kind}/{key}"


def _resource_link(base_url: str, lms: LmsContext, link: ResourceLink) -> Any:
    return _activity(
        _lti_iri(base_url, "resource-links", lms.issuer, lms.deployment_id, link.id),
        v.ASSESSMENT.iri,
        {UNDETERMINED: link.title} if link.title else None,
        {v.RESOURCE_LINK_ID.iri(base_url): link.id},
    )


def _course(base_url: str, lms: LmsContext) -> Any:
    return _activity(
        _lti_iri(base_url, "courses", lms.issuer, lms.deployment_id, lms.context_id),
        v.COURSE.iri,
        {UNDETERMINED: lms.context_title} if lms.context_title else None,
    )


def _profile(base_url: str) -> Any:
    return _activity(v.profile_version_iri(base_url), v.PROFILE.iri, None)


def _certification(base_url: str, framework_code: str) -> Any:
    name = f"Certification {framework_code}"
    return _activity(
        framework_iri(base_url, framework_code),
        v.CERTIFICATION.iri(base_url),
        {"fr": name, "en": name},
    )


_ITEMS: Mapping[Kind, tuple[str, str]] = {
    Kind.BLOC: ("Bloc de compétences", "Competency bloc"),
    Kind.COMPETENCY: ("Compétence", "Competency"),
    Kind.CRITERION: ("Critère", "Criterion"),
    Kind.EPREUVE: ("Épreuve", "Assessment"),
}


def _item(base_url: str, framework_code: str, kind: Kind, code: str) -> Any:
    types = {
        Kind.BLOC: v.BLOC.iri(base_url),
        Kind.COMPETENCY: v.COMPETENCY.iri(base_url),
        Kind.CRITERION: v.OBJECTIVE.iri,
        Kind.EPREUVE: v.ASSESSMENT.iri,
    }
    fr, en = _ITEMS[kind]
    return _activity(
        item_iri(base_url, framework_code, kind, code),
        types[kind],
        {"fr": f"{fr} {code}", "en": f"{en} {code}"},
    )


def _blocs(base_url: str, framework_code: str, codes: Sequence[str]) -> list[Any]:
    return [_item(base_url, framework_code, Kind.BLOC, code) for code in codes]


def _outer(base_url: str, event: Event, link: ResourceLink | None) -> list[Any]:
    """Return what every statement of a course groups under: épreuve, framework, course."""
    outer = []
    if link is not None and link.epreuve_code:
        outer.append(_item(base_url, event.framework_code, Kind.EPREUVE, link.epreuve_code))
    outer.append(_certification(base_url, event.framework_code))
    outer.append(_course(base_url, event.lms))
    return outer
