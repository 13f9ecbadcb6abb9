"""xAPI statements of evaluation events, queued in the transaction that records them.

The events need the LMS's names for things (issuer, ``sub``, context and resource link
ids), which the launch stored; :func:`scene_of` reads them once for a submission, and the
``record_*`` functions build each event, serialize it once and add it to the outbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import Evaluation, Submission
from lti_tool.evaluation.progress import ProgressChange
from lti_tool.models import LtiContext, LtiResourceLink, LtiUser, Platform
from referentiel.model import Framework
from referentiel.rules import Status
from xapi import events
from xapi.outbox import SerializedStatement, enqueue
from xapi.statements import build


@dataclass(frozen=True)
class Scene:
    """Who and where, for every statement about one submission."""

    learner: events.LtiUser
    lms: events.LmsContext
    resource_link: events.ResourceLink


def scene_of(session: Session, submission: Submission, framework: Framework) -> Scene:
    """Return the learner, course and placement of a submission, as xAPI events name them."""
    row = session.execute(
        sa.select(
            Platform.issuer,
            Platform.name,
            LtiUser.sub,
            LtiContext.context_id,
            LtiContext.title,
            LtiResourceLink.resource_link_id,
            LtiResourceLink.title,
        )
        .select_from(LtiResourceLink)
        .join(Platform, Platform.id == LtiResourceLink.platform_id)
        .join(LtiContext, LtiContext.id == submission.context_id)
        .join(LtiUser, LtiUser.id == submission.learner_id)
        .where(LtiResourceLink.id == submission.resource_link_id)
    ).one()
    issuer, platform_name, sub, context_id, context_title, link_id, link_title = row
    return Scene(
        learner=events.LtiUser(issuer, sub),
        lms=events.LmsContext(
            issuer=issuer,
            platform_name=platform_name or issuer,
            deployment_id=submission.deployment_id,
            context_id=context_id,
            context_title=context_title,
        ),
        resource_link=events.ResourceLink(
            id=link_id,
            title=link_title,
            epreuve_code=submission.epreuve_code,
            bloc_codes=blocs_of(framework, submission.competency_codes),
        ),
    )


def blocs_of(framework: Framework, competency_codes: Iterable[str]) -> tuple[str, ...]:
    """Return the blocs of some competencies, in framework order."""
    wanted = set(competency_codes)
    return tuple(
        bloc.code
        for bloc in framework.blocs
        if any(competency.code in wanted for competency in bloc.competencies)
    )


def queue(session: Session, base_url: str, batch: Iterable[events.AnyEvent]) -> int:
    """Build each event's statement once and add them all to the outbox; return how many."""
    serialized = []
    for event in batch:
        record = build(event, base_url)
        serialized.append(SerializedStatement(str(record.id), record.json))
    enqueue(session, serialized)
    return len(serialized)


def record_submitted(
    session: Session,
    submission: Submission,
    version_number: int,
    framework: Framework,
    base_url: str,
    now: dt.datetime,
    language: str | None = None,
) -> None:
    """Queue the *submitted* statement of a version handed in."""
    scene = scene_of(session, submission, framework)
    queue(
        session,
        base_url,
        [
            events.Submitted(
                learner=scene.learner,
                lms=scene.lms,
                framework_code=framework.code,
                occurred_at=now,
                language=language,
                submission_id=f"{submission.id}.{version_number}",
                resource_link=scene.resource_link,
            )
        ],
    )


def record_published(
    session: Session,
    submission: Submission,
    evaluation: Evaluation,
    version_number: int,
    framework: Framework,
    levels: Mapping[str, str],
    change: ProgressChange,
    base_url: str,
    now: dt.datetime,
    language: str | None = None,
) -> int:
    """Queue the statements of a published evaluation; return how many.

    One *scored* per criterion judged (its raw score is the level's rank in the scale),
    one *progressed* per targeted competency with its combined result, *mastered* for each
    competency newly acquired, *satisfied* for each bloc validated and the certification.
    """
    scene = scene_of(session, submission, framework)
    sub = session.scalar(sa.select(LtiUser.sub).where(LtiUser.id == evaluation.evaluator_id))
    evaluator = events.LtiUser(scene.learner.issuer, str(sub))
    rank = {level.code: index for index, level in enumerate(framework.scale)}
    passing = framework.passing_levels()
    common: dict[str, Any] = {
        "learner": scene.learner,
        "lms": scene.lms,
        "framework_code": framework.code,
        "occurred_at": now,
        "language": language,
        "evaluation_id": str(evaluation.id),
    }
    evaluated = {**common, "evaluator": evaluator, "resource_link": scene.resource_link}
    batch: list[events.AnyEvent] = []
    targeted = [
        framework.competency(code)
        for code in submission.competency_codes
        if code in change.competencies
    ]
    for competency in targeted:
        bloc = framework.bloc_of(competency.code).code
        for criterion in competency.criteria:
            level = levels.get(criterion.code)
            if level is None:
                continue
            batch.append(
                events.CriterionScored(
                    **evaluated,
                    bloc_code=bloc,
                    competency_code=competency.code,
                    submission_id=f"{submission.id}.{version_number}",
                    criterion_code=criterion.code,
                    score_raw=rank[level],
                    score_min=0,
                    score_max=len(framework.scale) - 1,
                    success=level in passing,
                )
            )
    for competency in targeted:
        result = change.competencies[competency.code]
        batch.append(
            events.CompetencyProgressed(
                **evaluated,
                bloc_code=framework.bloc_of(competency.code).code,
                competency_code=competency.code,
                score=result.score,
                success=result.status is Status.ACQUIRED,
            )
        )
    for code in change.newly_acquired:
        batch.append(
            events.CompetencyMastered(
                **evaluated,
                bloc_code=framework.bloc_of(code).code,
                competency_code=code,
                score=change.competencies[code].score,
            )
        )
    batch.extend(events.BlocSatisfied(**common, bloc_code=code) for code in change.blocs_validated)
    if change.certification_obtained:
        batch.append(events.CertificationSatisfied(**common))
    return queue(session, base_url, batch)
