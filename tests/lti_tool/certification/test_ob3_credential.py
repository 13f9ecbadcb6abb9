"""The OpenBadgeCredential Jalon builds: valid against 1EdTech's schema, aligned to CASE."""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, fields, replace
from datetime import timedelta

import pytest

from lti_tool.certification import links
from lti_tool.certification.ob3 import (
    InvalidEmailError,
    IssuerProfile,
    Recipient,
    achievement_for_bloc,
    achievement_for_title,
    build_credential,
    issuer_profile_document,
    recipient_matches,
)
from lti_tool.certification.ob3.loader import BUNDLED, bundled_bytes
from referentiel.identifiers import item_id
from referentiel.model import Identity
from tests.conftest import BASE_URL, REPO
from tests.lti_tool.certification.ob3_support import (
    DECIDED,
    EMAIL,
    PUBLIC_ID,
    SPECS,
    STATUS_URL,
    credential,
    framework,
    schema_errors,
)


@pytest.mark.parametrize(
    "name",
    ["credentials-v2.jsonld", "context-3.0.3.json", "ob_v3p0_achievementcredential_schema.json"],
)
def test_shipped_contexts_are_byte_copies_of_the_published_files(name: str) -> None:
    (url,) = [url for url, (file, _digest) in BUNDLED.items() if file == name]
    assert bundled_bytes(url) == (SPECS / name).read_bytes()
    assert hashlib.sha256(bundled_bytes(url)).hexdigest() == BUNDLED[url][1]


@pytest.mark.parametrize("bloc", ["B1", "B2", "B3", "B4", None])
def test_credential_validates_against_the_ob3_schema(bloc: str | None) -> None:
    assert schema_errors(credential(bloc=bloc)) == []


def test_credential_without_recipient_still_names_a_subject_and_validates() -> None:
    document = credential(email=None)
    subject = document["credentialSubject"]
    assert "identifier" not in subject
    # OB 3.0: an AchievementSubject has an id or an identifier; this one names no person.
    assert subject["id"].startswith("urn:uuid:")
    assert PUBLIC_ID not in subject["id"]
    assert schema_errors(document) == []


def test_credential_shape_for_a_validated_bloc() -> None:
    document = credential(valid_until=DECIDED + timedelta(days=365 * 5))
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["id"] == links.credential_id(PUBLIC_ID)
    assert document["issuer"]["id"] == links.issuer_url(BASE_URL)
    assert document["validFrom"] == "2026-11-30T14:00:00Z"
    assert document["validUntil"] == "2031-11-29T14:00:00Z"
    assert document["credentialStatus"] == {
        "id": f"{STATUS_URL}#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": STATUS_URL,
    }
    (result,) = document["credentialSubject"]["result"]
    achievement = document["credentialSubject"]["achievement"]
    assert result["value"] == "Validé"
    assert result["status"] == "Completed"
    assert result["resultDescription"] == achievement["resultDescription"][0]["id"]
    assert achievement["achievementType"] == "Certificate"
    assert achievement["humanCode"] == "B2"


def test_a_bloc_aligns_to_the_case_items_of_its_competencies() -> None:
    fw = framework()
    achievement = achievement_for_bloc(fw, "B2", BASE_URL)
    codes = [c.code for c in fw.bloc("B2").competencies]
    targets = {a.target_code: a for a in achievement.alignments}
    for code in codes:
        alignment = targets[str(item_id(fw.code, "competency", code))]
        assert alignment.target_url == f"{BASE_URL}/referentiels/{fw.code}/competences/{code}"
        assert alignment.target_type == "CFItem"
        assert alignment.target_name.startswith(code)
        assert alignment.target_framework == fw.identity.title
    # The bloc itself, first; nothing from another bloc.
    assert achievement.alignments[0].target_url.endswith("/blocs/B2")
    assert len(achievement.alignments) == len(codes) + 1
    assert achievement.id == f"{BASE_URL}/referentiels/{fw.code}/blocs/B2#certification"


def test_a_bloc_criteria_name_its_competencies_and_the_epreuves_that_assess_them() -> None:
    fw = framework()
    narrative = achievement_for_bloc(fw, "B2", BASE_URL).criteria_narrative
    bloc_codes = {c.code for c in fw.bloc("B2").competencies}
    for competency in bloc_codes:
        assert f"- {competency} — " in narrative
    for epreuve in fw.epreuves:
        assessing = bloc_codes.intersection(epreuve.competencies)
        assert (f"- {epreuve.code} — " in narrative) == bool(assessing)


def test_the_title_is_a_certification_aligned_to_every_bloc() -> None:
    fw = framework()
    achievement = achievement_for_title(fw, BASE_URL)
    assert achievement.achievement_type == "Certification"
    assert [a.target_url.rsplit("/", 1)[1] for a in achievement.alignments] == [
        b.code for b in fw.blocs
    ]
    assert achievement.id == f"{BASE_URL}/referentiels/{fw.code}/#certification"
    assert achievement.bloc_code is None


@dataclass(frozen=True, slots=True)
class _IdentityWithRncp(Identity):
    """The référentiel identity once the accrochage piece adds `rncp` to it."""

    rncp: str | None = None


def test_the_rncp_code_is_named_when_the_framework_has_one() -> None:
    fw = framework()
    identity = _IdentityWithRncp(
        **{f.name: getattr(fw.identity, f.name) for f in fields(Identity)}, rncp="RNCP37805"
    )
    with_rncp = replace(fw, identity=identity)
    title = achievement_for_title(with_rncp, BASE_URL)
    assert title.rncp == "RNCP37805"
    assert title.human_code == "RNCP37805"
    assert title.to_json()["otherIdentifier"] == [
        {"type": "IdentifierEntry", "identifier": "RNCP37805", "identifierType": "ext:RNCP"}
    ]
    assert "RNCP37805" in achievement_for_bloc(with_rncp, "B1", BASE_URL).description
    assert "otherIdentifier" not in achievement_for_title(fw, BASE_URL).to_json()


def test_unknown_bloc_is_refused() -> None:
    with pytest.raises(KeyError):
        achievement_for_bloc(framework(), "B9", BASE_URL)


def test_recipient_is_a_salted_hash_of_the_normalised_email() -> None:
    recipient = Recipient.from_email("  Lea.Martin@Example.ORG ")
    identifier = recipient.identifier
    digest = hashlib.sha256(("lea.martin@example.org" + recipient.salt).encode()).hexdigest()
    assert identifier == {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": recipient.salt,
    }
    assert Recipient.from_email(EMAIL).salt != Recipient.from_email(EMAIL).salt
    document = credential()
    assert "lea" not in str(document["credentialSubject"]).lower()
    assert recipient_matches(document, "lea.martin@example.org")
    assert recipient_matches(document, " LEA.MARTIN@example.org")
    assert not recipient_matches(document, "lea.martin@example.com")
    assert not recipient_matches(document, "not an address")
    assert not recipient_matches(credential(email=None), EMAIL)


@pytest.mark.parametrize("bad", ["", "lea", "lea@", "@example.org", "lé a@example.org", "a@b"])
def test_recipient_refuses_what_is_not_an_email(bad: str) -> None:
    with pytest.raises(InvalidEmailError, match="email"):
        Recipient.from_email(bad)


def test_issuer_profile_document_is_an_ob3_profile() -> None:
    profile = IssuerProfile(id=links.issuer_url(BASE_URL), name="École", url="https://e.example")
    document = issuer_profile_document(profile)
    assert document["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["type"] == ["Profile"]
    assert document["id"] == links.issuer_url(BASE_URL)
    assert document["name"] == "École"
    assert document["url"] == "https://e.example"
    assert "email" not in document


def test_a_decision_not_to_validate_reads_as_failed() -> None:
    document = credential(is_validated=False)
    (result,) = document["credentialSubject"]["result"]
    assert result["value"] == "Non validé"
    assert result["status"] == "Failed"
    assert schema_errors(document) == []


def test_the_holder_name_is_shown_only_when_given() -> None:
    achievement = achievement_for_bloc(framework(), "B2", BASE_URL)
    common = {
        "public_id": PUBLIC_ID,
        "issuer": IssuerProfile(id=links.issuer_url(BASE_URL), name="École"),
        "achievement": achievement,
        "is_validated": True,
        "decided_at": DECIDED,
        "valid_from": DECIDED,
        "status_list_url": STATUS_URL,
        "status_index": 0,
    }
    named = build_credential(**common, recipient=None, holder_name="  Léa   Martin ")
    assert named["credentialSubject"]["identifier"] == [
        {
            "type": "IdentityObject",
            "identityHash": "Léa Martin",
            "identityType": "name",
            "hashed": False,
        }
    ]
    assert "id" not in named["credentialSubject"]
    assert schema_errors(named) == []
    anonymous = build_credential(**common, recipient=None)
    assert "Léa" not in str(anonymous)


def test_validity_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="valid_until"):
        credential(valid_until=DECIDED)


def test_ob3_imports_no_web_layer_and_no_database() -> None:
    """The OB 3.0 package is pure: the issuance piece brings the database and the pages."""
    package = REPO / "lti_tool" / "certification" / "ob3"
    allowed = {"lti_tool.certification.links"}
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [f"{node.module}.{alias.name}" for alias in node.names]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                top = name.split(".")[0]
                assert top not in {"flask", "flask_babel", "sqlalchemy", "werkzeug"}, (path, name)
                if top == "lti_tool":
                    assert name.startswith("lti_tool.certification.ob3") or name in allowed
