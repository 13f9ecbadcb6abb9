"""The jury's decisions: supersede, the title rule, signing the minutes, corrections."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from lti_tool.certification.decisions import (
    correct,
    current_decisions,
    decide,
    history,
    sign_minutes,
)
from lti_tool.certification.models import (
    JuryRole,
    SessionStatus,
)
from lti_tool.certification.sessions import (
    JuryError,
    add_candidates_from_course,
    add_member,
    remove_member,
)
from lti_tool.models import LtiContext
from tests.lti_tool.certification.jury_rows import (
    BLOCS,
    db,
    decide_all,
    fields,
    open_session,
    session_with_candidates,
)
from tests.lti_tool.evaluation.factories import FRAMEWORK

__all__ = ["db"]  # the fixture
T = dt.datetime(2026, 6, 30, 14, 0, tzinfo=dt.UTC)


def test_a_new_decision_supersedes_the_previous_and_keeps_it(db: Session) -> None:
    session, _people = session_with_candidates(db)
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
    session, _people = session_with_candidates(db)
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
    session, _people = session_with_candidates(db)
    decide_all(db, session, title=False)
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
    session, _people = session_with_candidates(db)
    decide_all(db, session)
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
    session, _people = session_with_candidates(db)
    decide_all(db, session)
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
    session, _people = session_with_candidates(db)
    ana = session.candidates[0]
    for bloc in BLOCS:
        decide(db, ana, scope="bloc", code=bloc, is_validated=True, reasons="Jury", decided_by="CM")
    title = decide(
        db, ana, scope="title", code=FRAMEWORK, is_validated=True, reasons="", decided_by="CM"
    )
    assert title.evidence["jury"] == dict.fromkeys(BLOCS, True)
    assert title.evidence["blocs"] == {
        "B1": "non_evalue",
        "B2": "acquis",
        "B3": "non_evalue",
        "B4": "non_evalue",
    }
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
