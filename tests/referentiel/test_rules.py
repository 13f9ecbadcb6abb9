"""Progress rules against hand-computed values, and order independence."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referentiel.loader import load_yaml_text
from referentiel.model import Framework
from referentiel.rules import (
    Attempt,
    Method,
    Status,
    attempt,
    bloc_progress,
    certification_progress,
    combine,
    competency_progress,
)
from tests.referentiel.test_loader import GOOD

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def at(day: int) -> dt.datetime:
    return T0 + dt.timedelta(days=day)


def scores(*values: float) -> list[Attempt]:
    """Attempts one day apart, oldest first."""
    return [Attempt(v, v >= 1.0, at(i)) for i, v in enumerate(values)]


@pytest.fixture(scope="module")
def framework() -> Framework:
    return load_yaml_text(GOOD)


@pytest.mark.parametrize(
    ("method", "parameter", "values", "expected"),
    [
        (Method.LATEST, None, (0.5, 1.0, 0.25), 0.25),
        (Method.HIGHEST, None, (0.5, 1.0, 0.25), 1.0),
        (Method.AVERAGE, None, (0.5, 1.0, 0.25), 0.5833333333333334),
        # Canvas weighted average: latest × 65 % + mean of the older ones × 35 %.
        (Method.WEIGHTED_AVERAGE, None, (0.5, 1.0, 0.25), 0.25 * 0.65 + 0.75 * 0.35),
        (Method.WEIGHTED_AVERAGE, 80, (0.0, 1.0), 0.8),
        (Method.WEIGHTED_AVERAGE, None, (0.4,), 0.4),
        # Canvas decaying average: d = d × 35 % + next × 65 %, from the oldest.
        (
            Method.DECAYING_AVERAGE,
            None,
            (0.5, 1.0, 0.25),
            (0.5 * 0.35 + 1.0 * 0.65) * 0.35 + 0.25 * 0.65,
        ),
        (Method.DECAYING_AVERAGE, 50, (0.0, 1.0, 1.0), 0.75),
        # n-mastery: the mean of the attempts at or above mastery, once there are n of them.
        (Method.N_MASTERY, 2, (1.0, 0.5, 1.0), 1.0),
        (Method.N_MASTERY, 3, (1.0, 0.5, 1.0), None),
    ],
)
def test_combination_methods(
    method: Method, parameter: int | None, values: tuple[float, ...], expected: float | None
) -> None:
    result = combine(scores(*values), method, parameter)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_n_mastery_with_a_lower_threshold() -> None:
    assert combine(scores(0.5, 0.75, 0.25), Method.N_MASTERY, 2, mastery=0.5) == pytest.approx(
        0.625
    )


def test_no_attempt_combines_to_nothing() -> None:
    assert combine([], Method.AVERAGE) is None


def test_attempt_applies_the_rule_and_the_override(framework: Framework) -> None:
    c1 = framework.competency("C1")
    partial = attempt(c1, framework.rules, {"C1-1": True}, at(0))
    assert (partial.score, partial.is_acquired) == (0.5, False)
    full = attempt(c1, framework.rules, {"C1-1": True, "C1-2": True}, at(0))
    assert (full.score, full.is_acquired) == (1.0, True)
    # The jury is sovereign: an override replaces the rule's decision.
    assert attempt(c1, framework.rules, {"C1-1": True}, at(0), override=True).is_acquired
    assert not attempt(
        c1, framework.rules, {"C1-1": True, "C1-2": True}, at(0), override=False
    ).is_acquired


def test_min_criteria_rule(framework: Framework) -> None:
    text = GOOD.replace(
        "scale:\n", "rules:\n  competency: min_criteria\n  min_criteria: 1\nscale:\n", 1
    )
    lenient = load_yaml_text(text)
    assert attempt(lenient.competency("C1"), lenient.rules, {"C1-2": True}, at(0)).is_acquired


@pytest.mark.parametrize(
    ("met", "is_acquired"),
    [((), False), (("C1-1",), False), (("C1-1", "C1-3"), True), (("C1-1", "C1-2", "C1-3"), True)],
)
def test_item13_min_criteria_at_its_lower_boundary(met: tuple[str, ...], is_acquired: bool) -> None:
    """Two criteria of three required: one met is not enough, two are."""
    text = (
        GOOD.replace(
            "scale:\n", "rules:\n  competency: min_criteria\n  min_criteria: 2\nscale:\n", 1
        )
        .replace(
            "          - {code: C1-2, text: La chose est bien faite.}\n",
            "          - {code: C1-2, text: La chose est bien faite.}\n"
            "          - {code: C1-3, text: La chose est expliquée.}\n",
            1,
        )
        .replace(  # every competency needs as many criteria as the rule asks for
            "          - {code: C2-1, text: L’autre chose est faite.}\n",
            "          - {code: C2-1, text: L’autre chose est faite.}\n"
            "          - {code: C2-2, text: L’autre chose est bien faite.}\n",
            1,
        )
    )
    framework = load_yaml_text(text)
    c1 = framework.competency("C1")
    assert [c.code for c in c1.criteria] == ["C1-1", "C1-2", "C1-3"]
    judged = attempt(c1, framework.rules, dict.fromkeys(met, True), at(0))
    assert judged.is_acquired is is_acquired
    assert judged.score == pytest.approx(len(met) / 3)
    # And as the course's progress shows it, through the default combination.
    progress = competency_progress(c1, framework.rules, [judged])
    assert (progress.status is Status.ACQUIRED) is is_acquired


def test_latest_decision_stands(framework: Framework) -> None:
    c1 = framework.competency("C1")
    attempts = [
        attempt(c1, framework.rules, {"C1-1": True, "C1-2": True}, at(0)),
        attempt(c1, framework.rules, {"C1-1": True}, at(1)),
    ]
    progress = competency_progress(c1, framework.rules, attempts)
    assert (progress.status, progress.score, progress.attempts) == (Status.IN_PROGRESS, 0.5, 2)
    assert (
        competency_progress(c1, framework.rules, attempts, Method.HIGHEST).status is Status.ACQUIRED
    )


def test_bloc_and_certification(framework: Framework) -> None:
    c1, c2 = framework.competency("C1"), framework.competency("C2")
    rules = framework.rules
    nothing = certification_progress(framework, {})
    assert nothing.status is Status.NOT_EVALUATED
    only_c1 = {
        "C1": competency_progress(
            c1, rules, [attempt(c1, rules, {"C1-1": True, "C1-2": True}, at(0))]
        )
    }
    half = certification_progress(framework, only_c1)
    assert half.status is Status.IN_PROGRESS
    assert half.blocs[0].missing == ("C2",)
    both = only_c1 | {
        "C2": competency_progress(c2, rules, [attempt(c2, rules, {"C2-1": True}, at(0))])
    }
    assert certification_progress(framework, both).status is Status.ACQUIRED


def test_a_validated_bloc_stays_validated(framework: Framework) -> None:
    bloc = framework.bloc("B1")
    assert bloc_progress(bloc, {}, was_validated=True).status is Status.ACQUIRED
    assert bloc_progress(bloc, {}).status is Status.NOT_EVALUATED


ORDER_FREE = [
    Method.LATEST,
    Method.HIGHEST,
    Method.AVERAGE,
    Method.WEIGHTED_AVERAGE,
    Method.DECAYING_AVERAGE,
    Method.N_MASTERY,
]
attempt_lists = st.lists(
    st.builds(
        Attempt,
        score=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),
        is_acquired=st.booleans(),
        evaluated_at=st.integers(0, 10_000).map(lambda m: T0 + dt.timedelta(minutes=m)),
    ),
    max_size=8,
    unique_by=lambda a: a.evaluated_at,
)


@given(attempts=attempt_lists, data=st.data())
def test_insertion_order_never_matters(attempts: list[Attempt], data: st.DataObject) -> None:
    """Attempts are dated; every method reads them by date, whatever order rows come in."""
    shuffled = data.draw(st.permutations(attempts))
    for method in ORDER_FREE:
        assert combine(shuffled, method) == combine(attempts, method)


@given(attempts=attempt_lists.filter(bool))
def test_scores_stay_between_zero_and_one(attempts: list[Attempt]) -> None:
    for method in ORDER_FREE:
        result = combine(attempts, method, mastery=0.5)
        assert result is None or 0.0 <= result <= 1.0
