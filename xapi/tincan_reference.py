"""The reference statement builder: each statement as a tincan ``Statement``.

DESIGN.md specifies statements through tincan's object model. :func:`xapi.statements.build`
writes the same JSON directly (see its module docstring for why); this module keeps the
tincan construction as the oracle a property test compares it with, byte for byte, and
what :func:`build_reference` costs is what the direct path saves.

Identifiers, IRIs, names and the e-mail rule come from :mod:`xapi.statements`: what is
checked here is the statement's shape and tincan's serialization of it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
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
from xapi.statements import (
    PSEUDONYMOUS,
    TEMPLATES,
    UNDETERMINED,
    Privacy,
    StatementRecord,
    item_name,
    item_type,
    language_tag,
    lti_iri,
    mailbox,
    milliseconds,
    registration,
    statement_id,
    timestamp_text,
)


def build_reference(
    event: AnyEvent, base_url: str, privacy: Privacy = PSEUDONYMOUS
) -> StatementRecord:
    """Build the statement of ``event`` through tincan (what ``build`` must equal)."""
    statement = to_tincan(event, base_url, privacy)
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
        timestamp=milliseconds(event.occurred_at),
    )
    if result is not None:
        statement.result = result
    statement.version = None  # see xapi.statements' docstring
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


def _agent(user: LtiUser, privacy: Privacy) -> Any:
    mbox = mailbox(user, privacy)
    if mbox is not None:
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


def _resource_link(base_url: str, lms: LmsContext, link: ResourceLink) -> Any:
    return _activity(
        lti_iri(base_url, "resource-links", lms.issuer, lms.deployment_id, link.id),
        v.ASSESSMENT.iri,
        {UNDETERMINED: link.title} if link.title else None,
        {v.RESOURCE_LINK_ID.iri(base_url): link.id},
    )


def _course(base_url: str, lms: LmsContext) -> Any:
    return _activity(
        lti_iri(base_url, "courses", lms.issuer, lms.deployment_id, lms.context_id),
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


def _item(base_url: str, framework_code: str, kind: Kind, code: str) -> Any:
    return _activity(
        item_iri(base_url, framework_code, kind, code),
        item_type(base_url, kind),
        item_name(kind, code),
    )


def _blocs(base_url: str, framework_code: str, codes: Sequence[str]) -> list[Any]:
    return [_item(base_url, framework_code, Kind.BLOC, code) for code in codes]


def _outer(base_url: str, event: Event, link: ResourceLink | None) -> list[Any]:
    outer = []
    if link is not None and link.epreuve_code:
        outer.append(_item(base_url, event.framework_code, Kind.EPREUVE, link.epreuve_code))
    outer.append(_certification(base_url, event.framework_code))
    outer.append(_course(base_url, event.lms))
    return outer
