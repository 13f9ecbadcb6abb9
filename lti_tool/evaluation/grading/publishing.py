"""Publish a grid: final, in one transaction, settled with the other evaluation if any.

Publishing writes the decisions and how they were settled, the submission's status, the
learner's progress rows, the xAPI statements and the grade that waits for the LMS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation import progress, statements
from lti_tool.evaluation.grading.drafts import Decision, claim, decide, editable, write_rows
from lti_tool.evaluation.grading.opening import Opening, targeted
from lti_tool.evaluation.grid import GridInput
from lti_tool.evaluation.models import (
    CompetencyDecision,
    Evaluation,
    EvaluationRole,
    EvaluationStatus,
    GradePassback,
    PassbackStatus,
    Settlement,
    Submission,
    SubmissionStatus,
)
from referentiel.model import Framework

# AGS carries the comment to the gradebook, where a short note reads best.
PASSBACK_COMMENT_MAX = 1000


@dataclass(frozen=True)
class Publication:
    """What publishing wrote."""

    evaluation: Evaluation
    change: progress.ProgressChange
    statements: int
    passback: GradePassback | None


def publish(
    session: Session,
    opening: Opening,
    grid: GridInput,
    framework: Framework,
    base_url: str,
    now: dt.datetime,
    language: str | None = None,
) -> Publication:
    """Publish a grid: decisions, settlement, status, progress, statements and the grade."""
    evaluation = editable(opening)
    submission = opening.submission
    competencies = targeted(framework, submission)
    decisions = [
        decide(framework, c, grid.levels, grid.competencies[c.code].override, now)
        for c in competencies
    ]
    met = sum(d.met for d in decisions)
    judged = sum(len(c.criteria) for c in competencies)
    claim(
        session,
        evaluation,
        grid,
        now,
        {
            "status": EvaluationStatus.PUBLISHED,
            "published_at": now,
            "score_given": float(met),
            "score_maximum": float(judged),
        },
    )
    # Nobody else had opened this version: no other decision to settle with.
    other = _published_other(session, evaluation) if opening.other is not None else {}
    settlements = _settle(session, decisions, other)
    write_rows(session, evaluation, grid, framework, decisions, settlements)
    submission.status = SubmissionStatus.EVALUATED
    submission.revision += 1
    submission.updated_at = now
    change = progress.update(session, framework, submission.context_id, submission.learner_id, now)
    count = statements.record_published(
        session,
        submission,
        evaluation,
        opening.version.number,
        framework,
        grid.levels,
        change,
        base_url,
        now,
        language,
    )
    # The grade follows the settled decision: once the jury has published, its grade stands.
    jury_stands = evaluation.role == EvaluationRole.EVALUATOR and any(
        role == EvaluationRole.JURY for role, _decisions in other.values()
    )
    passback = None if jury_stands else _grade(session, evaluation, submission, grid, now)
    return Publication(evaluation, change, count, passback)


def _published_other(
    session: Session, evaluation: Evaluation
) -> dict[int, tuple[str, dict[str, bool]]]:
    """Return the other published evaluations of the version: id → (role, decisions)."""
    rows = session.execute(
        sa.select(
            Evaluation.id,
            Evaluation.role,
            CompetencyDecision.competency_code,
            CompetencyDecision.is_acquired,
        )
        .join(CompetencyDecision, CompetencyDecision.evaluation_id == Evaluation.id)
        .where(
            Evaluation.version_id == evaluation.version_id,
            Evaluation.id != evaluation.id,
            Evaluation.status == EvaluationStatus.PUBLISHED,
        )
    ).all()
    found: dict[int, tuple[str, dict[str, bool]]] = {}
    for evaluation_id, role, code, is_acquired in rows:
        found.setdefault(evaluation_id, (role, {}))[1][code] = is_acquired
    return found


def _settle(
    session: Session,
    decisions: Sequence[Decision],
    other: dict[int, tuple[str, dict[str, bool]]],
) -> dict[str, Settlement]:
    """Return how each competency settles, and record it on the other evaluation too."""
    settlements: dict[str, Settlement] = {}
    for decision in decisions:
        code = decision.competency.code
        theirs = [d[code] for _role, d in other.values() if code in d]
        if not theirs:
            settlements[code] = Settlement.SINGLE
        elif all(is_acquired == decision.attempt.is_acquired for is_acquired in theirs):
            settlements[code] = Settlement.AGREED
        else:
            settlements[code] = Settlement.JURY
    for settlement in (Settlement.AGREED, Settlement.JURY):
        codes = [code for code, s in settlements.items() if s is settlement]
        if codes and other:
            session.execute(
                sa.update(CompetencyDecision)
                .where(
                    CompetencyDecision.evaluation_id.in_(list(other)),
                    CompetencyDecision.competency_code.in_(codes),
                )
                .values(settlement=settlement)
                .execution_options(synchronize_session="evaluate")
            )
    return settlements


def _grade(
    session: Session,
    evaluation: Evaluation,
    submission: Submission,
    grid: GridInput,
    now: dt.datetime,
) -> GradePassback:
    """Queue the grade for the LMS; a newer grade supersedes the ones not yet sent."""
    session.execute(
        sa.update(GradePassback)
        .where(
            GradePassback.learner_id == submission.learner_id,
            GradePassback.resource_link_id == submission.resource_link_id,
            GradePassback.status == PassbackStatus.PENDING,
        )
        .values(status=PassbackStatus.SUPERSEDED)
        .execution_options(synchronize_session="evaluate")
    )
    comment = grid.comment
    if len(comment) > PASSBACK_COMMENT_MAX:
        comment = comment[: PASSBACK_COMMENT_MAX - 1].rstrip() + "…"
    passback = GradePassback(
        evaluation_id=evaluation.id,
        resource_link_id=submission.resource_link_id,
        learner_id=submission.learner_id,
        score_given=evaluation.score_given,
        score_maximum=evaluation.score_maximum,
        comment=comment or None,
        activity_progress="Completed",
        grading_progress="FullyGraded",
        scored_at=now,
        status=PassbackStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(passback)
    session.flush()
    return passback
