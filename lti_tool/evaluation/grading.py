"""Grading: open the evaluation of a version handed in, save its grid, publish it.

An evaluator judges the latest version a learner handed in. The first evaluator of a
version is its *evaluator*; a different second one is its *jury*, and a third is refused.
A draft may be saved as often as wanted; each save bumps the evaluation's revision, so a
grid posted from an older page is refused instead of overwriting newer work. Publishing
is final and happens in one transaction: the decisions and how they were settled, the
submission's status, the learner's progress rows, the xAPI statements and the grade that
waits for the LMS. Rows are written in bulk so that a 44-criterion grid costs a dozen
statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lti_tool.evaluation import progress, statements
from lti_tool.evaluation.grid import GridInput
from lti_tool.evaluation.models import (
    CompetencyDecision,
    CriterionResult,
    Evaluation,
    EvaluationRole,
    EvaluationStatus,
    GradePassback,
    PassbackStatus,
    Settlement,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)
from lti_tool.frameworks import find_record, framework_of
from lti_tool.models import FrameworkRecord
from referentiel.model import Competency, Framework
from referentiel.rules import Attempt, attempt

_CRITERIA_INSERT = sa.insert(CriterionResult.__table__)  # type: ignore[arg-type]
_DECISIONS_INSERT = sa.insert(CompetencyDecision.__table__)  # type: ignore[arg-type]
# AGS carries the comment to the gradebook, where a short note reads best.
PASSBACK_COMMENT_MAX = 1000
REFUSALS = {
    "EVAL_NOTHING_HANDED_IN": _("Cette copie n’a pas encore été remise : rien à évaluer."),
    "EVAL_THIRD_EVALUATOR": _(
        "Cette version a déjà un évaluateur et un jury : une troisième évaluation n’est pas "
        "possible."
    ),
    "EVAL_PUBLISHED": _("Votre évaluation est publiée : elle est définitive."),
    "EVAL_STALE": _(
        "L’évaluation a été enregistrée entre-temps (dans un autre onglet ?) : rien n’a été "
        "écrasé. Relisez la grille ci-dessous et refaites vos modifications."
    ),
}


class GradingError(Exception):
    """An evaluation cannot be opened or changed; ``code`` names why (HTTP 409)."""

    status = 409

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        """Return the explanation shown to the evaluator."""
        return str(REFUSALS[self.code])


@dataclass(frozen=True)
class Opening:
    """The evaluation an evaluator works on (``None`` until their first save)."""

    submission: Submission
    version: SubmissionVersion
    evaluation: Evaluation | None
    role: EvaluationRole
    other: Evaluation | None  # the other evaluator's evaluation of this version, if any


@dataclass(frozen=True)
class Decision:
    """The grid's verdict on one competency."""

    competency: Competency
    met: int
    is_rule_acquired: bool
    attempt: Attempt  # the override's when there is one


@dataclass(frozen=True)
class Publication:
    """What publishing wrote."""

    evaluation: Evaluation
    change: progress.ProgressChange
    statements: int
    passback: GradePassback | None


def framework_for(session: Session, submission: Submission) -> Framework | None:
    """Return the framework version a submission was made under (else the current one)."""
    record = session.scalar(
        sa.select(FrameworkRecord).where(
            FrameworkRecord.code == submission.framework_code,
            FrameworkRecord.version == submission.framework_version,
        )
    ) or find_record(session, submission.framework_code)
    return framework_of(record) if record is not None else None


def targeted(framework: Framework, submission: Submission) -> tuple[Competency, ...]:
    """Return the competencies a submission targets that its framework knows."""
    found = []
    for code in submission.competency_codes:
        try:
            found.append(framework.competency(code))
        except KeyError:
            continue
    return tuple(found)


def latest_version(session: Session, submission_id: int) -> SubmissionVersion | None:
    """Return the latest version handed in, or ``None``."""
    return session.scalar(
        sa.select(SubmissionVersion)
        .where(SubmissionVersion.submission_id == submission_id, ~SubmissionVersion.is_draft)
        .order_by(SubmissionVersion.number.desc())
        .limit(1)
    )


def open_evaluation(
    session: Session, submission: Submission, evaluator_id: int, now: dt.datetime, *, create: bool
) -> Opening:
    """Return this evaluator's evaluation of the latest version, created when ``create``."""
    version = latest_version(session, submission.id)
    if version is None:
        raise GradingError("EVAL_NOTHING_HANDED_IN")
    evaluations = session.scalars(
        sa.select(Evaluation).where(Evaluation.version_id == version.id).order_by(Evaluation.id)
    ).all()
    mine = next((e for e in evaluations if e.evaluator_id == evaluator_id), None)
    others = [e for e in evaluations if e.evaluator_id != evaluator_id]
    if mine is None and len(others) >= 2:
        raise GradingError("EVAL_THIRD_EVALUATOR")
    role = (
        EvaluationRole(mine.role)
        if mine
        else (EvaluationRole.JURY if others else EvaluationRole.EVALUATOR)
    )
    if mine is None and create:
        mine = Evaluation(
            submission_id=submission.id,
            version_id=version.id,
            evaluator_id=evaluator_id,
            role=role,
            status=EvaluationStatus.DRAFT,
            revision=0,  # never saved: the grid was shown with revision 0
            comment="",
            created_at=now,
            updated_at=now,
        )
        session.add(mine)
        session.flush()
    return Opening(submission, version, mine, role, others[0] if others else None)


def decide(
    framework: Framework,
    competency: Competency,
    levels: dict[str, str],
    override: bool | None,
    now: dt.datetime,
) -> Decision:
    """Judge a competency from its criteria's levels by the framework's rule, then override."""
    passing = framework.passing_levels()
    met = {c.code: levels.get(c.code) in passing for c in competency.criteria}
    rule = attempt(competency, framework.rules, met, now)
    final = rule if override is None else attempt(competency, framework.rules, met, now, override)
    return Decision(competency, sum(met.values()), rule.is_acquired, final)


def save(
    session: Session,
    opening: Opening,
    grid: GridInput,
    framework: Framework,
    now: dt.datetime,
) -> list[Decision]:
    """Save a grid as a draft: its rows are replaced and its revision bumped."""
    evaluation = _evaluation(opening)
    competencies = targeted(framework, opening.submission)
    decisions = [
        decide(framework, c, grid.levels, grid.competencies[c.code].override, now)
        for c in competencies
    ]
    _claim(session, evaluation, grid, now, {})
    _write_rows(session, evaluation, grid, framework, decisions, {})
    return decisions


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
    evaluation = _evaluation(opening)
    submission = opening.submission
    competencies = targeted(framework, submission)
    decisions = [
        decide(framework, c, grid.levels, grid.competencies[c.code].override, now)
        for c in competencies
    ]
    met = sum(d.met for d in decisions)
    judged = sum(len(c.criteria) for c in competencies)
    _claim(
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
    _write_rows(session, evaluation, grid, framework, decisions, settlements)
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


def _evaluation(opening: Opening) -> Evaluation:
    if opening.evaluation is None:  # pragma: no cover (callers open with create=True)
        raise ValueError("open the evaluation with create=True before saving it")
    if opening.evaluation.status == EvaluationStatus.PUBLISHED:
        raise GradingError("EVAL_PUBLISHED")
    return opening.evaluation


def _claim(
    session: Session,
    evaluation: Evaluation,
    grid: GridInput,
    now: dt.datetime,
    extra: dict[str, object],
) -> None:
    """Bump the revision if it is still the one the grid was shown with; else refuse.

    One conditional UPDATE: of two saves racing from two pages, exactly one wins.
    """
    values = {"comment": grid.comment, "updated_at": now, **extra}
    done = session.execute(
        sa.update(Evaluation)
        .where(
            Evaluation.id == evaluation.id,
            Evaluation.revision == grid.revision,
            Evaluation.status == EvaluationStatus.DRAFT,
        )
        .values(revision=Evaluation.revision + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise GradingError("EVAL_STALE")
    set_committed_value(evaluation, "revision", grid.revision + 1)
    for name, value in values.items():
        set_committed_value(evaluation, name, value)


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


def _write_rows(
    session: Session,
    evaluation: Evaluation,
    grid: GridInput,
    framework: Framework,
    decisions: Sequence[Decision],
    settlements: dict[str, Settlement],
) -> None:
    """Replace the evaluation's criterion and competency rows, two bulk inserts."""
    passing = framework.passing_levels()
    criteria = [
        {
            "evaluation_id": evaluation.id,
            "criterion_code": criterion.code,
            "competency_code": decision.competency.code,
            "level": grid.levels[criterion.code],
            "is_met": grid.levels[criterion.code] in passing,
        }
        for decision in decisions
        for criterion in decision.competency.criteria
        if criterion.code in grid.levels
    ]
    competencies = [
        {
            "evaluation_id": evaluation.id,
            "competency_code": decision.competency.code,
            "comment": grid.competencies[decision.competency.code].comment,
            "score": decision.attempt.score,
            "is_rule_acquired": decision.is_rule_acquired,
            "override": grid.competencies[decision.competency.code].override,
            "justification": grid.competencies[decision.competency.code].justification,
            "is_acquired": decision.attempt.is_acquired,
            "settlement": settlements.get(decision.competency.code),
        }
        for decision in decisions
    ]
    if grid.revision > 0:  # saved before: its rows are replaced
        for model in (CriterionResult, CompetencyDecision):
            session.execute(sa.delete(model).where(model.evaluation_id == evaluation.id))
    # Core inserts on the tables: one executemany each, without the ORM's bulk machinery
    # (measured: half the cost of ``sa.insert(Model)`` for a 44-criterion grid).
    if criteria:
        session.execute(_CRITERIA_INSERT, criteria)
    if competencies:
        session.execute(_DECISIONS_INSERT, competencies)
    session.expire(evaluation, ["criteria", "competencies"])


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
