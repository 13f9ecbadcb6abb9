"""The class matrix: a course's learners × the framework's competencies, grouped by bloc.

Cells come from the materialized ``learner_progress`` rows that publishing an evaluation
writes, so the matrix is two queries whatever the class size: one for the learners, one
for their progress rows. A competency without a row has never been evaluated.

The class is who Jalon has seen (members who launched, authors of work) and, when the
caller passes the LMS roster (NRPS), its learners who have not launched yet: their rows
are empty, so a teacher sees the whole class, not only who already came.

Filters:

- ``bloc`` shows only that bloc's columns (its competencies and its own column);
- ``status`` keeps the learners whose status *at the level shown* is that status: the
  bloc's status when a bloc is chosen, the certification's otherwise (so ``acquis`` alone
  lists the certified learners, ``acquis`` with ``B2`` those who validated bloc B2);
- ``group`` keeps the members of an LMS group. No table records groups yet, so the caller
  passes what it knows (``groups``); with none, :attr:`Matrix.groups` is empty and pages
  hide the filter.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import LearnerProgress, ProgressKind, Submission
from lti_tool.models import LtiMembership, LtiUser
from lti_tool.people import ShownName, person_name
from referentiel.model import Bloc, Framework
from referentiel.rules import Status

# Status order for sorting: who is furthest along comes last in ascending order.
_RANK = {Status.NOT_EVALUATED: 0, Status.IN_PROGRESS: 1, Status.ACQUIRED: 2}


class Sort(StrEnum):
    """What the rows are ordered by."""

    NAME = "name"  # family name, then given name
    CERTIFICATION = "certification"  # certification status, then competencies acquired
    ACQUIRED = "acquired"  # number of competencies acquired
    BLOC = "bloc"  # one bloc's status, then its competencies acquired (``sort_bloc``)


@dataclass(frozen=True)
class MatrixFilters:
    """Which learners and columns to show, in which order."""

    bloc: str | None = None
    status: Status | None = None
    group: str | None = None
    sort: Sort = Sort.NAME
    sort_bloc: str | None = None  # the bloc of ``Sort.BLOC``
    descending: bool = False
    # Blocs shown folded: their status column only (display only: exports keep every column).
    folded: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MatrixLearner:
    """A learner as the platform named them."""

    id: int | None  # None: on the LMS roster, not yet launched (no row in Jalon)
    name: str | None
    given_name: str | None
    family_name: str | None
    sub: str = ""  # the LTI user id, which the roster's ``user_id`` matches
    preferred_username: str | None = None
    person_sourcedid: str | None = None

    @property
    def shown(self) -> ShownName:
        """Return the name to show and where it comes from (:mod:`lti_tool.people`)."""
        return person_name(self, self.sub)

    @property
    def display_name(self) -> str:
        """Return the name to show: the platform's, else a pseudonym."""
        return self.shown.text

    @property
    def sort_key(self) -> tuple[str, str, str, int, str]:
        """Return the key ordering learners by family name, then given name."""
        family = (self.family_name or self.name or self.display_name).casefold()
        given, name = (self.given_name or "").casefold(), (self.name or "").casefold()
        return (family, given, name, -1 if self.id is None else self.id, self.sub)


@dataclass(frozen=True)
class MatrixBloc:
    """One bloc of a row: its competencies' statuses (in column order) and its own."""

    code: str
    competencies: tuple[Status, ...]
    status: Status
    acquired: int


@dataclass(frozen=True)
class MatrixRow:
    """A learner's line: each shown bloc, the certification, competencies acquired."""

    learner: MatrixLearner
    blocs: tuple[MatrixBloc, ...]
    certification: Status
    acquired: int  # competencies acquired in the whole framework
    groups: frozenset[str]
    # Every bloc's status and competencies acquired, shown or not (filters and sorting).
    standing: Mapping[str, tuple[Status, int]]


@dataclass(frozen=True)
class Matrix:
    """The class matrix: the blocs shown (columns) and the learners kept (rows)."""

    framework: Framework
    blocs: tuple[Bloc, ...]
    rows: tuple[MatrixRow, ...]
    learner_count: int  # before filtering by status or group
    groups: tuple[str, ...]  # groups known in the course (empty: no group data)

    @property
    def competency_count(self) -> int:
        """Return the number of competencies in the whole framework."""
        return sum(len(bloc.competencies) for bloc in self.framework.blocs)


def class_learners(
    session: Session, context_id: int, learner_id: int | None = None
) -> list[MatrixLearner]:
    """Return the course's learners: non-staff members, and anyone who handed in work.

    With ``learner_id``, return that learner alone, or nobody if not a learner there.
    """
    members = sa.select(LtiMembership.user_id).where(
        LtiMembership.context_id == context_id, sa.not_(LtiMembership.is_staff)
    )
    authors = sa.select(Submission.learner_id).where(Submission.context_id == context_id)
    query = sa.select(
        LtiUser.id,
        LtiUser.name,
        LtiUser.given_name,
        LtiUser.family_name,
        LtiUser.sub,
        LtiUser.preferred_username,
        LtiUser.person_sourcedid,
    ).where(sa.or_(LtiUser.id.in_(members), LtiUser.id.in_(authors)))
    if learner_id is not None:
        query = query.where(LtiUser.id == learner_id)
    rows = session.execute(query)
    return [MatrixLearner(*row) for row in rows]


@dataclass
class _Progress:
    """A learner's progress rows, by kind then code (absent: not evaluated)."""

    competencies: dict[str, Status] = field(default_factory=dict)
    blocs: dict[str, Status] = field(default_factory=dict)
    certification: Status = Status.NOT_EVALUATED


def _progress(session: Session, context_id: int, framework_code: str) -> dict[int, _Progress]:
    """Return every learner's progress in the course, from their certification rows.

    The certification row carries every competency and bloc status (``statuses``), so a
    class of 1,000 learners reads 1,000 rows instead of ~49,000.
    """
    table = LearnerProgress.__table__
    rows = session.connection().execute(
        sa.select(table.c.learner_id, table.c.status, table.c.statuses).where(
            table.c.context_id == context_id,
            table.c.framework_code == framework_code,
            table.c.kind == ProgressKind.CERTIFICATION.value,
            table.c.code == framework_code,
        )
    )
    known = {status.value: status for status in Status}
    competency, bloc = ProgressKind.COMPETENCY.value, ProgressKind.BLOC.value
    progress: dict[int, _Progress] = {}
    for learner_id, status, statuses in rows.all():
        stored = statuses or {}
        progress[learner_id] = _Progress(
            {code: known[value] for code, value in stored.get(competency, {}).items()},
            {code: known[value] for code, value in stored.get(bloc, {}).items()},
            known[status],
        )
    return progress


def _row(
    learner: MatrixLearner,
    columns: tuple[tuple[str, tuple[str, ...], bool], ...],
    progress: _Progress,
    groups: frozenset[str],
) -> MatrixRow:
    """Return a learner's row; ``columns`` lists each bloc's code, competencies and if shown."""
    not_evaluated, acquired_status = Status.NOT_EVALUATED, Status.ACQUIRED
    get, bloc_status = progress.competencies.get, progress.blocs.get
    standing = {}
    blocs = []
    for code, competencies, is_shown in columns:
        cells = tuple([get(competency, not_evaluated) for competency in competencies])
        status = bloc_status(code, not_evaluated)
        acquired = cells.count(acquired_status)
        standing[code] = (status, acquired)
        if is_shown:
            blocs.append(MatrixBloc(code, cells, status, acquired))
    return MatrixRow(
        learner,
        tuple(blocs),
        progress.certification,
        sum(acquired for _status, acquired in standing.values()),
        groups,
        standing,
    )


def _level_status(row: MatrixRow, bloc: str | None) -> Status:
    """Return the status the status filter reads: the chosen bloc's, else the certification."""
    return row.certification if bloc is None else row.standing[bloc][0]


def _sort_key(row: MatrixRow, filters: MatrixFilters) -> tuple[object, ...]:
    name = row.learner.sort_key
    if filters.sort is Sort.CERTIFICATION:
        return (_RANK[row.certification], row.acquired, name)
    if filters.sort is Sort.ACQUIRED:
        return (row.acquired, name)
    if filters.sort is Sort.BLOC and filters.sort_bloc is not None:
        status, acquired = row.standing[filters.sort_bloc]
        return (_RANK[status], acquired, name)
    return name


def class_matrix(
    session: Session,
    context_id: int,
    framework: Framework,
    filters: MatrixFilters,
    groups: Mapping[int, Collection[str]] | None = None,
    roster: Collection[MatrixLearner] = (),
) -> Matrix:
    """Return the class matrix of a course, filtered and sorted.

    ``groups`` maps a learner's id to the LMS groups they belong to, when the caller knows
    them. ``roster`` holds the LMS roster's learners (``id`` None, ``sub`` their user id):
    those Jalon has not seen get an empty row. Raise ``KeyError`` for a bloc the framework
    does not have.
    """
    for code in (filters.bloc, filters.sort_bloc):
        if code is not None:
            framework.bloc(code)  # KeyError for a bloc the framework lacks
    shown = framework.blocs if filters.bloc is None else (framework.bloc(filters.bloc),)
    columns = tuple(
        (bloc.code, tuple(c.code for c in bloc.competencies), bloc in shown)
        for bloc in framework.blocs
    )
    learners = class_learners(session, context_id)
    if roster:
        # Staff of the course stay out even when the roster also calls them learners.
        staff = sa.select(LtiUser.sub).join(LtiMembership, LtiMembership.user_id == LtiUser.id)
        seen = {learner.sub for learner in learners} | set(
            session.scalars(
                staff.where(LtiMembership.context_id == context_id, LtiMembership.is_staff)
            )
        )
        learners += [learner for learner in roster if learner.sub not in seen]
    progress = _progress(session, context_id, framework.code)
    groups = groups or {}
    nothing = _Progress()
    rows = [
        _row(
            learner,
            columns,
            progress.get(learner.id, nothing) if learner.id is not None else nothing,
            frozenset(groups.get(learner.id, ()) if learner.id is not None else ()),
        )
        for learner in learners
    ]
    if filters.status is not None:
        rows = [row for row in rows if _level_status(row, filters.bloc) is filters.status]
    if filters.group is not None:
        rows = [row for row in rows if filters.group in row.groups]
    rows.sort(key=lambda row: _sort_key(row, filters), reverse=filters.descending)
    return Matrix(
        framework=framework,
        blocs=shown,
        rows=tuple(rows),
        learner_count=len(learners),
        groups=tuple(sorted({name for names in groups.values() for name in names})),
    )
