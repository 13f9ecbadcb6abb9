"""Judge a grid and save it as a draft, as often as wanted, never over newer work.

Each save bumps the evaluation's revision, so a grid posted from an older page is refused
instead of overwriting newer work. Rows are written in bulk so that a 44-criterion grid
costs a dozen statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lti_tool.evaluation.grading.opening import GradingError, Opening, targeted
from lti_tool.evaluation.grid import GridInput
from lti_tool.evaluation.models import (
    CompetencyDecision,
    CriterionResult,
    Evaluation,
    EvaluationStatus,
    Settlement,
)
from referentiel.model import Competency, Framework
from referentiel.rules import Attempt, attempt

_CRITERIA_INSERT = sa.insert(CriterionResult.__table__)  # type: ignore[arg-type]
_DECISIONS_INSERT = sa.insert(CompetencyDecision.__table__)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Decision:
    """The grid's verdict on one competency."""

    competency: Competency
    met: int
    is_rule_acquired: bool
    attempt: Attempt  # the override's when there is one


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
    evaluation = editable(opening)
    competencies = targeted(framework, opening.submission)
    decisions = [
        decide(framework, c, grid.levels, grid.competencies[c.code].override, now)
        for c in competencies
    ]
    claim(session, evaluation, grid, now, {})
    write_rows(session, evaluation, grid, framework, decisions, {})
    return decisions


def editable(opening: Opening) -> Evaluation:
    """Return the evaluation opened for saving; refuse one already published."""
    if opening.evaluation is None:  # pragma: no cover (callers open with create=True)
        raise ValueError("open the evaluation with create=True before saving it")
    if opening.evaluation.status == EvaluationStatus.PUBLISHED:
        raise GradingError("EVAL_PUBLISHED")
    return opening.evaluation


def claim(
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


def write_rows(
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
