"""A learner's record in one course: progress, criteria, evaluations and evidence.

The record reads what publication already wrote: the materialized ``learner_progress``
rows (never recomputed here) and the published evaluations with their decisions and
criterion levels. It is the one read model behind "Ma progression", the staff view of a
learner, the PDF livret and the JSON API, and it costs the same handful of queries
however many evaluations the learner has.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import (
    CompetencyDecision,
    CriterionResult,
    Evaluation,
    EvaluationRole,
    EvaluationStatus,
    LearnerProgress,
    ProgressKind,
    Submission,
    SubmissionFile,
    SubmissionVersion,
)
from lti_tool.evaluation.placement import competency_codes
from lti_tool.models import LtiResourceLink, LtiUser
from referentiel.model import Framework, ScaleLevel
from referentiel.rules import Status


@dataclass(frozen=True)
class PlacedEpreuve:
    """An épreuve placed in the course (an LMS activity) and the competencies it judges."""

    code: str
    title: str
    link_title: str | None
    competencies: tuple[str, ...]


@dataclass(frozen=True)
class CriterionRecord:
    """A criterion's latest settled level, and the épreuve that judged it."""

    code: str
    text: str
    level_code: str | None
    level: ScaleLevel | None
    is_met: bool | None
    epreuve_code: str | None
    evaluated_at: dt.datetime | None


@dataclass(frozen=True)
class CompetencyRecord:
    """A competency's materialized standing, its criteria and the épreuves that judge it."""

    code: str
    statement: str
    bloc_code: str
    status: Status
    score: float | None
    attempts: int
    acquired_at: dt.datetime | None
    criteria: tuple[CriterionRecord, ...]
    epreuves: tuple[PlacedEpreuve, ...]


@dataclass(frozen=True)
class BlocRecord:
    """A bloc's standing and what remains to validate it."""

    code: str
    title: str
    status: Status
    acquired: int
    in_progress: int
    total: int
    competencies: tuple[CompetencyRecord, ...]
    # The competencies not yet acquired (none once the bloc is validated: it stays so).
    remaining: tuple[CompetencyRecord, ...]

    @property
    def not_evaluated(self) -> int:
        """Return how many of its competencies were never evaluated."""
        return self.total - self.acquired - self.in_progress


@dataclass(frozen=True)
class DecisionRecord:
    """One evaluation's decision on one competency."""

    competency_code: str
    score: float
    is_rule_acquired: bool
    override: bool | None
    justification: str | None
    is_acquired: bool
    settlement: str | None
    comment: str


@dataclass(frozen=True)
class CriterionResultRecord:
    """The level one evaluation gave one criterion."""

    criterion_code: str
    competency_code: str
    level_code: str
    is_met: bool


@dataclass(frozen=True)
class EvaluationRecord:
    """A published evaluation of one version of the learner's work."""

    id: int
    submission_id: int
    version_number: int
    epreuve_code: str | None
    published_at: dt.datetime
    evaluator_name: str | None
    role: str
    comment: str
    score_given: float | None
    score_maximum: float | None
    decisions: tuple[DecisionRecord, ...]
    criteria: tuple[CriterionResultRecord, ...]


@dataclass(frozen=True)
class FileRecord:
    """A file handed in with a version (its name as shown, never its storage key)."""

    id: int
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class EvidenceRecord:
    """A version the learner handed in: text, links and files."""

    submission_id: int
    epreuve_code: str | None
    number: int
    submitted_at: dt.datetime | None
    text: str
    links: tuple[str, ...]
    files: tuple[FileRecord, ...]


@dataclass(frozen=True)
class LearnerRecord:
    """Everything a course knows of one learner against one framework."""

    context_id: int
    learner_id: int
    learner_name: str | None
    framework_code: str
    framework_title: str
    framework_language: str
    certification: Status
    blocs: tuple[BlocRecord, ...]
    evaluations: tuple[EvaluationRecord, ...]
    evidence: tuple[EvidenceRecord, ...]
    placements: tuple[PlacedEpreuve, ...]

    @property
    def blocs_validated(self) -> int:
        """Return how many blocs are validated."""
        return sum(1 for bloc in self.blocs if bloc.status is Status.ACQUIRED)

    @property
    def is_empty(self) -> bool:
        """Return whether nothing was ever evaluated."""
        return not self.evaluations and all(b.status is Status.NOT_EVALUATED for b in self.blocs)

    def competency(self, code: str) -> CompetencyRecord:
        """Return a competency's record; raise ``KeyError`` if the framework has none."""
        for bloc in self.blocs:
            for competency in bloc.competencies:
                if competency.code == code:
                    return competency
        raise KeyError(code)


def learner_record(
    session: Session, context_id: int, learner_id: int, framework: Framework
) -> LearnerRecord:
    """Read a learner's record in a course, in a constant number of queries."""
    code = framework.code
    progress = {
        (row.kind, row.code): row
        for row in session.scalars(
            sa.select(LearnerProgress).where(
                LearnerProgress.context_id == context_id,
                LearnerProgress.learner_id == learner_id,
                LearnerProgress.framework_code == code,
            )
        )
    }
    placements = _placements(session, context_id, framework)
    evaluations = _evaluations(session, context_id, learner_id, code)
    criteria = _latest_criteria(evaluations, framework)
    judged_by: dict[str, list[PlacedEpreuve]] = defaultdict(list)
    for placed in placements:
        for competency_code in placed.competencies:
            judged_by[competency_code].append(placed)
    blocs = []
    for bloc in framework.blocs:
        competencies = tuple(
            _competency(
                competency.code,
                competency.statement,
                bloc.code,
                progress.get((ProgressKind.COMPETENCY, competency.code)),
                tuple(
                    criteria.get(criterion.code, _unjudged(criterion.code, criterion.text))
                    for criterion in competency.criteria
                ),
                tuple(judged_by.get(competency.code, ())),
            )
            for competency in bloc.competencies
        )
        row = progress.get((ProgressKind.BLOC, bloc.code))
        status = Status(row.status) if row is not None else Status.NOT_EVALUATED
        blocs.append(
            BlocRecord(
                code=bloc.code,
                title=bloc.title,
                status=status,
                acquired=sum(1 for c in competencies if c.status is Status.ACQUIRED),
                in_progress=sum(1 for c in competencies if c.status is Status.IN_PROGRESS),
                total=len(competencies),
                competencies=competencies,
                remaining=()
                if status is Status.ACQUIRED
                else tuple(c for c in competencies if c.status is not Status.ACQUIRED),
            )
        )
    certification = progress.get((ProgressKind.CERTIFICATION, code))
    learner = session.get(LtiUser, learner_id)
    return LearnerRecord(
        context_id=context_id,
        learner_id=learner_id,
        learner_name=_name(learner),
        framework_code=code,
        framework_title=framework.identity.title,
        framework_language=framework.identity.language,
        certification=Status(certification.status) if certification else Status.NOT_EVALUATED,
        blocs=tuple(blocs),
        evaluations=tuple(record for record, _ in evaluations),
        evidence=_evidence(session, context_id, learner_id, code),
        placements=placements,
    )


def _competency(
    code: str,
    statement: str,
    bloc_code: str,
    row: LearnerProgress | None,
    criteria: tuple[CriterionRecord, ...],
    epreuves: tuple[PlacedEpreuve, ...],
) -> CompetencyRecord:
    # No row means never evaluated: the engine writes none until the first attempt.
    return CompetencyRecord(
        code=code,
        statement=statement,
        bloc_code=bloc_code,
        status=Status(row.status) if row else Status.NOT_EVALUATED,
        score=row.score if row else None,
        attempts=row.attempts if row else 0,
        acquired_at=row.acquired_at if row else None,
        criteria=criteria,
        epreuves=epreuves,
    )


def _unjudged(code: str, text: str) -> CriterionRecord:
    return CriterionRecord(code, text, None, None, None, None, None)


def _placements(
    session: Session, context_id: int, framework: Framework
) -> tuple[PlacedEpreuve, ...]:
    """Return the épreuves of this framework placed in the course, in framework order."""
    links = session.execute(
        sa.select(LtiResourceLink.title, LtiResourceLink.custom)
        .where(LtiResourceLink.context_id == context_id)
        .order_by(LtiResourceLink.id)
    ).all()
    placed = []
    for title, custom in links:
        if not isinstance(custom, dict) or custom.get("framework") != framework.code:
            continue
        try:
            epreuve = framework.epreuve(str(custom.get("epreuve")))
        except KeyError:
            continue
        codes = competency_codes(custom.get("competencies")) or list(epreuve.competencies)
        known = tuple(c for c in codes if _exists(framework, c))
        placed.append(PlacedEpreuve(epreuve.code, epreuve.title, title, known))
    order = {epreuve.code: index for index, epreuve in enumerate(framework.epreuves)}
    return tuple(sorted(placed, key=lambda p: order[p.code]))


def _exists(framework: Framework, code: str) -> bool:
    try:
        framework.competency(code)
    except KeyError:
        return False
    return True


def _name(user: LtiUser | None) -> str | None:
    if user is None:
        return None
    return user.name or " ".join(p for p in (user.given_name, user.family_name) if p) or None


def _evaluations(
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
                evaluator_name=_name(evaluator),
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


def _latest_criteria(
    evaluations: list[tuple[EvaluationRecord, int]], framework: Framework
) -> dict[str, CriterionRecord]:
    """Return each criterion's latest settled level.

    On one version the jury's level prevails over the evaluator's (as for decisions); across
    versions the latest publication wins, the version breaking a tie of dates.
    """
    settled: dict[tuple[int, str], tuple[tuple[bool, dt.datetime, int], EvaluationRecord]] = {}
    for evaluation, version_id in evaluations:
        rank = (evaluation.role == EvaluationRole.JURY, evaluation.published_at, evaluation.id)
        for result in evaluation.criteria:
            key = (version_id, result.criterion_code)
            if key not in settled or rank > settled[key][0]:
                settled[key] = (rank, evaluation)
    latest: dict[str, tuple[tuple[dt.datetime, int], EvaluationRecord]] = {}
    for (version_id, criterion_code), (_rank, evaluation) in settled.items():
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


def _evidence(
    session: Session, context_id: int, learner_id: int, code: str
) -> tuple[EvidenceRecord, ...]:
    """Return the versions handed in, with their files (two queries)."""
    owned = (
        Submission.context_id == context_id,
        Submission.learner_id == learner_id,
        Submission.framework_code == code,
        SubmissionVersion.is_draft.is_(False),
    )
    files: dict[int, list[FileRecord]] = defaultdict(list)
    for file in session.scalars(
        sa.select(SubmissionFile)
        .join(SubmissionVersion, SubmissionVersion.id == SubmissionFile.version_id)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(*owned)
        .order_by(SubmissionFile.id)
    ):
        files[file.version_id].append(FileRecord(file.id, file.name, file.content_type, file.size))
    rows = session.execute(
        sa.select(SubmissionVersion, Submission.epreuve_code)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(*owned)
        .order_by(SubmissionVersion.submitted_at, SubmissionVersion.id)
    ).all()
    return tuple(
        EvidenceRecord(
            submission_id=version.submission_id,
            epreuve_code=epreuve_code,
            number=version.number,
            submitted_at=version.submitted_at,
            text=version.text,
            links=tuple(version.links or ()),
            files=tuple(files.get(version.id, ())),
        )
        for version, epreuve_code in rows
    )
