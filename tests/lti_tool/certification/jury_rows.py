"""A course where Ana validated bloc B2 through épreuve E3, and Bruno is half-way there.

Rows are inserted as launches and publications write them (the evaluation factories),
then progress is materialized by the engine itself, so the jury reads what Jalon would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from lti_tool.certification.decisions import decide
from lti_tool.certification.models import CertificationSession, JuryRole
from lti_tool.certification.sessions import (
    JuryError,
    add_candidates_from_course,
    add_member,
    create_session,
)
from lti_tool.db import Database
from lti_tool.evaluation import progress
from lti_tool.frameworks import find_record, framework_of, install_bundled
from lti_tool.models import LtiContext
from referentiel.model import Framework
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

JURY_DATE = dt.date(2026, 6, 30)
BLOCS = ("B1", "B2", "B3", "B4")


def framework(db: Session) -> Framework:
    """Return the bundled Community Manager référentiel as stored."""
    record = find_record(db, FRAMEWORK)
    assert record is not None
    return framework_of(record)


@dataclass(frozen=True)
class Promotion:
    """A course, its teacher, and two learners: Ana validated B2 (E3), Bruno did not."""

    course: Course
    teacher: int
    ana: int
    bruno: int


def promotion(db: Session, title: str = "Promotion 2026") -> Promotion:
    """Insert the course, its people, E3 evaluated for both learners; update progress."""
    fw = framework(db)
    where = course(db, title)
    teacher = person(db, where, "Paul Durand", is_staff=True)
    ana = person(db, where, "Ana Costa")
    bruno = person(db, where, "Bruno Martin")
    link = placement(db, where, "E3")
    codes = fw.epreuve("E3").competencies
    for minutes, (learner, share) in enumerate([(ana, 1.0), (bruno, 0.5)]):
        work = submission(db, where, link, learner, codes, epreuve="E3")
        version = hand_in(db, work, at(minutes))
        scores = dict.fromkeys(codes, share)
        scores["C2.1"] = 1.0
        publish(db, version, teacher, at(10 + minutes), scores)
        progress.update(db, fw, where.context_id, learner, at(20 + minutes))
    return Promotion(where, teacher, ana, bruno)


def open_session(
    db: Session, *, seated: bool = True, title: str = "Jury juin 2026"
) -> CertificationSession:
    """Open a session of the référentiel; ``seated`` adds a president and a professional."""
    session = create_session(db, framework=framework(db), title=title, jury_date=JURY_DATE)
    if seated:
        add_member(db, session, full_name="Claire Moreau", role=JuryRole.PRESIDENT)
        add_member(
            db, session, full_name="Hugo Bernard", role=JuryRole.PROFESSIONAL, quality="CM, Acme"
        )
    return session


def built(database: Database) -> tuple[Promotion, int]:
    """Build the promotion and a seated session in the database; return both (session id)."""
    with database.session() as db:
        promo = promotion(db)
        return promo, open_session(db).id


@pytest.fixture
def db(clean_database: Database) -> Iterator[Session]:
    with clean_database.session() as session:
        install_bundled(session)
        yield session


def fields(problems: JuryError) -> list[tuple[str, str]]:
    return [(p.field, p.reason) for p in problems.problems]


def session_with_candidates(db: Session) -> tuple[CertificationSession, dict[str, int]]:
    promo = promotion(db)
    session = open_session(db)
    context = db.get(LtiContext, promo.course.context_id)
    assert context is not None
    add_candidates_from_course(db, session, context)
    return session, {"ana": promo.ana, "bruno": promo.bruno}


def decide_all(db: Session, session: CertificationSession, *, title: bool = True) -> None:
    for candidate in session.candidates:
        for bloc in BLOCS:
            validated = bloc == "B2" and candidate.number == 1
            decide(
                db,
                candidate,
                scope="bloc",
                code=bloc,
                is_validated=validated,
                reasons="" if validated else "Compétences non démontrées",
                decided_by="Claire Moreau",
            )
        if title:
            decide(
                db,
                candidate,
                scope="title",
                code=FRAMEWORK,
                is_validated=False,
                reasons="Blocs manquants",
                decided_by="Claire Moreau",
            )
