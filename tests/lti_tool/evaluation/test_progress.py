"""The progress engine on real rows: every method by hand, blocs, the jury, row order.

``referentiel.rules`` has its own pure tests (tests/referentiel/test_rules.py); these go
through the tables: decisions settled per version, attempts dated by publication, and the
materialized rows that pages read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.evaluation import progress
from lti_tool.evaluation.models import (
    CourseSettings,
    EvaluationRole,
    LearnerProgress,
    ProgressKind,
    Settlement,
)
from lti_tool.evaluation.progress import CourseMethod
from referentiel.loader import load_yaml_text
from referentiel.model import Framework
from referentiel.rules import Method, Status
from tests.lti_tool.evaluation import factories
from tests.lti_tool.evaluation.factories import at

MINI = """\
format: jalon-referentiel/1
framework: {code: mini2, title: Deux blocs, level: 5, version: "1", language: fr, publisher: Jalon}
scale:
  - {code: non, label: Non atteint, label_en: Not met, is_passing: false}
  - {code: oui, label: Atteint, label_en: Met, is_passing: true}
blocs:
  - code: B1
    title: Premier bloc
    competencies:
      - code: C1
        statement: Faire une chose.
        criteria:
          - {code: C1-1, text: La chose est faite.}
          - {code: C1-2, text: La chose est bien faite.}
      - code: C2
        statement: Faire une autre chose.
        criteria:
          - {code: C2-1, text: L’autre chose est faite.}
  - code: B2
    title: Second bloc
    competencies:
      - code: C3
        statement: Faire une troisième chose.
        criteria:
          - {code: C3-1, text: La troisième chose est faite.}
activities:
  - {code: A1, bloc: B1, title: Activité, tasks: [Une tâche], competencies: [C1, C2]}
epreuves:
  - code: E1
    title: Épreuve
    modality: etude_de_cas
    modality_label: Étude de cas
    description: Un cas.
    deliverables: [Un livrable]
    competencies: [C1, C2, C3]
"""
NOW = at(10_000)


@pytest.fixture(scope="module")
def framework() -> Framework:
    return load_yaml_text(MINI)


@pytest.fixture
def session(clean_database: Database) -> Iterator[Session]:
    with clean_database.session() as session:
        yield session


class Learner:
    """A learner of a fresh course, one submission, and an evaluator and a jury."""

    def __init__(self, session: Session, framework: Framework) -> None:
        self.session, self.framework = session, framework
        self.course = factories.course(session)
        self.id = factories.person(session, self.course, "Léa Martin")
        self.evaluator = factories.person(session, self.course, "Paul Durand", is_staff=True)
        self.jury = factories.person(session, self.course, "Ana Costa", is_staff=True)
        link = factories.placement(session, self.course, "E1", framework=framework.code)
        self.work = factories.submission(
            session, self.course, link, self.id, ["C1", "C2", "C3"], framework=framework.code
        )

    def evaluate(self, minute: int, scores: dict[str, float], **options: object) -> int:
        """Hand in a new version at ``minute`` and publish its evaluation then."""
        version = factories.hand_in(self.session, self.work, at(minute))
        factories.publish(self.session, version, self.evaluator, at(minute), scores, **options)  # type: ignore[arg-type]
        return version.id

    def update(self, method: Method = Method.LATEST, parameter: int | None = None):  # type: ignore[no-untyped-def]
        return progress.update(
            self.session,
            self.framework,
            self.course.context_id,
            self.id,
            NOW,
            CourseMethod(method, parameter),
        )

    def rows(self) -> dict[tuple[str, str], LearnerProgress]:
        return {
            (row.kind, row.code): row
            for row in self.session.scalars(
                sa.select(LearnerProgress).where(
                    LearnerProgress.context_id == self.course.context_id,
                    LearnerProgress.learner_id == self.id,
                )
            )
        }


# C1 is evaluated three times: half its criteria, all of them, half again.
THREE = (0.5, 1.0, 0.5)


@pytest.mark.parametrize(
    ("method", "parameter", "status", "score"),
    [
        (Method.LATEST, None, Status.IN_PROGRESS, 0.5),
        (Method.HIGHEST, None, Status.ACQUIRED, 1.0),
        (Method.AVERAGE, None, Status.IN_PROGRESS, 2.0 / 3.0),
        # latest × 65 % + mean(0.5, 1.0) × 35 % = 0.325 + 0.2625
        (Method.WEIGHTED_AVERAGE, None, Status.IN_PROGRESS, 0.5875),
        # latest × 20 % + mean(0.5, 1.0) × 80 % = 0.1 + 0.6
        (Method.WEIGHTED_AVERAGE, 20, Status.IN_PROGRESS, 0.7),
        # ((0.5 × 35 % + 1.0 × 65 %) × 35 % + 0.5 × 65 %) = 0.825 × 0.35 + 0.325
        (Method.DECAYING_AVERAGE, None, Status.IN_PROGRESS, 0.61375),
        # (0.5 × 50 % + 1.0 × 50 %) × 50 % + 0.5 × 50 % = 0.375 + 0.25
        (Method.DECAYING_AVERAGE, 50, Status.IN_PROGRESS, 0.625),
        # Only one attempt reached mastery: two are needed, so nothing can be concluded.
        (Method.N_MASTERY, None, Status.IN_PROGRESS, None),
        (Method.N_MASTERY, 1, Status.ACQUIRED, 1.0),
    ],
)
def test_each_method_on_real_rows(
    session: Session,
    framework: Framework,
    method: Method,
    parameter: int | None,
    status: Status,
    score: float | None,
) -> None:
    learner = Learner(session, framework)
    for minute, share in enumerate(THREE):
        learner.evaluate(minute * 60, {"C1": share})
    change = learner.update(method, parameter)
    row = learner.rows()[(ProgressKind.COMPETENCY, "C1")]
    assert (row.status, row.attempts) == (status, 3)
    assert row.score == (None if score is None else pytest.approx(score))
    assert change.competencies["C1"].status is status
    assert (row.acquired_at == NOW) is (status is Status.ACQUIRED)


@pytest.mark.parametrize(
    ("method", "parameter"),
    [
        (Method.LATEST, None),
        (Method.HIGHEST, None),
        (Method.AVERAGE, None),
        (Method.WEIGHTED_AVERAGE, 65),
        (Method.DECAYING_AVERAGE, 65),
        (Method.N_MASTERY, 2),
    ],
)
def test_twice_mastered_is_acquired_by_every_method(
    session: Session, framework: Framework, method: Method, parameter: int | None
) -> None:
    learner = Learner(session, framework)
    learner.evaluate(0, {"C1": 1.0})
    learner.evaluate(60, {"C1": 1.0})
    assert learner.update(method, parameter).competencies["C1"].status is Status.ACQUIRED


def test_an_override_counts_as_the_whole_decision(session: Session, framework: Framework) -> None:
    learner = Learner(session, framework)
    learner.evaluate(0, {"C1": 0.5}, overrides={"C1": True})
    learner.evaluate(60, {"C1": 0.5})
    # Highest keeps the overridden attempt (scored 1); latest keeps the later rule decision.
    assert learner.update(Method.HIGHEST).competencies["C1"].status is Status.ACQUIRED
    assert learner.update(Method.LATEST).competencies["C1"].status is Status.IN_PROGRESS


def test_never_evaluated_competencies_have_no_row(session: Session, framework: Framework) -> None:
    learner = Learner(session, framework)
    learner.evaluate(0, {"C1": 0.5})
    learner.update()
    rows = learner.rows()
    assert (ProgressKind.COMPETENCY, "C2") not in rows
    assert rows[(ProgressKind.BLOC, "B1")].status == Status.IN_PROGRESS
    assert rows[(ProgressKind.BLOC, "B2")].status == Status.NOT_EVALUATED
    assert rows[(ProgressKind.CERTIFICATION, "mini2")].status == Status.IN_PROGRESS


def test_a_bloc_is_validated_once_all_its_competencies_are_and_stays_so(
    session: Session, framework: Framework
) -> None:
    learner = Learner(session, framework)
    learner.evaluate(0, {"C1": 1.0})
    first = learner.update()
    assert first.newly_acquired == ("C1",)
    assert first.blocs_validated == ()
    learner.evaluate(60, {"C2": 1.0})
    second = learner.update()
    assert second.newly_acquired == ("C2",)
    assert second.blocs_validated == ("B1",)
    assert learner.rows()[(ProgressKind.BLOC, "B1")].status == Status.ACQUIRED
    # A later evaluation takes C1 back under "latest": the bloc stays validated.
    learner.evaluate(120, {"C1": 0.5})
    third = learner.update()
    rows = learner.rows()
    assert rows[(ProgressKind.COMPETENCY, "C1")].status == Status.IN_PROGRESS
    assert rows[(ProgressKind.BLOC, "B1")].status == Status.ACQUIRED
    assert third.blocs_validated == ()
    assert not third.certification_obtained


def test_the_certification_needs_every_bloc(session: Session, framework: Framework) -> None:
    learner = Learner(session, framework)
    learner.evaluate(0, {"C1": 1.0, "C2": 1.0})
    assert not learner.update().certification_obtained
    learner.evaluate(60, {"C3": 1.0})
    change = learner.update()
    assert change.blocs_validated == ("B2",)
    assert change.certification_obtained
    certification = learner.rows()[(ProgressKind.CERTIFICATION, "mini2")]
    assert (certification.status, certification.attempts) == (Status.ACQUIRED, 2)
    # Obtained once: a later update reports nothing new.
    assert not learner.update().certification_obtained


def test_the_jury_prevails_on_a_version(session: Session, framework: Framework) -> None:
    learner = Learner(session, framework)
    version = factories.hand_in(session, learner.work, at(0))
    factories.publish(
        session,
        version,
        learner.jury,
        at(10),
        {"C1": 1.0},
        role=EvaluationRole.JURY,
        overrides={"C1": False},
        settlement=Settlement.JURY,
    )
    # The evaluator published later, but the jury is sovereign on this version.
    factories.publish(session, version, learner.evaluator, at(20), {"C1": 1.0})
    change = learner.update(Method.HIGHEST)
    assert change.competencies["C1"].status is Status.IN_PROGRESS
    assert change.competencies["C1"].attempts == 1  # one version, one attempt


def test_an_unchanged_update_writes_nothing(session: Session, framework: Framework) -> None:
    learner = Learner(session, framework)
    learner.evaluate(0, {"C1": 1.0})
    learner.update()
    before = {key: row.updated_at for key, row in learner.rows().items()}
    progress.update(session, framework, learner.course.context_id, learner.id, at(99_999))
    assert {key: row.updated_at for key, row in learner.rows().items()} == before


def test_equal_dates_make_latest_follow_the_version_order(
    session: Session, framework: Framework
) -> None:
    """The edge the property below leaves out: two versions published in the same instant.

    Latest, weighted and decaying averages read the attempts in date order, so for equal
    dates the engine falls back on the version (the one handed in later counts as later).
    """
    learner = Learner(session, framework)
    learner.evaluate(0, {"C1": 1.0})
    learner.evaluate(0, {"C1": 0.5})
    assert learner.update(Method.LATEST).competencies["C1"].status is Status.IN_PROGRESS


# Order independence ----------------------------------------------------------------------

# Methods that read a multiset of scores: they ignore order even between equal dates.
ORDER_FREE_ON_TIES = (Method.HIGHEST, Method.AVERAGE, Method.N_MASTERY)
ALL = tuple(Method)
SCORES = st.sampled_from([0.0, 0.5, 1.0])
# One version: its evaluator's scores, maybe a jury's, the minute both were published.
VERSION = st.tuples(
    st.fixed_dictionaries({"C1": SCORES, "C2": SCORES}),
    st.none() | st.fixed_dictionaries({"C1": SCORES}),
    st.integers(0, 4),
)


def _statuses(
    session: Session,
    framework: Framework,
    versions: list[tuple[dict[str, float], dict[str, float] | None, int]],
    order: list[int],
    methods: tuple[Method, ...],
) -> dict[Method, object]:
    """Insert the same versions in the given order for a new learner; read each method."""
    learner = Learner(session, framework)
    for index in order:
        scores, jury, minute = versions[index]
        version = factories.hand_in(session, learner.work, at(minute))
        judgements = [(learner.evaluator, EvaluationRole.EVALUATOR, scores)]
        if jury is not None:
            judgements.append((learner.jury, EvaluationRole.JURY, jury))
        if index % 2:  # the jury's row first, for some versions
            judgements.reverse()
        for evaluator, role, shares in judgements:
            factories.publish(session, version, evaluator, at(minute), shares, role=role)
    results: dict[Method, object] = {}
    for method in methods:
        change = learner.update(method)
        results[method] = {
            code: (p.status, None if p.score is None else round(p.score, 9), p.attempts)
            for code, p in change.competencies.items()
        }
    return results


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(versions=st.lists(VERSION, min_size=1, max_size=5), data=st.data())
def test_multiset_methods_ignore_insertion_order_even_on_equal_dates(
    session: Session,
    framework: Framework,
    versions: list[tuple[dict[str, float], dict[str, float] | None, int]],
    data: st.DataObject,
) -> None:
    order = data.draw(st.permutations(range(len(versions))))
    straight = _statuses(session, framework, versions, list(range(len(versions))), ALL)
    shuffled = _statuses(session, framework, versions, list(order), ALL)
    for method in ORDER_FREE_ON_TIES:
        assert shuffled[method] == straight[method], method


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    versions=st.lists(VERSION, min_size=1, max_size=5, unique_by=lambda v: v[2]),
    data=st.data(),
)
def test_every_method_ignores_insertion_order_when_dates_differ(
    session: Session,
    framework: Framework,
    versions: list[tuple[dict[str, float], dict[str, float] | None, int]],
    data: st.DataObject,
) -> None:
    order = data.draw(st.permutations(range(len(versions))))
    straight = _statuses(session, framework, versions, list(range(len(versions))), ALL)
    shuffled = _statuses(session, framework, versions, list(order), ALL)
    assert shuffled == straight


def test_recompute_course_applies_the_new_method(session: Session, framework: Framework) -> None:
    learner = Learner(session, framework)
    for minute, share in enumerate(THREE):
        learner.evaluate(minute * 60, {"C1": share})
    learner.update()
    assert learner.rows()[(ProgressKind.COMPETENCY, "C1")].status == Status.IN_PROGRESS
    session.add(CourseSettings(context_id=learner.course.context_id, method=Method.HIGHEST))
    session.flush()
    assert progress.recompute_course(session, framework, learner.course.context_id, NOW) == 1
    assert learner.rows()[(ProgressKind.COMPETENCY, "C1")].status == Status.ACQUIRED


def test_dates_are_utc(session: Session, framework: Framework) -> None:
    learner = Learner(session, framework)
    learner.evaluate(0, {"C1": 1.0})
    learner.update()
    acquired_at = learner.rows()[(ProgressKind.COMPETENCY, "C1")].acquired_at
    assert acquired_at is not None
    assert acquired_at.astimezone(dt.UTC) == NOW
