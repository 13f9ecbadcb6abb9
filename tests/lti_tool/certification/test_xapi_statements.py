"""The jury's statements reach the outbox with the signed decisions, once, and pseudonymous."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.links import verification_url
from lti_tool.certification.models import IssuedCredential, SessionStatus
from lti_tool.certification.statements import record_correction, record_decisions
from lti_tool.config import Settings
from lti_tool.db import Database
from tests.lti_tool.certification.xapi_rows import (
    EMAIL,
    NAME,
    REASONS,
    Jury,
    correct,
    issue,
    signed_session,
)
from xapi import events
from xapi import vocabulary as v
from xapi.conformance import check_statement
from xapi.jury import decision_statement_id
from xapi.outbox import Status, outbox
from xapi.profile import load_profile, validate
from xapi.statements import registration
from xapi.voiding import VOIDED, voiding_id

EARNED, FAILED = v.EARNED.iri, v.FAILED.iri


def rows(db: Session) -> dict[str, dict[str, Any]]:
    """Return the outbox's statements by id: status and document."""
    found = db.execute(sa.select(outbox.c.statement_id, outbox.c.status, outbox.c.body))
    return {sid: {"status": status, **json.loads(body)} for sid, status, body in found}


def record_all(db: Session, jury: Jury, settings: Settings) -> int:
    credentials = {d.id: issue(db, d, jury.learner) for d in (jury.b2, jury.title)}
    return record_decisions(db, jury.session, [jury.b1, jury.b2, jury.title], credentials, settings)


def deliver(db: Session) -> None:
    db.execute(sa.update(outbox).values(status=Status.DELIVERED.value))


def test_signed_decisions_become_valid_statements_of_the_profile(
    clean_database: Database, settings: Settings
) -> None:
    with clean_database.session() as db:
        jury = signed_session(db)
        assert record_all(db, jury, settings) == 3
        found = rows(db)
    profile = load_profile(settings.base_url)
    base = settings.base_url
    by_decision = {d: found[str(decision_statement_id(base, d.id))] for d in (jury.b1, jury.b2)}
    title = found[str(decision_statement_id(base, jury.title.id))]
    assert by_decision[jury.b1]["verb"]["id"] == FAILED
    assert by_decision[jury.b2]["verb"]["id"] == EARNED
    assert title["verb"]["id"] == EARNED
    assert title["object"]["id"] == f"{base}/referentiels/community-manager/"
    assert by_decision[jury.b2]["object"]["id"].endswith("/blocs/B2")
    learner = events.LtiUser(jury.learner.issuer, jury.learner.sub)
    lms = events.LmsContext(jury.learner.issuer, "Moodle du CFA", "3", "cm6-2026", "CM6")
    for document in found.values():
        assert document.pop("status") == Status.PENDING
        assert check_statement(document) == []
        assert validate(document, profile) == []
        # The learner's course registration, and the platform as it was registered.
        assert document["context"]["registration"] == str(registration(base, learner, lms))
        assert document["context"]["platform"] == "Moodle du CFA"
        assert document["timestamp"].startswith("2026-06-30T14:0")
        assert document["context"]["extensions"][v.SESSION_ID.iri(base)] == jury.session.id
    public = document_credential(by_decision[jury.b2], base)
    assert public[1] == verification_url(base, public[0].removeprefix("urn:uuid:"))
    assert "extensions" not in by_decision[jury.b1]["result"]


def document_credential(document: dict[str, Any], base: str) -> tuple[str, str]:
    extensions = document["result"]["extensions"]
    return extensions[v.CREDENTIAL_ID.iri(base)], extensions[v.CREDENTIAL_URL.iri(base)]


def test_no_name_email_reasons_or_jury_member_reaches_the_outbox(
    clean_database: Database, settings: Settings
) -> None:
    with clean_database.session() as db:
        jury = signed_session(db)
        record_all(db, jury, settings)
        bodies = " ".join(db.scalars(sa.select(outbox.c.body)))
    for personal in (NAME, EMAIL, REASONS, "Camille", "Durand", "Lyon", jury.session.title):
        assert personal not in bodies


def test_recording_twice_writes_nothing_new(clean_database: Database, settings: Settings) -> None:
    with clean_database.session() as db:
        jury = signed_session(db)
        assert record_all(db, jury, settings) == 3
        before = rows(db)
        credentials = {c.decision_id: c for c in db.scalars(sa.select(IssuedCredential))}
        assert (
            record_decisions(
                db, jury.session, [jury.b1, jury.b2, jury.title], credentials, settings
            )
            == 0
        )
        assert rows(db) == before


def test_an_unsigned_session_emits_nothing(clean_database: Database, settings: Settings) -> None:
    with clean_database.session() as db:
        jury = signed_session(db)
        jury.session.status = SessionStatus.OPEN
        with pytest.raises(ValueError, match="not signed"):
            record_decisions(db, jury.session, [jury.b2], {}, settings)
        assert rows(db) == {}


def test_the_statements_go_only_if_the_transaction_commits(
    clean_database: Database, settings: Settings
) -> None:
    def sign_then_fail() -> None:
        with clean_database.session() as db:
            record_all(db, signed_session(db), settings)
            raise RuntimeError("the signature failed after the statements were queued")

    with pytest.raises(RuntimeError):
        sign_then_fail()
    with clean_database.session() as db:
        assert rows(db) == {}


def test_a_candidate_without_a_course_gets_a_session_registration(
    clean_database: Database, settings: Settings
) -> None:
    with clean_database.session() as db:
        jury = signed_session(db, with_course=False)
        assert record_decisions(db, jury.session, [jury.b2], {}, settings) == 1
        (document,) = rows(db).values()
    del document["status"]
    assert validate(document, load_profile(settings.base_url)) == []
    assert v.DEPLOYMENT_ID.iri(settings.base_url) not in document["context"]["extensions"]
    assert document["result"] == {"success": True}  # no credential issued
    assert document["context"]["platform"] == "Moodle du CFA"
    assert document["context"]["registration"] != str(
        registration(
            settings.base_url,
            events.LtiUser(jury.learner.issuer, jury.learner.sub),
            events.LmsContext(jury.learner.issuer, "Moodle du CFA", "3", "cm6-2026"),
        )
    )


def test_a_correction_that_withdraws_a_certification_voids_it(
    clean_database: Database, settings: Settings
) -> None:
    base = settings.base_url
    with clean_database.session() as db:
        jury = signed_session(db)
        record_all(db, jury, settings)
        deliver(db)
        new = correct(db, jury.b2, validated=False)
        assert record_correction(db, jury.b2, new, None, settings) == 2
        found = rows(db)
        again = record_correction(db, jury.b2, new, None, settings)
        assert again == 0
        assert rows(db) == found
        # Signing again (or any later call) does not bring the corrected statement back.
        decisions = [jury.b1, jury.b2, new, jury.title]
        assert record_decisions(db, jury.session, decisions, {}, settings) == 0
    old_id = str(decision_statement_id(base, jury.b2.id))
    assert old_id not in found  # left the outbox: a later erasure will not void it again
    correction = found[str(decision_statement_id(base, new.id))]
    assert correction["verb"]["id"] == FAILED
    assert correction["result"] == {"success": False}
    assert correction["context"]["statement"] == {"objectType": "StatementRef", "id": old_id}
    voiding = found[str(voiding_id(base, old_id))]
    assert voiding["verb"]["id"] == VOIDED.iri
    assert voiding["object"] == {"objectType": "StatementRef", "id": old_id}
    assert voiding["timestamp"].startswith("2026-07-01T14:01")  # the correction's date


def test_a_correction_of_a_statement_never_sent_withdraws_it(
    clean_database: Database, settings: Settings
) -> None:
    base = settings.base_url
    with clean_database.session() as db:
        jury = signed_session(db)
        record_all(db, jury, settings)  # still pending, no relay has it
        new = correct(db, jury.b1, validated=True)
        credential = issue(db, new, jury.learner)
        assert record_correction(db, jury.b1, new, credential, settings) == 1
        found = rows(db)
    assert str(decision_statement_id(base, jury.b1.id)) not in found
    assert not any(d["verb"]["id"] == VOIDED.iri for d in found.values())
    corrected = found[str(decision_statement_id(base, new.id))]
    assert corrected["verb"]["id"] == EARNED
    assert document_credential(corrected, base)[0] == f"urn:uuid:{credential.public_id}"


@pytest.mark.parametrize("status", [Status.DELIVERED, Status.DEAD])
def test_a_refusal_corrected_into_a_certification(
    clean_database: Database, settings: Settings, status: Status
) -> None:
    base = settings.base_url
    with clean_database.session() as db:
        jury = signed_session(db)
        record_all(db, jury, settings)
        db.execute(sa.update(outbox).values(status=status.value))
        new = correct(db, jury.b1, validated=True)
        written = record_correction(db, jury.b1, new, None, settings)
        found = rows(db)
    old_id = str(decision_statement_id(base, jury.b1.id))
    # Delivered: the LRS holds it, so it is voided; refused: the LRS never took it.
    assert (str(voiding_id(base, old_id)) in found) is (status == Status.DELIVERED)
    assert written == (2 if status == Status.DELIVERED else 1)


def test_a_correction_must_name_the_decision_it_corrects(
    clean_database: Database, settings: Settings
) -> None:
    with clean_database.session() as db:
        jury = signed_session(db)
        new = correct(db, jury.b2, validated=False)
        with pytest.raises(ValueError, match="does not correct"):
            record_correction(db, jury.b1, new, None, settings)
        assert rows(db) == {}


def test_erasing_a_learner_after_a_correction_still_works(
    clean_database: Database, settings: Settings
) -> None:
    from lti_tool.privacy.erase import ErasureRequest, erase
    from lti_tool.privacy.person import find_person
    from tests.lti_tool.privacy import scenario

    with clean_database.session() as db:
        jury = signed_session(db)
        record_all(db, jury, settings)
        deliver(db)
        new = correct(db, jury.b2, validated=False)
        record_correction(db, jury.b2, new, None, settings)
        deliver(db)
    with clean_database.session() as db:
        person = find_person(db, jury.learner.issuer, jury.learner.sub, lock=True)
        request = ErasureRequest(True, "DPO", "cli", settings.base_url, settings.secret_key)
        report = erase(
            db, person, scenario.storage(settings.instance_path), request, dt.datetime.now(dt.UTC)
        )
    # B1, the title and the correction: each voided once, the corrected B2 already was.
    assert report.counts["statements_voided"] == 3
