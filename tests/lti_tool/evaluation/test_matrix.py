"""The class matrix: cells from progress rows, filters, sorting, isolation, constant queries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.evaluation import progress
from lti_tool.evaluation.matrix import Matrix, MatrixFilters, Sort, class_matrix
from lti_tool.frameworks import find_record, framework_of, install_bundled
from referentiel.model import Framework
from referentiel.rules import Status
from tests.lti_tool.evaluation.factories import (
    FRAMEWORK,
    Course,
    at,
    course,
    hand_in,
    person,
    placement,
    publish,
    submission,
)

B1 = [f"C1.{n}" for n in range(1, 12)]


@pytest.fixture
def session(clean_database: Database) -> Iterator[Session]:
    with clean_database.session() as session:
        install_bundled(session)
        yield session


@pytest.fixture
def framework(session: Session) -> Framework:
    record = find_record(session, FRAMEWORK)
    assert record is not None
    return framework_of(record)


def evaluate(
    session: Session,
    framework: Framework,
    where: Course,
    learner: int,
    scores: dict[str, float],
    minute: int = 1,
) -> None:
    """Hand in work on these competencies, publish an evaluation, update progress."""
    evaluator = person(session, where, f"Évaluateur {learner}-{minute}", is_staff=True)
    link = placement(session, where, "E1")
    work = submission(session, where, link, learner, scores)
    version = hand_in(session, work, at(minute))
    publish(session, version, evaluator, at(minute + 1), scores)
    progress.update(session, framework, where.context_id, learner, at(minute + 2))


def row_of(matrix: Matrix, learner: int) -> dict[str, Status]:
    """Return a learner's cells keyed by competency code, bloc code and "certification"."""
    row = next(r for r in matrix.rows if r.learner.id == learner)
    cells: dict[str, Status] = {"certification": row.certification}
    for bloc, shown in zip(matrix.blocs, row.blocs, strict=True):
        cells.update(zip((c.code for c in bloc.competencies), shown.competencies, strict=True))
        cells[shown.code] = shown.status
    return cells


def test_cells_come_from_progress_rows_and_absent_rows_are_not_evaluated(
    session: Session, framework: Framework
) -> None:
    where = course(session)
    lea = person(session, where, "Léa Martin")
    evaluate(session, framework, where, lea, {"C1.1": 1.0, "C1.2": 0.5})

    matrix = class_matrix(session, where.context_id, framework, MatrixFilters())

    cells = row_of(matrix, lea)
    assert cells["C1.1"] is Status.ACQUIRED
    assert cells["C1.2"] is Status.IN_PROGRESS
    assert cells["C1.3"] is Status.NOT_EVALUATED
    assert cells["C4.11"] is Status.NOT_EVALUATED
    assert cells["B1"] is Status.IN_PROGRESS
    assert cells["certification"] is Status.IN_PROGRESS
    assert [b.code for b in matrix.blocs] == ["B1", "B2", "B3", "B4"]
    assert matrix.competency_count == 44
    assert matrix.rows[0].acquired == 1


def test_bloc_is_validated_once_all_its_competencies_are_acquired(
    session: Session, framework: Framework
) -> None:
    where = course(session)
    lea = person(session, where, "Léa Martin")
    evaluate(session, framework, where, lea, dict.fromkeys(B1[:-1], 1.0))
    before = row_of(class_matrix(session, where.context_id, framework, MatrixFilters()), lea)
    assert before["B1"] is Status.IN_PROGRESS

    evaluate(session, framework, where, lea, {B1[-1]: 1.0}, minute=10)

    after = row_of(class_matrix(session, where.context_id, framework, MatrixFilters()), lea)
    assert after["B1"] is Status.ACQUIRED
    assert after["B2"] is Status.NOT_EVALUATED
    assert after["certification"] is Status.IN_PROGRESS


def test_rows_are_the_courses_learners_and_authors_never_staff_nor_other_courses(
    session: Session, framework: Framework
) -> None:
    where, elsewhere = course(session), course(session)
    lea = person(session, where, "Léa Martin")
    teacher = person(session, where, "Paul Durand", is_staff=True)
    stranger = person(session, elsewhere, "Zoé Autre")
    evaluate(session, framework, elsewhere, stranger, {"C1.1": 1.0})
    # A staff member who handed in work (a test by the teacher) is shown: work is evidence.
    evaluate(session, framework, where, teacher, {"C1.1": 1.0})

    matrix = class_matrix(session, where.context_id, framework, MatrixFilters())

    ids = {row.learner.id for row in matrix.rows}
    assert lea in ids
    assert teacher in ids
    assert stranger not in ids
    assert all(not name.startswith("Évaluateur") for name in _names(matrix))
    assert row_of(matrix, lea)["C1.1"] is Status.NOT_EVALUATED  # the stranger's row stays away


def _names(matrix: Matrix) -> list[str]:
    return [row.learner.display_name or "" for row in matrix.rows]


def test_filters_by_bloc_status_and_group(session: Session, framework: Framework) -> None:
    where = course(session)
    ana = person(session, where, "Ana Costa")
    lea = person(session, where, "Léa Martin")
    sam = person(session, where, "Sam Leroy")
    evaluate(session, framework, where, ana, dict.fromkeys(B1, 1.0))
    evaluate(session, framework, where, lea, {"C2.1": 1.0})

    only_b2 = class_matrix(session, where.context_id, framework, MatrixFilters(bloc="B2"))
    assert [b.code for b in only_b2.blocs] == ["B2"]
    assert all(len(row.blocs) == 1 for row in only_b2.rows)
    assert row_of(only_b2, lea)["C2.1"] is Status.ACQUIRED
    assert "C1.1" not in row_of(only_b2, ana)

    validated_b1 = class_matrix(
        session, where.context_id, framework, MatrixFilters(bloc="B1", status=Status.ACQUIRED)
    )
    assert _names(validated_b1) == ["Ana Costa"]
    # Without a bloc, the status is the certification's.
    never = class_matrix(
        session, where.context_id, framework, MatrixFilters(status=Status.NOT_EVALUATED)
    )
    assert _names(never) == ["Sam Leroy"]
    assert never.learner_count == 3

    groups = {ana: ["Groupe A"], sam: ["Groupe A", "Groupe B"], lea: ["Groupe B"]}
    group_a = class_matrix(
        session, where.context_id, framework, MatrixFilters(group="Groupe A"), groups
    )
    assert _names(group_a) == ["Ana Costa", "Sam Leroy"]
    assert group_a.groups == ("Groupe A", "Groupe B")
    assert class_matrix(session, where.context_id, framework, MatrixFilters()).groups == ()


def test_sorting(session: Session, framework: Framework) -> None:
    where = course(session)
    ana = person(session, where, "Ana Costa")
    lea = person(session, where, "Léa Martin")
    person(session, where, "Zoé Bernard")
    evaluate(session, framework, where, ana, {"C1.1": 1.0, "C2.1": 1.0, "C2.2": 1.0})
    evaluate(session, framework, where, lea, dict.fromkeys(B1, 1.0))

    def order(**changes: object) -> list[str]:
        filters = MatrixFilters(**changes)  # type: ignore[arg-type]
        return _names(class_matrix(session, where.context_id, framework, filters))

    assert order() == ["Ana Costa", "Léa Martin", "Zoé Bernard"]
    assert order(descending=True) == ["Zoé Bernard", "Léa Martin", "Ana Costa"]
    assert order(sort=Sort.ACQUIRED, descending=True) == ["Léa Martin", "Ana Costa", "Zoé Bernard"]
    assert order(sort=Sort.CERTIFICATION) == ["Zoé Bernard", "Ana Costa", "Léa Martin"]
    assert order(sort=Sort.BLOC, sort_bloc="B2", descending=True)[0] == "Ana Costa"
    assert order(sort=Sort.BLOC, sort_bloc="B1", descending=True)[0] == "Léa Martin"


def test_sort_by_name_uses_family_name(session: Session, framework: Framework) -> None:
    where = course(session)
    for given, family in [("Zoé", "Abel"), ("Ana", "Zola")]:
        user = person(session, where, f"{given} {family}")
        session.execute(
            sa.text("UPDATE lti_users SET given_name = :g, family_name = :f WHERE id = :i"),
            {"g": given, "f": family, "i": user},
        )
    matrix = class_matrix(session, where.context_id, framework, MatrixFilters())
    assert _names(matrix) == ["Zoé Abel", "Ana Zola"]


def test_unknown_bloc_is_a_key_error(session: Session, framework: Framework) -> None:
    where = course(session)
    with pytest.raises(KeyError):
        class_matrix(session, where.context_id, framework, MatrixFilters(bloc="B9"))


def _queries(session: Session, framework: Framework, where: Course) -> int:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        class_matrix(session, where.context_id, framework, MatrixFilters(sort=Sort.ACQUIRED))
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_query_count_does_not_grow_with_class_size(session: Session, framework: Framework) -> None:
    small, large = course(session), course(session)
    for where, size in ((small, 10), (large, 50)):
        for n in range(size):
            learner = person(session, where, f"Apprenant {n:02d}")
            if n % 3 == 0:
                evaluate(session, framework, where, learner, {"C1.1": 1.0, "C3.2": 0.5}, n)
    session.flush()

    assert _queries(session, framework, small) == _queries(session, framework, large) == 2
