"""The progress engine: materialized competency, bloc and certification rows per learner.

Publishing an evaluation calls :func:`update` in the same transaction, so a page or the
class matrix reads finished rows and never recomputes. The statuses come from the pure
rules of :mod:`referentiel.rules`: each version of a submission gives one attempt per
competency (its settled decision: the jury's when there is one), and the attempts combine
by the course's method. A bloc once validated stays validated, whatever comes after.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import (
    CompetencyDecision,
    CourseSettings,
    Evaluation,
    EvaluationStatus,
    LearnerProgress,
    ProgressKind,
    Submission,
)
from lti_tool.evaluation.settlement import settle
from referentiel.model import Framework
from referentiel.rules import (
    Attempt,
    BlocProgress,
    CompetencyProgress,
    Method,
    Status,
    certification_progress,
    competency_progress,
)


@dataclass(frozen=True)
class CourseMethod:
    """How a course combines several evaluations of one competency."""

    method: Method = Method.LATEST
    parameter: int | None = None


@dataclass(frozen=True)
class ProgressChange:
    """What one update changed for a learner: the statements and pages it concerns."""

    competencies: dict[str, CompetencyProgress] = field(default_factory=dict)
    newly_acquired: tuple[str, ...] = ()
    blocs_validated: tuple[str, ...] = ()
    certification_obtained: bool = False


def course_method(session: Session, context_id: int) -> CourseMethod:
    """Return the course's combination method (latest unless staff chose another)."""
    settings = session.get(CourseSettings, context_id)
    if settings is None:
        return CourseMethod()
    return CourseMethod(Method(settings.method), settings.method_parameter)


def attempts_of(
    session: Session, context_id: int, learner_id: int, framework_code: str
) -> dict[str, list[Attempt]]:
    """Return each competency's attempts: one per evaluated version, the settled decision.

    When both an evaluator and a jury published on the same version, the jury's decision
    is the version's (see :mod:`lti_tool.evaluation.settlement`); the date is that of the
    decision kept.
    """
    rows = session.execute(
        sa.select(
            Evaluation.id,
            Evaluation.version_id,
            Evaluation.role,
            Evaluation.published_at,
            CompetencyDecision.competency_code,
            CompetencyDecision.score,
            CompetencyDecision.is_acquired,
        )
        .join(CompetencyDecision, CompetencyDecision.evaluation_id == Evaluation.id)
        .join(Submission, Submission.id == Evaluation.submission_id)
        .where(
            Submission.context_id == context_id,
            Submission.learner_id == learner_id,
            Submission.framework_code == framework_code,
            Evaluation.status == EvaluationStatus.PUBLISHED,
        )
    ).all()
    settled = settle(((row.version_id, row.competency_code), row) for row in rows)
    attempts: dict[str, list[Attempt]] = defaultdict(list)
    for (_version, code), row in sorted(
        settled.items(), key=lambda item: (item[1].published_at, item[0])
    ):
        attempts[code].append(Attempt(row.score, row.is_acquired, row.published_at))
    return attempts


def progress_rows(
    session: Session, context_id: int, learner_id: int, framework_code: str
) -> dict[tuple[str, str], LearnerProgress]:
    """Return a learner's materialized rows in a course, by (kind, code)."""
    return {
        (row.kind, row.code): row
        for row in session.scalars(
            sa.select(LearnerProgress).where(
                LearnerProgress.context_id == context_id,
                LearnerProgress.learner_id == learner_id,
                LearnerProgress.framework_code == framework_code,
            )
        )
    }


def update(
    session: Session,
    framework: Framework,
    context_id: int,
    learner_id: int,
    now: dt.datetime,
    method: CourseMethod | None = None,
) -> ProgressChange:
    """Recompute a learner's rows in a course from every published evaluation."""
    method = method or course_method(session, context_id)
    code = framework.code
    stored = progress_rows(session, context_id, learner_id, code)
    attempts = attempts_of(session, context_id, learner_id, code)
    competencies = {
        competency.code: competency_progress(
            competency,
            framework.rules,
            attempts.get(competency.code, []),
            method.method,
            method.parameter,
        )
        for competency in framework.competencies()
    }
    was_validated = frozenset(
        bloc_code
        for (kind, bloc_code), row in stored.items()
        if kind == ProgressKind.BLOC and row.status == Status.ACQUIRED
    )
    certification = certification_progress(framework, competencies, was_validated)
    newly_acquired = []
    for competency_code, progress in competencies.items():
        before = stored.get((ProgressKind.COMPETENCY, competency_code))
        if progress.status is Status.ACQUIRED and (
            before is None or before.status != Status.ACQUIRED
        ):
            newly_acquired.append(competency_code)
        _write(
            session,
            stored,
            (context_id, learner_id, code, now),
            (ProgressKind.COMPETENCY, competency_code),
            (progress.status, progress.score, progress.attempts),
        )
    blocs_validated = []
    for bloc in certification.blocs:
        if bloc.code not in was_validated and bloc.status is Status.ACQUIRED:
            blocs_validated.append(bloc.code)
        _write(
            session,
            stored,
            (context_id, learner_id, code, now),
            (ProgressKind.BLOC, bloc.code),
            (bloc.status, bloc.acquired / bloc.total, bloc.acquired),
        )
    before = stored.get((ProgressKind.CERTIFICATION, code))
    obtained = certification.status is Status.ACQUIRED and (
        before is None or before.status != Status.ACQUIRED
    )
    validated = sum(1 for bloc in certification.blocs if bloc.status is Status.ACQUIRED)
    statuses = {
        ProgressKind.COMPETENCY.value: _evaluated(competencies.values()),
        ProgressKind.BLOC.value: _evaluated(certification.blocs),
    }
    _write(
        session,
        stored,
        (context_id, learner_id, code, now),
        (ProgressKind.CERTIFICATION, code),
        (certification.status, validated / len(certification.blocs), validated),
        statuses,
    )
    session.flush()
    return ProgressChange(
        competencies=competencies,
        newly_acquired=tuple(newly_acquired),
        blocs_validated=tuple(blocs_validated),
        certification_obtained=obtained,
    )


def _write(
    session: Session,
    stored: dict[tuple[str, str], LearnerProgress],
    owner: tuple[int, int, str, dt.datetime],
    key: tuple[str, str],
    values: tuple[Status, float | None, int],
    statuses: dict[str, dict[str, str]] | None = None,
) -> None:
    """Insert or update one row; an unchanged row is left alone (no write)."""
    context_id, learner_id, framework_code, now = owner
    status, score, attempts = values
    row = stored.get(key)
    if row is None:
        if status is Status.NOT_EVALUATED and key[0] == ProgressKind.COMPETENCY:
            # A competency never evaluated needs no row: absent means not evaluated.
            return
        row = LearnerProgress(
            context_id=context_id,
            learner_id=learner_id,
            framework_code=framework_code,
            kind=key[0],
            code=key[1],
        )
        session.add(row)
    elif (row.status, row.score, row.attempts, row.statuses) == (
        status,
        score,
        attempts,
        statuses,
    ):
        return
    if status is Status.ACQUIRED and row.status != Status.ACQUIRED:
        row.acquired_at = now
    elif status is not Status.ACQUIRED:
        row.acquired_at = None
    row.status, row.score, row.attempts, row.updated_at = status, score, attempts, now
    row.statuses = statuses


def _evaluated(items: Iterable[CompetencyProgress | BlocProgress]) -> dict[str, str]:
    """Return code → status of the items that have been evaluated (absent: not evaluated)."""
    return {
        item.code: item.status.value for item in items if item.status is not Status.NOT_EVALUATED
    }


def recompute_course(
    session: Session, framework: Framework, context_id: int, now: dt.datetime
) -> int:
    """Recompute every learner of a course (after its method changed); return how many."""
    method = course_method(session, context_id)
    learners = session.scalars(
        sa.select(Submission.learner_id)
        .where(Submission.context_id == context_id, Submission.framework_code == framework.code)
        .distinct()
    ).all()
    for learner_id in learners:
        update(session, framework, context_id, learner_id, now, method)
    return len(learners)
