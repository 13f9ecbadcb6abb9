"""A learner's record: what it shows, whose rows it reads, and what it costs in queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.evaluation import progress
from lti_tool.evaluation.models import EvaluationRole, Settlement
from lti_tool.evaluation.record import learner_record
from lti_tool.frameworks import bundled_frameworks
from referentiel.model import Framework
from referentiel.rules import Status
from tests.lti_tool.evaluation import factories
from tests.lti_tool.evaluation.factories import at

MET, NOT_MET = ("atteint", True), ("non_atteint", False)
E1 = ("C1.1", "C1.2", "C1.3", "C1.4", "C1.5")


@pytest.fixture(scope="module")
def framework() -> Framework:
    return next(f for f in bundled_frameworks() if f.code == factories.FRAMEWORK)


@pytest.fixture
def session(clean_database: Database) -> Iterator[Session]:
    with clean_database.session() as session:
        yield session


@contextmanager
def counting(session: Session) -> Iterator[list[str]]:
    """Record every SQL statement the session's engine runs in the block."""
    statements: list[str] = []
    engine = session.get_bind()

    def _count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", _count)


class Course:
    def __init__(self, session: Session, framework: Framework) -> None:
        self.session, self.framework = session, framework
        self.where = factories.course(session)
        self.evaluator = factories.person(session, self.where, "Paul Durand", is_staff=True)
        self.jury = factories.person(session, self.where, "Ana Costa", is_staff=True)
        self.e1 = factories.placement(session, self.where, "E1", title="Étude de cas (Moodle)")
        self.e3 = factories.placement(session, self.where, "E3")

    def learner(self, name: str = "Léa Martin") -> int:
        return factories.person(self.session, self.where, name)

    def evaluations(self, learner: int, count: int) -> None:
        """Publish ``count`` evaluations of E1, one version each, then update progress."""
        work = factories.submission(self.session, self.where, self.e1, learner, E1)
        for index in range(count):
            version = factories.hand_in(
                self.session, work, at(index * 60), files=[f"v{index}.pdf"], links=["https://x.fr"]
            )
            factories.publish(
                self.session,
                version,
                self.evaluator,
                at(index * 60 + 5),
                dict.fromkeys(E1, 1.0),
                criteria={c.code: MET for c in self.framework.competency("C1.1").criteria},
            )
        progress.update(self.session, self.framework, self.where.context_id, learner, at(10_000))

    def record(self, learner: int):  # type: ignore[no-untyped-def]
        return learner_record(self.session, self.where.context_id, learner, self.framework)


def test_an_empty_record(session: Session, framework: Framework) -> None:
    course = Course(session, framework)
    record = course.record(course.learner())
    assert record.is_empty
    assert record.certification is Status.NOT_EVALUATED
    assert [b.status for b in record.blocs] == [Status.NOT_EVALUATED] * 4
    b1 = record.blocs[0]
    assert (b1.acquired, b1.in_progress, b1.total) == (0, 0, 11)
    # What remains: every competency, with the épreuve of this course that evaluates it.
    assert len(b1.remaining) == 11
    assert [p.code for p in record.competency("C1.1").epreuves] == ["E1"]
    assert record.competency("C1.1").epreuves[0].link_title == "Étude de cas (Moodle)"
    assert record.competency("C1.6").epreuves == ()  # E2 is not placed in this course
    assert [p.code for p in record.competency("C2.1").epreuves] == ["E3"]
    assert record.learner_name == "Léa Martin"


def test_the_record_reads_progress_rows_and_published_evaluations(
    session: Session, framework: Framework
) -> None:
    course = Course(session, framework)
    learner = course.learner()
    work = factories.submission(session, course.where, course.e1, learner, E1)
    first = factories.hand_in(session, work, at(0), text="v1", files=["plan.pdf"])
    factories.publish(
        session,
        first,
        course.evaluator,
        at(10),
        {"C1.1": 0.75, "C1.2": 1.0},
        overrides={"C1.1": True},
        criteria={"C1.1-1": NOT_MET, "C1.1-2": MET},
        comment="Bon diagnostic.",
    )
    # A jury on the same version settles C1.1-1 as met, though it published earlier.
    factories.publish(
        session,
        first,
        course.jury,
        at(5),
        {"C1.1": 1.0},
        role=EvaluationRole.JURY,
        criteria={"C1.1-1": MET},
        settlement=Settlement.JURY,
    )
    second = factories.hand_in(session, work, at(20), links=["https://exemple.fr/veille"])
    factories.publish(
        session, second, course.evaluator, at(30), {"C1.2": 0.5}, criteria={"C1.2-1": NOT_MET}
    )
    # A draft version is not evidence; another learner's work is not theirs.
    factories.submission(session, course.where, course.e3, course.learner("Autre"), ["C2.1"])
    progress.update(session, framework, course.where.context_id, learner, at(100))

    record = course.record(learner)
    c11, c12 = record.competency("C1.1"), record.competency("C1.2")
    assert (c11.status, c11.attempts, c11.acquired_at) == (Status.ACQUIRED, 1, at(100))
    assert (c12.status, c12.score, c12.attempts) == (Status.IN_PROGRESS, 0.5, 2)
    b1 = record.blocs[0]
    assert (b1.status, b1.acquired, b1.in_progress, b1.not_evaluated) == (
        Status.IN_PROGRESS,
        1,
        1,
        9,
    )
    assert "C1.1" not in [c.code for c in b1.remaining]
    levels = {c.code: (c.level_code, c.is_met, c.epreuve_code) for c in c11.criteria}
    assert levels["C1.1-1"] == ("atteint", True, "E1")  # the jury's level
    assert levels["C1.1-2"] == ("atteint", True, "E1")
    assert levels["C1.1-3"] == (None, None, None)
    assert c11.criteria[0].level is not None
    assert c11.criteria[0].level.label == "Atteint"
    [evaluator, jury, later] = sorted(record.evaluations, key=lambda e: e.id)
    assert (evaluator.evaluator_name, evaluator.role, evaluator.comment) == (
        "Paul Durand",
        "evaluator",
        "Bon diagnostic.",
    )
    override = next(d for d in evaluator.decisions if d.competency_code == "C1.1")
    assert (override.override, override.is_rule_acquired, override.is_acquired) == (
        True,
        False,
        True,
    )
    assert override.justification == "Justification pour C1.1"
    assert jury.role == "jury"
    assert jury.decisions[0].settlement == "jury"
    assert (later.version_number, later.epreuve_code) == (2, "E1")
    # Oldest first.
    assert [e.published_at for e in record.evaluations] == sorted(
        e.published_at for e in record.evaluations
    )
    assert [(v.number, v.text, [f.name for f in v.files], v.links) for v in record.evidence] == [
        (1, "v1", ["plan.pdf"], ()),
        (2, "", [], ("https://exemple.fr/veille",)),
    ]


def test_a_validated_bloc_has_nothing_left(session: Session, framework: Framework) -> None:
    course = Course(session, framework)
    learner = course.learner()
    work = factories.submission(session, course.where, course.e1, learner, E1)
    every = {c.code: 1.0 for c in framework.bloc("B1").competencies}
    factories.publish(
        session, factories.hand_in(session, work, at(0)), course.evaluator, at(1), every
    )
    progress.update(session, framework, course.where.context_id, learner, at(2))
    record = course.record(learner)
    assert record.blocs[0].status is Status.ACQUIRED
    assert record.blocs[0].remaining == ()
    assert record.blocs_validated == 1
    assert record.certification is Status.IN_PROGRESS


def test_another_course_sees_nothing(session: Session, framework: Framework) -> None:
    course = Course(session, framework)
    learner = course.learner()
    course.evaluations(learner, 2)
    other = factories.course(session)
    record = learner_record(session, other.context_id, learner, framework)
    assert record.is_empty
    assert record.evaluations == ()
    assert record.evidence == ()
    assert record.placements == ()


def test_the_query_count_does_not_grow_with_the_evaluations(
    session: Session, framework: Framework
) -> None:
    course = Course(session, framework)
    few, many = course.learner("Peu"), course.learner("Beaucoup")
    course.evaluations(few, 1)
    course.evaluations(many, 8)
    session.expire_all()
    with counting(session) as one:
        assert len(course.record(few).evaluations) == 1
    session.expire_all()
    with counting(session) as eight:
        record = course.record(many)
    assert len(record.evaluations) == 8
    assert len(record.evidence) == 8
    assert len(one) == len(eight)
    assert len(eight) <= 8
