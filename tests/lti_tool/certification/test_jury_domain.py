"""The jury's rules: sessions, candidates, decisions, signing the minutes, corrections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.decisions import (
    correct,
    current_decisions,
    decide,
    history,
    sign_minutes,
)
from lti_tool.certification.evidence import evidence_for
from lti_tool.certification.models import (
    CertificationSession,
    DecisionScope,
    JuryDecision,
    JuryRole,
    SessionStatus,
)
from lti_tool.certification.sessions import (
    JuryError,
    add_candidate,
    add_candidates_from_course,
    add_member,
    courses_using,
    create_session,
    remove_member,
)
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from lti_tool.models import LtiContext, LtiUser
from referentiel.rules import Status
from tests.lti_tool.certification.jury_rows import (
    JURY_DATE,
    framework,
    open_session,
    promotion,
)
from tests.lti_tool.evaluation.factories import FRAMEWORK, course, person

BLOCS = ("B1", "B2", "B3", "B4")
T = dt.datetime(2026, 6, 30, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(clean_database: Database) -> Iterator[Session]:
    with clean_database.session() as session:
        install_bundled(session)
        yield session


def fields(problems: JuryError) -> list[tuple[str, str]]:
    return [(p.field, p.reason) for p in problems.problems]


def _session_with_candidates(db: Session) -> tuple[CertificationSession, dict[str, int]]:
    promo = promotion(db)
    session = open_session(db)
    context = db.get(LtiContext, promo.course.context_id)
    assert context is not None
    add_candidates_from_course(db, session, context)
    return session, {"ana": promo.ana, "bruno": promo.bruno}


def _decide_all(db: Session, session: CertificationSession, *, title: bool = True) -> None:
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
    session, people = _session_with_candidates(db)
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
    session, people = _session_with_candidates(db)
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


def test_a_new_decision_supersedes_the_previous_and_keeps_it(db: Session) -> None:
    session, _people = _session_with_candidates(db)
    ana = session.candidates[0]
    first = decide(
        db, ana, scope="bloc", code="B2", is_validated=False, reasons="À revoir", decided_by="CM"
    )
    second = decide(
        db, ana, scope="bloc", code="B2", is_validated=True, reasons="", decided_by="CM"
    )
    assert second.supersedes_id == first.id
    assert current_decisions(db, ana) == {("bloc", "B2"): second}
    assert history(db, ana) == [first, second]
    assert second.evidence["proposal"] == "acquis"
    assert second.evidence["competencies"]["C2.1"]["evaluations"][0]["epreuve"] == "E3"
    assert not second.is_final


def test_decision_rules_reasons_proposal_and_title(db: Session) -> None:
    session, _people = _session_with_candidates(db)
    ana, bruno = session.candidates
    with pytest.raises(JuryError) as refused:
        decide(db, ana, scope="bloc", code="B1", is_validated=False, reasons=" ", decided_by="")
    assert fields(refused.value) == [("decided_by", "required"), ("reasons", "reasons_required")]
    with pytest.raises(JuryError) as refused:
        decide(db, bruno, scope="bloc", code="B2", is_validated=True, reasons="", decided_by="CM")
    assert fields(refused.value) == [("reasons", "against_proposal")]
    assert "C2.2" in refused.value.problems[0].value
    sovereign = decide(
        db,
        bruno,
        scope="bloc",
        code="B2",
        is_validated=True,
        reasons="Oral convaincant",
        decided_by="CM",
    )
    assert sovereign.reasons == "Oral convaincant"
    decide(db, ana, scope="bloc", code="B2", is_validated=True, reasons="", decided_by="CM")
    with pytest.raises(JuryError) as refused:
        decide(
            db, ana, scope="title", code=FRAMEWORK, is_validated=True, reasons="", decided_by="CM"
        )
    assert fields(refused.value) == [("is_validated", "blocs_not_validated")]
    assert refused.value.problems[0].value == "B1, B3, B4"
    with pytest.raises(JuryError) as refused:
        decide(db, ana, scope="bloc", code="B9", is_validated=True, reasons="", decided_by="CM")
    assert fields(refused.value) == [("code", "unknown_bloc")]
    assert len(history(db, ana)) == 1


def test_signing_refuses_listing_every_problem(db: Session) -> None:
    session = open_session(db, seated=False)
    add_member(db, session, full_name="Inès Petit", role=JuryRole.MEMBER)
    with pytest.raises(JuryError) as refused:
        sign_minutes(db, session, signed_by="Inès Petit")
    assert fields(refused.value) == [
        ("members", "no_president"),
        ("members", "no_professional"),
        ("candidates", "no_candidates"),
    ]
    session, _people = _session_with_candidates(db)
    _decide_all(db, session, title=False)
    decide(
        db,
        session.candidates[0],
        scope="title",
        code=FRAMEWORK,
        is_validated=False,
        reasons="Blocs manquants",
        decided_by="CM",
    )
    with pytest.raises(JuryError) as refused:
        sign_minutes(db, session, signed_by="Claire Moreau")
    assert [str(p) for p in refused.value.problems] == ["candidate 2: no decision on the title"]
    assert session.status == SessionStatus.OPEN


def test_signing_makes_decisions_final_and_the_session_frozen(db: Session) -> None:
    session, _people = _session_with_candidates(db)
    _decide_all(db, session)
    final = sign_minutes(db, session, signed_by="Claire Moreau", now=T)
    assert len(final) == 10  # 2 candidates × (4 blocs + title)
    assert [(d.scope, d.code) for d in final[:5]] == [
        *(("bloc", b) for b in BLOCS),
        ("title", FRAMEWORK),
    ]
    assert all(d.is_final for d in final)
    assert (session.status, session.signed_at, session.signed_by) == ("signed", T, "Claire Moreau")
    ana = session.candidates[0]
    with pytest.raises(JuryError) as refused:
        decide(db, ana, scope="bloc", code="B1", is_validated=True, reasons="x", decided_by="CM")
    assert fields(refused.value) == [("session", "signed")]
    member = session.members[0]
    for change in (
        lambda: add_member(db, session, full_name="X", role="member"),
        lambda: remove_member(db, session, member),
        lambda: add_candidates_from_course(db, session, db.get(LtiContext, ana.context_id)),  # type: ignore[arg-type]
    ):
        with pytest.raises(JuryError):
            change()
    with pytest.raises(JuryError):
        sign_minutes(db, session, signed_by="Claire Moreau")


def test_a_correction_is_a_new_final_decision_naming_the_old(db: Session) -> None:
    session, _people = _session_with_candidates(db)
    _decide_all(db, session)
    ana = session.candidates[0]
    b1 = current_decisions(db, ana)[("bloc", "B1")]
    with pytest.raises(JuryError) as refused:
        correct(db, b1, is_validated=True, reasons="x", decided_by="CM")
    assert fields(refused.value) == [("session", "not_signed")]
    sign_minutes(db, session, signed_by="Claire Moreau")
    with pytest.raises(JuryError) as refused:
        correct(db, b1, is_validated=False, reasons="", decided_by="CM")
    assert fields(refused.value) == [("reasons", "reasons_required")]
    later = T + dt.timedelta(days=3)
    fixed = correct(
        db, b1, is_validated=True, reasons="Erreur de saisie au PV", decided_by="CM", now=later
    )
    assert (fixed.supersedes_id, fixed.is_final, fixed.decided_at) == (b1.id, True, later)
    assert current_decisions(db, ana)[("bloc", "B1")] == fixed
    assert b1 in history(db, ana)
    assert b1.is_final
    with pytest.raises(JuryError) as refused:
        correct(db, b1, is_validated=False, reasons="encore", decided_by="CM")
    assert fields(refused.value) == [("decision", "superseded")]


def test_a_bloc_of_a_validated_title_is_not_invalidated_first(db: Session) -> None:
    session, _people = _session_with_candidates(db)
    ana = session.candidates[0]
    for bloc in BLOCS:
        decide(db, ana, scope="bloc", code=bloc, is_validated=True, reasons="Jury", decided_by="CM")
    title = decide(
        db, ana, scope="title", code=FRAMEWORK, is_validated=True, reasons="", decided_by="CM"
    )
    # While open, invalidating a bloc is allowed, and signing then names the conflict.
    decide(db, ana, scope="bloc", code="B3", is_validated=False, reasons="Revu", decided_by="CM")
    bruno = session.candidates[1]
    for bloc in BLOCS:
        decide(db, bruno, scope="bloc", code=bloc, is_validated=False, reasons="x", decided_by="CM")
    decide(
        db, bruno, scope="title", code=FRAMEWORK, is_validated=False, reasons="x", decided_by="CM"
    )
    with pytest.raises(JuryError) as refused:
        sign_minutes(db, session, signed_by="CM")
    assert [str(p) for p in refused.value.problems] == [
        "candidate 1: the title needs every bloc validated; not validated: B3"
    ]
    decide(db, ana, scope="bloc", code="B3", is_validated=True, reasons="Revu", decided_by="CM")
    sign_minutes(db, session, signed_by="CM")
    b3 = current_decisions(db, ana)[("bloc", "B3")]
    with pytest.raises(JuryError) as refused:
        correct(db, b3, is_validated=False, reasons="Fraude", decided_by="CM")
    assert fields(refused.value) == [("is_validated", "title_validated")]
    current_title = current_decisions(db, ana)[("title", FRAMEWORK)]
    assert current_title.supersedes_id == title.id or current_title.id == title.id
    correct(db, current_title, is_validated=False, reasons="Fraude", decided_by="CM")
    corrected = correct(db, b3, is_validated=False, reasons="Fraude", decided_by="CM")
    assert corrected.is_final


def test_candidates_of_one_session_are_never_in_another(db: Session) -> None:
    session, _people = _session_with_candidates(db)
    other = open_session(db, title="Jury de rattrapage")
    assert other.candidates == []
    member = session.members[0]
    with pytest.raises(JuryError) as refused:
        remove_member(db, other, member)
    assert fields(refused.value) == [("member", "not_in_session")]
    _decide_all(db, session)
    counted = db.scalar(
        sa.select(sa.func.count())
        .select_from(JuryDecision)
        .where(JuryDecision.scope == DecisionScope.BLOC)
    )
    assert counted == 8
