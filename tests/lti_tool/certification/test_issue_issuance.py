"""Issuing credentials from the jury's decisions: which ones, once, signed, revocable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification import issuance, keys, status_lists
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    IssuedCredential,
    JuryDecision,
    StatusList,
)
from lti_tool.certification.ob3 import recipient_matches
from lti_tool.certification.ob3.status_list import get_bit
from lti_tool.certification.verification import verify_document
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.models import LtiUser
from tests.conftest import BASE_URL
from tests.lti_tool.certification.issue_support import (
    BLOCS,
    FRAMEWORK,
    NOW,
    credentials,
    document,
    signed_session,
)


@pytest.fixture
def db(app: object, clean_database: Database) -> Iterator[Session]:
    """A session on the migrated database, with the shipped référentiel installed."""
    with clean_database.session() as session:
        yield session


def issue(db: Session, settings: Settings, session_id: int) -> list[IssuedCredential]:
    session = db.get(CertificationSession, session_id)
    assert session is not None
    return issuance.issue_for_session(db, session, settings, now=NOW)


def is_valid(db: Session, credential: IssuedCredential, at: dt.datetime = NOW) -> bool:
    return verify_document(db, document(credential), BASE_URL, at).is_valid


def test_every_validated_bloc_and_the_title_get_one_signed_credential(
    db: Session, settings: Settings
) -> None:
    made = signed_session(db, learners=2, validated={"B3": False})
    issued = issue(db, settings, made.session_id)
    # B1, B2, B4 and the title, for each of the two candidates; B3 was not validated.
    assert sorted((c.learner_id, c.code) for c in issued) == sorted(
        (learner, code) for learner in made.learners for code in ("B1", "B2", "B4", FRAMEWORK)
    )
    for credential in issued:
        assert is_valid(db, credential)
        shown = document(credential)
        assert shown["id"] == f"urn:uuid:{credential.public_id}"
        assert shown["proof"][0]["verificationMethod"] == keys.verification_method(
            BASE_URL, keys.current_key(db)
        )
    # Not twice: a second run issues nothing new.
    assert issue(db, settings, made.session_id) == []
    assert len(credentials(db)) == 8


def test_decisions_of_an_unsigned_session_are_not_issued(db: Session, settings: Settings) -> None:
    made = signed_session(db, learners=1, is_final=False)
    assert issue(db, settings, made.session_id) == []
    assert credentials(db) == []


def test_the_stored_document_is_the_signed_json_as_issued(db: Session, settings: Settings) -> None:
    made = signed_session(db, learners=1)
    credential = issue(db, settings, made.session_id)[0]
    db.expire_all()
    stored = db.get(IssuedCredential, credential.id)
    assert stored is not None
    assert stored.document == credential.document
    tampered = document(stored)
    tampered["credentialSubject"]["result"][0]["value"] = "Autre chose"
    verification = verify_document(db, tampered, BASE_URL, NOW)
    assert not verification.is_valid


def test_recipient_is_a_salted_hash_of_the_chosen_email_else_the_lms_one(
    db: Session, settings: Settings
) -> None:
    made = signed_session(db, learners=3, emails=("lea@lms.example", "hugo@lms.example", None))
    first = db.get(Candidate, made.candidates[0])
    assert first is not None
    first.badge_email = "lea.perso@example.org"
    issued = issue(db, settings, made.session_id)
    by_learner = {c.learner_id: document(c) for c in issued if c.code == "B1"}
    lea, hugo, nobody = (by_learner[learner] for learner in made.learners)
    assert recipient_matches(lea, "lea.perso@example.org")
    assert not recipient_matches(lea, "lea@lms.example")
    assert recipient_matches(hugo, "hugo@lms.example")
    assert "identifier" not in nobody["credentialSubject"]
    for learner, shown in zip(made.learners, (lea, hugo, nobody), strict=True):
        text = str(shown)
        for address in ("lea.perso", "lea@lms", "hugo@lms", "example.org"):
            assert address not in text
        user = db.get(LtiUser, learner)
        assert user is not None
        assert user.sub not in text


def test_revocation_flips_the_status_bit_and_verification_fails(
    db: Session, settings: Settings
) -> None:
    made = signed_session(db, learners=1)
    credential, other = issue(db, settings, made.session_id)[:2]
    issuance.revoke(db, credential, reason="Fraude constatée", now=NOW)
    bits = db.get(StatusList, credential.status_list_id)
    assert bits is not None
    assert get_bit(bits.bits, credential.status_index)
    assert not get_bit(bits.bits, other.status_index)
    assert credential.revocation_reason == "Fraude constatée"
    assert not is_valid(db, credential)
    assert is_valid(db, other)
    # A revoked credential is not issued again for the same decision.
    assert issue(db, settings, made.session_id) == []


def test_a_revocation_needs_a_reason(db: Session, settings: Settings) -> None:
    made = signed_session(db, learners=1)
    credential = issue(db, settings, made.session_id)[0]
    with pytest.raises(issuance.IssuanceError, match="reason"):
        issuance.revoke(db, credential, reason="  ")
    assert credential.revoked_at is None


def test_key_rotation_keeps_old_credentials_valid(db: Session, settings: Settings) -> None:
    first = signed_session(db, learners=1)
    old = issue(db, settings, first.session_id)[0]
    old_key = keys.current_key(db)
    new_key = keys.rotate_key(db, NOW)
    assert new_key.key_id != old_key.key_id
    assert old_key.retired_at == NOW
    assert not old_key.is_current
    second = signed_session(db, learners=1)
    new = issue(db, settings, second.session_id)[0]
    assert new.key_id == new_key.key_id
    assert old.key_id == old_key.key_id
    assert is_valid(db, old)
    assert is_valid(db, new)


def test_the_signing_key_is_not_the_lti_tool_key(db: Session, settings: Settings) -> None:
    from lti_tool.lti import keys as tool_keys

    tool = tool_keys.current(db)
    key = keys.current_key(db)
    assert key.private_key_pem != tool.private_key_pem
    assert "PRIVATE KEY" in key.private_key_pem


def test_a_corrected_decision_revokes_and_replaces_the_credential(
    db: Session, settings: Settings
) -> None:
    made = signed_session(db, learners=1)
    issued = {c.code: c for c in issue(db, settings, made.session_id)}
    b2 = db.get(JuryDecision, issued["B2"].decision_id)
    b4 = db.get(JuryDecision, issued["B4"].decision_id)
    assert b2 is not None
    assert b4 is not None
    for old, is_validated in ((b2, True), (b4, False)):
        db.add(
            JuryDecision(
                candidate_id=old.candidate_id,
                scope=old.scope,
                code=old.code,
                is_validated=is_validated,
                reasons="Erreur matérielle corrigée",
                decided_by="Claire Président",
                decided_at=NOW,
                supersedes_id=old.id,
                is_final=True,
            )
        )
    db.flush()
    again = issue(db, settings, made.session_id)
    assert [c.code for c in again] == ["B2"]
    assert again[0].replaces_id == issued["B2"].id
    assert issued["B2"].revocation_reason == "décision corrigée"
    assert issued["B4"].revocation_reason == "décision corrigée"
    assert issued["B1"].revoked_at is None


def test_reissue_for_a_chosen_email_replaces_the_live_credentials(
    db: Session, settings: Settings
) -> None:
    made = signed_session(db, learners=1, emails=("lea@lms.example",))
    old = issue(db, settings, made.session_id)
    candidate = db.get(Candidate, made.candidates[0])
    assert candidate is not None
    new = issuance.reissue_for_email(db, candidate, "lea.perso@example.org", settings, now=NOW)
    assert len(new) == len(old) == len(BLOCS) + 1
    assert {c.replaces_id for c in new} == {c.id for c in old}
    assert {c.revocation_reason for c in old} == {"remplacé"}
    assert candidate.badge_email == "lea.perso@example.org"
    for credential in new:
        assert recipient_matches(document(credential), "lea.perso@example.org")
        assert is_valid(db, credential)
    assert not any(is_valid(db, c) for c in old)


def test_issue_for_one_decision(db: Session, settings: Settings) -> None:
    made = signed_session(db, learners=1, validated={"B1": False})
    decisions = {
        d.code: d
        for d in db.scalars(
            sa.select(JuryDecision).where(JuryDecision.candidate_id == made.candidates[0])
        )
    }
    assert issuance.issue_for_decision(db, decisions["B1"], settings, now=NOW) is None
    issued = issuance.issue_for_decision(db, decisions["B2"], settings, now=NOW)
    assert issued is not None
    assert issued.code == "B2"
    assert issuance.issue_for_decision(db, decisions["B2"], settings, now=NOW) is None


def test_status_indexes_are_distinct_and_not_in_issuance_order(
    db: Session, settings: Settings
) -> None:
    made = signed_session(db, learners=20)
    issued = issue(db, settings, made.session_id)
    indexes = [c.status_index for c in issued]
    assert len(set(indexes)) == len(indexes) == 100
    assert indexes != sorted(indexes)
    assert max(indexes) > 1000  # drawn across the list, not packed at its start
    status_list = db.get(StatusList, issued[0].status_list_id)
    assert status_list is not None
    assert status_list.size == status_lists.LIST_SIZE
    assert status_list.next_index == 100


def test_a_list_half_used_is_closed_and_a_new_one_opened(db: Session) -> None:
    first = status_lists.allocate(db, 3)
    status_list = db.get(StatusList, first[0].list_id)
    assert status_list is not None
    status_list.next_index = status_list.size // 2 - 1
    db.flush()
    slots = status_lists.allocate(db, 3)
    assert [s.list_id for s in slots].count(status_list.id) == 1
    assert len({s.list_id for s in slots}) == 2
