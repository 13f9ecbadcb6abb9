"""The reference builder of the jury's statements: each one as a tincan ``Statement``.

:func:`xapi.jury.build_decision` writes the same JSON from dicts; a test proves the two
byte-identical for every kind of decision, so tincan stays the oracle of the format, as
:mod:`xapi.tincan_reference` is for the other statements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    Statement,
    StatementRef,
    Verb,
)

from referentiel.iris import Kind, framework_iri, item_iri
from xapi import vocabulary as v
from xapi.events import LmsContext
from xapi.jury import (
    LANGUAGE,
    JuryDecided,
    decision_statement_id,
    jury_registration,
    session_iri,
    session_name,
)
from xapi.statements import (
    UNDETERMINED,
    StatementRecord,
    item_name,
    item_type,
    lti_iri,
    milliseconds,
)
from xapi.tincan_reference import serialize


def build_decision_reference(event: JuryDecided, base_url: str) -> StatementRecord:
    """Build the statement of a jury decision through tincan (what ``build_decision`` equals)."""
    statement = to_tincan(event, base_url)
    return StatementRecord(
        id=statement.id,
        json=serialize(statement),
        verb=statement.verb.id,
        object_id=statement.object.id,
        registration=statement.context.registration,
        timestamp=statement.timestamp,
        template=event.template,
    )


def to_tincan(event: JuryDecided, base_url: str) -> Any:
    """Return the tincan ``Statement`` of a jury decision."""
    base = base_url.rstrip("/")
    verb = v.EARNED if event.is_validated else v.FAILED
    certification = _certification(base, event.framework_code)
    grouping = [_session(base, event)]
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
        grouping.append(_course(base, event.lms))
        extensions[v.DEPLOYMENT_ID.iri(base)] = event.lms.deployment_id
        extensions[v.CONTEXT_ID.iri(base)] = event.lms.context_id
    context = Context(
        registration=jury_registration(base, event),
        platform=event.platform_name,
        language=LANGUAGE,
        context_activities=ContextActivities(
            category=ActivityList([_activity(v.profile_version_iri(base), v.PROFILE.iri, None)]),
            grouping=ActivityList(grouping),
        ),
        extensions=Extensions(extensions),
    )
    if event.corrects_decision_id is not None:
        context.statement = StatementRef(id=decision_statement_id(base, event.corrects_decision_id))
    result = Result(success=event.is_validated)
    if event.credential is not None:
        result.extensions = Extensions(
            {
                v.CREDENTIAL_ID.iri(base): event.credential.id,
                v.CREDENTIAL_URL.iri(base): event.credential.verification_url,
            }
        )
    statement = Statement(
        id=decision_statement_id(base, event.decision_id),
        actor=Agent(account=AgentAccount(home_page=event.learner.issuer, name=event.learner.sub)),
        verb=Verb(id=verb.iri, display=LanguageMap(verb.display)),
        object=target,
        result=result,
        context=context,
        timestamp=milliseconds(event.decided_at),
    )
    statement.version = None  # see xapi.statements' docstring
    return statement


def _activity(iri: str, activity_type: str, name: Mapping[str, str] | None) -> Any:
    definition = ActivityDefinition(type=activity_type)
    if name:
        definition.name = LanguageMap(name)
    return Activity(id=iri, definition=definition)


def _certification(base_url: str, framework_code: str) -> Any:
    # The definition every other Jalon statement gives the certification, word for word.
    name = f"Certification {framework_code}"
    return _activity(
        framework_iri(base_url, framework_code),
        v.CERTIFICATION.iri(base_url),
        {"fr": name, "en": name},
    )


def _course(base_url: str, lms: LmsContext) -> Any:
    return _activity(
        lti_iri(base_url, "courses", lms.issuer, lms.deployment_id, lms.context_id),
        v.COURSE.iri,
        {UNDETERMINED: lms.context_title} if lms.context_title else None,
    )


def _session(base_url: str, event: JuryDecided) -> Any:
    return _activity(
        session_iri(base_url, event.session_id),
        v.CERTIFICATION_SESSION.iri(base_url),
        session_name(event.framework_code, event.jury_date),
    )
