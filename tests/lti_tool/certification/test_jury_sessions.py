"""Jury sessions: fields checked, candidates from a course's learners, courses, evidence."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.evidence import evidence_for
from lti_tool.certification.models import (
    CertificationSession,
    DecisionScope,
    JuryDecision,
    SessionStatus,
)
from lti_tool.certification.sessions import (
    JuryError,
    add_candidate,
    add_candidates_from_course,
    courses_using,
    create_session,
    remove_member,
)
from lti_tool.models import LtiContext, LtiUser
from referentiel.rules import Status
from tests.lti_tool.certification.jury_rows import (
    JURY_DATE,
    db,
    decide_all,
    fields,
    framework,
    open_session,
    promotion,
    session_with_candidates,
)
from tests.lti_tool.evaluation.factories import FRAMEWORK, course, person

__all__ = ["db"]  # the fixture
T = dt.datetime(2026, 6, 30, 14, 0, tzinfo=dt.UTC)


def test_create_session_validates_each_field_and_names_it(db: Session) -> None:
    with pytest.raises(JuryError) as refused:
        create_session(
            db,
            framework=framework(db),
            title=" ",
            jury_date=JURY_DATE,
            exam_start=dt.date(2026, 6, 2),
            exam_end=dt.date(2026, 6, 1),
            exam_postal_code="7500",
            exam_mode="SUR_PLACE",
        )
    assert fields(refused.value) == [
        ("title", "required"),
        ("exam_postal_code", "not_postal_code"),
        ("exam_mode", "bad_exam_mode"),
        ("exam_end", "end_before_start"),
    ]
    assert db.scalar(sa.select(sa.func.count()).select_from(CertificationSession)) == 0
    session = create_session(
        db,
        framework=framework(db),
        title="Jury",
        jury_date=JURY_DATE,
        exam_postal_code="75011",
        exam_mode="MIXTE",
    )
    assert (session.framework_code, session.framework_version) == (FRAMEWORK, "1.0")
    assert session.status == SessionStatus.OPEN


def test_candidates_come_from_the_course_learners_numbered_from_one(db: Session) -> None:
    session, people = session_with_candidates(db)
    numbers = {c.learner_id: c.number for c in session.candidates}
    assert numbers == {people["ana"]: 1, people["bruno"]: 2}  # by name; the teacher is not one
    again = add_candidates_from_course(
        db,
        session,
        db.get(LtiContext, session.candidates[0].context_id),  # type: ignore[arg-type]
    )
    assert again == []  # nobody twice
    with pytest.raises(JuryError) as refused:
        add_candidate(
            db,
            session,
            db.get(LtiUser, people["ana"]),  # type: ignore[arg-type]
            db.get(LtiContext, session.candidates[0].context_id),  # type: ignore[arg-type]
        )
    assert fields(refused.value) == [("learner", "already_candidate")]


def test_a_course_without_the_referentiel_and_a_staff_member_are_refused(db: Session) -> None:
    promo = promotion(db)
    session = open_session(db)
    other = course(db, "Autre formation")
    stranger = person(db, other, "Zoé")
    with pytest.raises(JuryError) as refused:
        add_candidates_from_course(db, session, db.get(LtiContext, other.context_id))  # type: ignore[arg-type]
    assert fields(refused.value) == [("course", "not_using_framework")]
    context = db.get(LtiContext, promo.course.context_id)
    teacher = db.get(LtiUser, promo.teacher)
    with pytest.raises(JuryError) as refused:
        add_candidate(db, session, teacher, context)  # type: ignore[arg-type]
    assert fields(refused.value) == [("learner", "not_a_learner")]
    with pytest.raises(JuryError):
        add_candidate(db, session, db.get(LtiUser, stranger), context)  # type: ignore[arg-type]
    assert session.candidates == []


def test_courses_of_two_platforms_with_the_same_lms_id_are_listed_by_their_own_id(
    db: Session,
) -> None:
    first = promotion(db, "Promotion A")
    second = promotion(db, "Promotion B")
    for where in (first.course, second.course):
        db.get(LtiContext, where.context_id).context_id = "7"  # type: ignore[union-attr]
    db.flush()
    choices = courses_using(db, FRAMEWORK)
    assert {c.id for c in choices} == {first.course.context_id, second.course.context_id}
    assert {c.context_id for c in choices} == {"7"}
    assert len({c.issuer for c in choices}) == 2
    assert all(c.learners == 2 for c in choices)
    session = open_session(db)
    add_candidates_from_course(db, session, db.get(LtiContext, second.course.context_id))  # type: ignore[arg-type]
    assert {c.learner_id for c in session.candidates} == {second.ana, second.bruno}


def test_evidence_shows_b2_validated_through_e3_as_the_proposal(db: Session) -> None:
    session, people = session_with_candidates(db)
    ana, bruno = session.candidates
    evidence = evidence_for(db, ana, framework(db))
    b2 = evidence.bloc("B2")
    assert b2.proposal is Status.ACQUIRED
    assert b2.competencies[0].status is Status.ACQUIRED
    (e3,) = b2.competencies[0].epreuves
    assert e3.code == "E3"
    assert [j.is_acquired for j in e3.evaluations] == [True]
    assert evidence.bloc("B1").proposal is Status.NOT_EVALUATED
    assert evidence.title_proposal is Status.IN_PROGRESS
    assert evidence.livret is not None
    assert evidence.livret.learner_id == people["ana"]
    their = evidence_for(db, bruno, framework(db)).bloc("B2")
    assert their.proposal is Status.IN_PROGRESS
    assert their.not_acquired == tuple(f"C2.{n}" for n in range(2, 12))


def test_candidates_of_one_session_are_never_in_another(db: Session) -> None:
    session, _people = session_with_candidates(db)
    other = open_session(db, title="Jury de rattrapage")
    assert other.candidates == []
    member = session.members[0]
    with pytest.raises(JuryError) as refused:
        remove_member(db, other, member)
    assert fields(refused.value) == [("member", "not_in_session")]
    decide_all(db, session)
    counted = db.scalar(
        sa.select(sa.func.count())
        .select_from(JuryDecision)
        .where(JuryDecision.scope == DecisionScope.BLOC)
    )
    assert counted == 8
