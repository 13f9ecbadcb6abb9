"""Which published evaluation of a version settles it: the jury first, then the latest.

Up to two people publish on one version of a learner's work, its evaluator and its jury.
Whatever reads the outcome (the progress engine's attempts, the record's criterion
levels) keeps, for each version and each thing judged, one evaluation: the jury's when
there is one (the jury is sovereign), else the latest publication. The evaluation's id
breaks a tie of dates, so the same rows always settle the same way whatever their order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from typing import Protocol, TypeVar

from lti_tool.evaluation.models import EvaluationRole


class Published(Protocol):
    """A published evaluation, as a row or a record: who published it, and when."""

    @property
    def id(self) -> int:
        """Return the evaluation's id."""

    @property
    def role(self) -> str:
        """Return ``evaluator`` or ``jury``."""

    @property
    def published_at(self) -> dt.datetime:
        """Return when it was published."""


K = TypeVar("K", bound=Hashable)
P = TypeVar("P", bound=Published)


def rank(evaluation: Published) -> tuple[bool, dt.datetime, int]:
    """Return how an evaluation ranks on its version: the jury's first, then the latest."""
    return (evaluation.role == EvaluationRole.JURY, evaluation.published_at, evaluation.id)


def settle(candidates: Iterable[tuple[K, P]]) -> dict[K, P]:
    """Keep, for each key (a version and what was judged on it), the evaluation that settles."""
    settled: dict[K, P] = {}
    for key, evaluation in candidates:
        kept = settled.get(key)
        if kept is None or rank(evaluation) > rank(kept):
            settled[key] = evaluation
    return settled
