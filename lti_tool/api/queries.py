"""What the API reads beyond the record and the matrix: a course's framework, its evaluations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import Session, selectinload

from lti_tool.evaluation.models import (
    CompetencyDecision,
    CriterionResult,
    Evaluation,
    EvaluationStatus,
    Submission,
    SubmissionVersion,
)
from lti_tool.frameworks import current_framework
from lti_tool.models import LtiResourceLink
from referentiel.model import Framework


@dataclass(frozen=True)
class PublishedEvaluation:
    """A published evaluation with the learner and épreuve of the work it judges."""

    id: int
    learner_id: int
    submission_id: int
    version_number: int
    framework_code: str
    epreuve_code: str | None
    evaluator_id: int
    role: str
    published_at: dt.datetime | None  # always set once published
    score_given: float | None
    score_maximum: float | None
    comment: str
    decisions: tuple[CompetencyDecision, ...]
    criteria: tuple[CriterionResult, ...]


def course_framework(
    session: Session, context_id: int, requested: str | None, custom: Mapping[str, object] | None
) -> Framework:
    """Return the framework asked for, else the launch's, else the only one the course uses.

    Raise :class:`ValidationError` on ``framework`` when none can be chosen or it is unknown.
    """
    code = requested or (custom or {}).get("framework")
    if not isinstance(code, str) or not code:
        used = _course_frameworks(session, context_id)
        if len(used) != 1:
            reason = (
                "Required: the course uses several frameworks."
                if used
                else ("Required: no framework is placed in this course.")
            )
            raise ValidationError({"framework": [reason]})
        code = used[0]
    current = current_framework(session, code)
    if current is None:
        raise ValidationError({"framework": ["Unknown framework."]})
    return current[1]


def _course_frameworks(session: Session, context_id: int) -> list[str]:
    customs = session.scalars(
        sa.select(LtiResourceLink.custom).where(LtiResourceLink.context_id == context_id)
    )
    placed = {c.get("framework") for c in customs if isinstance(c, dict)}
    handed_in = session.scalars(
        sa.select(Submission.framework_code).where(Submission.context_id == context_id).distinct()
    )
    return sorted(code for code in placed | set(handed_in) if isinstance(code, str) and code)


def published_evaluations(
    session: Session,
    context_id: int,
    *,
    learner_id: int | None = None,
    epreuve: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[PublishedEvaluation]:
    """Return a course's published evaluations, oldest first, filtered; drafts never."""
    query = (
        sa.select(Evaluation, Submission, SubmissionVersion.number)
        .join(Submission, Submission.id == Evaluation.submission_id)
        .join(SubmissionVersion, SubmissionVersion.id == Evaluation.version_id)
        .where(
            Submission.context_id == context_id,
            Evaluation.status == EvaluationStatus.PUBLISHED,
        )
        .options(selectinload(Evaluation.competencies), selectinload(Evaluation.criteria))
        .order_by(Evaluation.published_at, Evaluation.id)
        .limit(limit)
        .offset(offset)
    )
    if learner_id is not None:
        query = query.where(Submission.learner_id == learner_id)
    if epreuve is not None:
        query = query.where(Submission.epreuve_code == epreuve)
    if since is not None:
        query = query.where(Evaluation.published_at >= since)
    return [
        PublishedEvaluation(
            id=evaluation.id,
            learner_id=work.learner_id,
            submission_id=work.id,
            version_number=number,
            framework_code=work.framework_code,
            epreuve_code=work.epreuve_code,
            evaluator_id=evaluation.evaluator_id,
            role=evaluation.role,
            published_at=evaluation.published_at,
            score_given=evaluation.score_given,
            score_maximum=evaluation.score_maximum,
            comment=evaluation.comment,
            decisions=tuple(evaluation.competencies),
            criteria=tuple(evaluation.criteria),
        )
        for evaluation, work, number in session.execute(query)
    ]
