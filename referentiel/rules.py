"""Progress rules: criterion → competency → bloc → certification, as pure functions.

One evaluation of a competency gives an :class:`Attempt`: the share of its criteria met
(a score in [0, 1]) and whether it is *acquise* by the framework's rule, unless the
evaluator overrode the rule (the jury is sovereign). Several attempts combine by the
course's method, with Canvas's definitions of the same names; the combined score is then
compared with the competency's threshold, the score at which one attempt is acquired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from referentiel.model import Bloc, Competency, CompetencyRule, Framework, Rules


class Method(StrEnum):
    """How several evaluations of one competency combine (Canvas's names)."""

    LATEST = "latest"
    HIGHEST = "highest"
    AVERAGE = "average"
    WEIGHTED_AVERAGE = "weighted_average"
    DECAYING_AVERAGE = "decaying_average"
    N_MASTERY = "n_mastery"


DEFAULT_WEIGHT = 65  # Canvas's default for both averages: the latest attempt counts 65 %.
DEFAULT_MASTERY_COUNT = 2


class Status(StrEnum):
    """Where a learner stands on a competency, a bloc or the certification."""

    NOT_EVALUATED = "non_evalue"
    IN_PROGRESS = "en_cours"
    ACQUIRED = "acquis"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One published evaluation of one competency."""

    score: float
    is_acquired: bool
    evaluated_at: datetime
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class CompetencyProgress:
    """A competency's combined result."""

    code: str
    status: Status
    score: float | None
    attempts: int


@dataclass(frozen=True, slots=True)
class BlocProgress:
    """A bloc's result: validated when every competency is acquired."""

    code: str
    status: Status
    acquired: int
    total: int
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CertificationProgress:
    """The certification's result: obtained when every bloc is validated."""

    status: Status
    blocs: tuple[BlocProgress, ...]


def threshold(competency: Competency, rules: Rules) -> float:
    """Return the share of criteria met at which one evaluation acquires the competency."""
    if rules.competency is CompetencyRule.MIN_CRITERIA and rules.min_criteria is not None:
        return min(1.0, rules.min_criteria / len(competency.criteria))
    return 1.0


def attempt(
    competency: Competency,
    rules: Rules,
    met: Mapping[str, bool],
    evaluated_at: datetime,
    override: bool | None = None,
    weight: float = 1.0,
) -> Attempt:
    """Judge one evaluation of a competency from its criteria (code → met).

    A criterion missing from ``met`` counts as not met. An ``override`` replaces the rule's
    decision; its score is then 1 (acquired) or 0 (not acquired), so that combining it with
    other attempts honours the jury's decision as a whole.
    """
    count = sum(1 for criterion in competency.criteria if met.get(criterion.code, False))
    share = count / len(competency.criteria)
    if override is not None:
        return Attempt(1.0 if override else 0.0, override, evaluated_at, weight)
    return Attempt(share, share >= threshold(competency, rules), evaluated_at, weight)


def combine(
    attempts: Iterable[Attempt],
    method: Method = Method.LATEST,
    parameter: int | None = None,
    mastery: float = 1.0,
) -> float | None:
    """Combine attempts into one score, or ``None`` when the method cannot conclude yet.

    ``parameter`` is Canvas's ``calculation_int``: the weight in percent of the latest
    attempt for the two averages (default 65), or the number of attempts at or above
    ``mastery`` that n-mastery requires (default 2). Attempts are ordered by date, so the
    order in which they are given never matters; equal dates keep the given order.
    """
    ordered = sorted(attempts, key=lambda a: a.evaluated_at)
    if not ordered:
        return None
    scores = [Fraction(a.score) for a in ordered]
    result: Fraction
    if method is Method.LATEST:
        result = scores[-1]
    elif method is Method.HIGHEST:
        result = max(scores)
    elif method is Method.AVERAGE:
        weights = [Fraction(a.weight) for a in ordered]
        result = sum((s * w for s, w in zip(scores, weights, strict=True)), Fraction(0)) / sum(
            weights
        )
    elif method is Method.WEIGHTED_AVERAGE:
        weight = Fraction(DEFAULT_WEIGHT if parameter is None else parameter, 100)
        if len(scores) == 1:
            result = scores[0]
        else:
            older = sum(scores[:-1], Fraction(0)) / (len(scores) - 1)
            result = scores[-1] * weight + older * (1 - weight)
    elif method is Method.DECAYING_AVERAGE:
        weight = Fraction(DEFAULT_WEIGHT if parameter is None else parameter, 100)
        result = scores[0]
        for score in scores[1:]:
            result = result * (1 - weight) + score * weight
    elif method is Method.N_MASTERY:
        needed = DEFAULT_MASTERY_COUNT if parameter is None else parameter
        masteries = [s for s in scores if s >= Fraction(mastery)]
        if len(masteries) < needed:
            return None
        result = sum(masteries, Fraction(0)) / len(masteries)
    else:  # pragma: no cover - StrEnum is closed
        raise ValueError(method)
    return float(result)


def competency_progress(
    competency: Competency,
    rules: Rules,
    attempts: Sequence[Attempt],
    method: Method = Method.LATEST,
    parameter: int | None = None,
) -> CompetencyProgress:
    """Return a competency's status from all its published attempts."""
    if not attempts:
        return CompetencyProgress(competency.code, Status.NOT_EVALUATED, None, 0)
    mastery = threshold(competency, rules)
    score: float | None
    if method is Method.LATEST:
        # The latest decision stands as it is, override included.
        latest = max(enumerate(attempts), key=lambda ia: (ia[1].evaluated_at, ia[0]))[1]
        acquired, score = latest.is_acquired, latest.score
    else:
        combined = combine(attempts, method, parameter, mastery)
        acquired = combined is not None and combined >= mastery - 1e-9
        score = combined
    status = Status.ACQUIRED if acquired else Status.IN_PROGRESS
    return CompetencyProgress(competency.code, status, score, len(attempts))


def bloc_progress(
    bloc: Bloc,
    competencies: Mapping[str, CompetencyProgress],
    was_validated: bool = False,
) -> BlocProgress:
    """Return a bloc's status; a bloc once validated stays validated (RNCP blocs are kept)."""
    acquired = [c.code for c in bloc.competencies if _acquired(competencies.get(c.code))]
    missing = tuple(c.code for c in bloc.competencies if c.code not in acquired)
    if was_validated or not missing:
        status = Status.ACQUIRED
    elif any(c.code in competencies and competencies[c.code].attempts for c in bloc.competencies):
        status = Status.IN_PROGRESS
    else:
        status = Status.NOT_EVALUATED
    return BlocProgress(bloc.code, status, len(acquired), len(bloc.competencies), missing)


def certification_progress(
    framework: Framework,
    competencies: Mapping[str, CompetencyProgress],
    validated_blocs: frozenset[str] = frozenset(),
) -> CertificationProgress:
    """Return the certification's status and each bloc's, from competency statuses."""
    blocs = tuple(
        bloc_progress(bloc, competencies, bloc.code in validated_blocs) for bloc in framework.blocs
    )
    if all(b.status is Status.ACQUIRED for b in blocs):
        status = Status.ACQUIRED
    elif any(b.status is not Status.NOT_EVALUATED for b in blocs):
        status = Status.IN_PROGRESS
    else:
        status = Status.NOT_EVALUATED
    return CertificationProgress(status, blocs)


def _acquired(progress: CompetencyProgress | None) -> bool:
    return progress is not None and progress.status is Status.ACQUIRED
