"""The published evaluations of a learner's work, and the criterion levels they settle."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool import people
from lti_tool.evaluation.models import (
    CompetencyDecision,
    CriterionResult,
    Evaluation,
    EvaluationStatus,
    Submission,
    SubmissionVersion,
)
from lti_tool.evaluation.record.records import (
    CriterionRecord,
    CriterionResultRecord,
    DecisionRecord,
    EvaluationRecord,
)
from lti_tool.evaluation.settlement import settle
from lti_tool.models import LtiUser
from referentiel.model import Framework


def display_name(user: LtiUser | None) -> str | None:
    """Return how a person is named on a page (:mod:`lti_tool.people`); None: no such row."""
    return None if user is None else people.display_name(user, user.sub)


def published_evaluations(
    session: Session, context_id: int, learner_id: int, code: str
) -> list[tuple[EvaluationRecord, int]]:
    """Return the published evaluations of the learner's work, oldest first, with version ids.

    Three queries whatever their number: the evaluations, all their decisions, all their
    criterion levels.
    """
    owned = (
        Submission.context_id == context_id,
        Submission.learner_id == learner_id,
        Submission.framework_code == code,
        Evaluation.status == EvaluationStatus.PUBLISHED,
    )
    decisions: dict[int, list[DecisionRecord]] = defaultdict(list)
    for decision in session.scalars(
        sa.select(CompetencyDecision)
        .join(Evaluation, Evaluation.id == CompetencyDecision.evaluation_id)
        .join(Submission, Submission.id == Evaluation.submission_id)
        .where(*owned)
        .order_by(CompetencyDecision.competency_code)
    ):
        decisions[decision.evaluation_id].append(
            DecisionRecord(
                competency_code=decision.competency_code,
                score=decision.score,
                is_rule_acquired=decision.is_rule_acquired,
                override=decision.override,
                justification=decision.justification,
                is_acquired=decision.is_acquired,
                settlement=decision.settlement,
                comment=decision.comment,
            )
        )
    levels: dict[int, list[CriterionResultRecord]] = defaultdict(list)
    for result in session.scalars(
        sa.select(CriterionResult)
        .join(Evaluation, Evaluation.id == CriterionResult.evaluation_id)
        .join(Submission, Submission.id == Evaluation.submission_id)
        .where(*owned)
        .order_by(CriterionResult.criterion_code)
    ):
        levels[result.evaluation_id].append(
            CriterionResultRecord(
                result.criterion_code, result.competency_code, result.level, result.is_met
            )
        )
    rows = session.execute(
        sa.select(Evaluation, SubmissionVersion.number, Submission.epreuve_code, LtiUser)
        .join(SubmissionVersion, SubmissionVersion.id == Evaluation.version_id)
        .join(Submission, Submission.id == Evaluation.submission_id)
        .outerjoin(LtiUser, LtiUser.id == Evaluation.evaluator_id)
        .where(*owned)
        .order_by(Evaluation.published_at, Evaluation.id)
    ).all()
    return [
        (
            EvaluationRecord(
                id=evaluation.id,
                submission_id=evaluation.submission_id,
                version_number=number,
                epreuve_code=epreuve_code,
                # A published evaluation always has its date; updated_at is a safe fallback.
                published_at=evaluation.published_at or evaluation.updated_at,
                evaluator_name=display_name(evaluator),
                role=evaluation.role,
                comment=evaluation.comment,
                score_given=evaluation.score_given,
                score_maximum=evaluation.score_maximum,
                decisions=tuple(decisions.get(evaluation.id, ())),
                criteria=tuple(levels.get(evaluation.id, ())),
            ),
            evaluation.version_id,
        )
        for evaluation, number, epreuve_code, evaluator in rows
    ]


def latest_criteria(
    evaluations: list[tuple[EvaluationRecord, int]], framework: Framework
) -> dict[str, CriterionRecord]:
    """Return each criterion's latest settled level.

    On one version the jury's level prevails over the evaluator's (as for decisions, see
    :mod:`lti_tool.evaluation.settlement`); across versions the latest publication wins,
    the version breaking a tie of dates.
    """
    settled = settle(
        ((version_id, result.criterion_code), evaluation)
        for evaluation, version_id in evaluations
        for result in evaluation.criteria
    )
    latest: dict[str, tuple[tuple[dt.datetime, int], EvaluationRecord]] = {}
    for (version_id, criterion_code), evaluation in settled.items():
        order = (evaluation.published_at, version_id)
        if criterion_code not in latest or order > latest[criterion_code][0]:
            latest[criterion_code] = (order, evaluation)
    scale = {level.code: level for level in framework.scale}
    records = {}
    for criterion_code, (_order, evaluation) in latest.items():
        try:
            criterion = framework.criterion(criterion_code)
        except KeyError:
            continue  # a criterion the current version of the framework no longer has
        result = next(r for r in evaluation.criteria if r.criterion_code == criterion_code)
        records[criterion_code] = CriterionRecord(
            code=criterion_code,
            text=criterion.text,
            level_code=result.level_code,
            level=scale.get(result.level_code),
            is_met=result.is_met,
            epreuve_code=evaluation.epreuve_code,
            evaluated_at=evaluation.published_at,
        )
    return records
