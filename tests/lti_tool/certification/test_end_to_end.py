"""From the last grade to the declared title, on the demo LMS, as a certifier lives it.

Léa hands in épreuve E3 in the demo course and her instructor grades every criterion met:
bloc B2 is validated. A jury session is opened for the course, the jury decides, and the
minutes are signed on the admin page. That issues Léa's Open Badges credential for B2,
which she downloads from "Ma progression"; it validates against 1EdTech's schema and a
second library (Digital Bazaar's, in Node) verifies it with the documents Jalon serves.
The minutes and the certificate render (PNG pages looked at, QR code read back).
Revoking the credential flips its bit in the status list. The accrochage file validates
against the Caisse des Dépôts' XSD, and without Léa's birth date it is refused, naming
``anneeNaissance``, with nothing written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import xmlschema
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.certification import links
from lti_tool.certification.accrochage import Certifier, declare, load_schema
from lti_tool.certification.accrochage.write import write_flux
from lti_tool.certification.decisions import decide
from lti_tool.certification.identity_import import import_identities
from lti_tool.certification.issuance import revoke
from lti_tool.certification.models import (
    CertificationSession,
    HolderIdentity,
    IssuedCredential,
    JuryRole,
)
from lti_tool.certification.ob3.loader import OB_V3P0, bundled_document
from lti_tool.certification.sessions import add_candidates_from_course, add_member, create_session
from lti_tool.config import CertifierSettings, Settings
from lti_tool.db import Database
from lti_tool.demo.keys import KeyPair
from lti_tool.evaluation.models import LearnerProgress
from lti_tool.frameworks import find_record, framework_of, import_framework
from lti_tool.models import LtiContext, LtiUser
from referentiel.model import Framework
from tests.conftest import REPO
from tests.lti_tool.certification import pdf_reading
from tests.lti_tool.certification.jury_client import csrf
from tests.lti_tool.certification.ob3_support import schema_errors
from tests.lti_tool.certification.test_ob3_second_verifier import missing, node_verify
from tests.lti_tool.demo.conftest import demo_state, keys, place, platform_key
from tests.lti_tool.demo.harness import JALON, LEA, Browser
from tests.lti_tool.demo.test_evaluation_flow import (
    FRAMEWORK,
    _evaluate_all_met,
    _hand_in,
    _launch,
    demo_app,
)

__all__ = ["keys", "platform_key"]  # the demo's fixtures, used by name
TOKEN = "admin-token-e2e-0123456789abcdef"  # noqa: S105 (a test value)
XSD = REPO.parent / "shared" / "specs" / "cdc-cpf-accrochage-1.1.2.xsd"
# Test data: the shipped référentiel names no RNCP number, so the certifier's own copy
# gives one here (an invented number, as the CDC sample's).
RNCP = "RNCP00000"
IDENTITY_CSV = (
    "email;nom_naissance;prenom1;date_naissance;sexe;code_insee_naissance;"
    "commune_naissance;voie_acces\n"
    "lmoreau@demo.invalid;Moreau;Léa;14/05/1999;F;75056;Paris;"
    "FORMATION_INITIALE_APPRENTISSAGE\n"
)


@pytest.fixture
def demo(settings: Settings, clean_database: Database, platform_key: KeyPair) -> Iterator[Flask]:
    certifier = CertifierSettings(
        name="École de démonstration", id_client="DEMO0001", id_contrat="CONTRAT-DEMO"
    )
    app, _transport = demo_app(
        dataclasses.replace(settings, admin_token=TOKEN, certifier=certifier), clean_database
    )
    with clean_database.session() as db:
        framework = _framework(db)
        numbered = dataclasses.replace(
            framework,
            identity=dataclasses.replace(framework.identity, rncp=RNCP, version="1.0-rncp"),
            blocs=tuple(
                dataclasses.replace(bloc, rncp=f"{RNCP}BC0{n}")
                for n, bloc in enumerate(framework.blocs, 1)
            ),
        )
        import_framework(db, numbered)
        db.commit()
    yield app
    demo_state(app).database.engine.dispose()


def _framework(db: sa.orm.Session) -> Framework:
    record = find_record(db, FRAMEWORK)
    assert record is not None
    return framework_of(record)


def _admin(app: Flask) -> FlaskClient:
    client = app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    client.post("/admin/connexion", data={"token": TOKEN, "csrf_token": csrf(form)})
    return client


def _served(client: FlaskClient, url: str) -> dict[str, Any]:
    """GET one of Jalon's public documents, as a verifier on the Internet would."""
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200, url
    document: dict[str, Any] = json.loads(response.get_data(as_text=True))
    return document


def _documents(client: FlaskClient, credential: dict[str, Any]) -> dict[str, Any]:
    key = credential["proof"][0]["verificationMethod"]
    issuer = credential["issuer"]["id"]
    statuses = credential["credentialStatus"]["statusListCredential"]
    return {
        key: _served(client, key),
        issuer: _served(client, issuer),
        statuses: _served(client, statuses),
        OB_V3P0: bundled_document(OB_V3P0),
    }


def _open_session(db: sa.orm.Session) -> int:
    framework = _framework(db)
    session = create_session(
        db,
        framework=framework,
        title="Jury de démonstration",
        jury_date=dt.date.today(),
        place="Lyon",
        exam_start=dt.date.today() - dt.timedelta(days=30),
        exam_end=dt.date.today() - dt.timedelta(days=1),
        exam_postal_code="69001",
        exam_mode="EN_PRESENTIEL",
    )
    add_member(db, session, full_name="Claire Moreau", role=JuryRole.PRESIDENT)
    add_member(db, session, full_name="Hugo Bernard", role=JuryRole.PROFESSIONAL, quality="CM")
    context = db.scalars(sa.select(LtiContext)).one()
    candidates = add_candidates_from_course(db, session, context)
    for candidate in candidates:
        learner = db.get(LtiUser, candidate.learner_id)
        assert learner is not None
        is_lea = learner.email == "lmoreau@demo.invalid"
        for bloc in framework.blocs:
            validated = is_lea and bloc.code == "B2"
            decide(
                db,
                candidate,
                scope="bloc",
                code=bloc.code,
                is_validated=validated,
                reasons="" if validated else "Épreuves non présentées",
                decided_by="Claire Moreau",
            )
        decide(
            db,
            candidate,
            scope="title",
            code=framework.code,
            is_validated=False,
            reasons="Blocs non validés",
            decided_by="Claire Moreau",
        )
    return session.id


def test_from_the_last_grade_to_the_declared_title(
    demo: Flask, clean_database: Database, tmp_path: Path
) -> None:
    database = clean_database
    browser = Browser({"jalon.test": demo})
    link = place(demo, title="E3 — Projet", custom={"framework": FRAMEWORK, "epreuve": "E3"})

    # Léa hands in E3; the instructor grades every criterion met: bloc B2 is validated.
    _hand_in(browser, link, "Ma stratégie de contenu, mon calendrier éditorial et mon bilan.")
    _evaluate_all_met(browser, link, "Projet complet : toutes les compétences démontrées.")
    with database.session() as db:
        b2 = db.scalars(
            sa.select(LearnerProgress).where(
                LearnerProgress.kind == "bloc", LearnerProgress.code == "B2"
            )
        ).one()
        assert b2.status == "acquis"  # bloc validé
        session_id = _open_session(db)
        db.commit()

    # The president signs the minutes on the admin page: B2's credential is issued.
    admin = _admin(demo)
    sign_page = admin.get(f"/admin/certification/sessions/{session_id}/signer")
    assert sign_page.status_code == 200
    signed = admin.post(
        f"/admin/certification/sessions/{session_id}/signer",
        data={"signed_by": "Claire Moreau", "csrf_token": csrf(sign_page.get_data(as_text=True))},
    )
    assert signed.status_code == 302, signed.get_data(as_text=True)
    with database.session() as db:
        issued = db.scalars(sa.select(IssuedCredential)).all()
        assert [(c.scope, c.code) for c in issued] == [("bloc", "B2")]
        public_id = issued[0].public_id

    # Léa finds it in "Ma progression" and downloads it.
    landing = _launch(browser, link, LEA)
    token = landing.request.args["lt"]
    progress = browser.open(f"{JALON}/progression?lt={token}").get_data(as_text=True)
    assert "Mes certifications" in progress
    assert public_id in progress
    downloaded = browser.open(f"{JALON}/progression/certifications/{public_id}.json?lt={token}")
    assert downloaded.status_code == 200
    credential = json.loads(downloaded.get_data(as_text=True))
    assert credential["id"] == links.credential_id(public_id)
    assert "lmoreau" not in json.dumps(credential)  # the recipient is a salted hash
    assert schema_errors(credential) == []

    # The minutes and the certificate render; their PNG pages are read back.
    for path, wanted in [
        (f"/admin/certification/sessions/{session_id}/proces-verbal.pdf", "Claire Moreau"),
        (f"/admin/certification/documents/{public_id}.pdf", "B2"),
    ]:
        response = admin.get(path)
        assert response.status_code == 200, path
        pdf = tmp_path / Path(path).name
        pdf.write_bytes(response.get_data())
        assert pdf_reading.has(pdf_reading.text(pdf), wanted)
        (tmp_path / pdf.stem).mkdir()
        pngs = pdf_reading.pages(pdf, tmp_path / pdf.stem)
        assert pngs
        if "documents" in path:
            verification = links.verification_url("https://jalon.test", public_id)
            assert verification in pdf_reading.qr_codes(pngs[0])

    # A second library verifies it with what Jalon serves; revocation flips its status.
    public = demo.test_client()
    if not missing():
        verified = node_verify(tmp_path, credential, _documents(public, credential))
        assert (verified["verified"], verified["revoked"]) == (True, False), verified
    valid_page = public.get(f"/verifier/{public_id}").get_data(as_text=True)
    assert "Léa" not in valid_page  # statements carry this URL beside a pseudonymous actor
    with database.session() as db:
        row = db.scalars(sa.select(IssuedCredential)).one()
        revoke(db, row, reason="Fraude constatée")
        db.commit()
    page = public.get(f"/verifier/{public_id}").get_data(as_text=True)
    assert "Fraude constatée" in page
    if not missing():
        after = node_verify(tmp_path, credential, _documents(public, credential))
        assert after["revoked"] is True, after  # the signature holds; the status list says no

    # The accrochage file: valid against the XSD; refused without a birth date.
    schema = load_schema(XSD)
    certifier = Certifier("DEMO0001", "CONTRAT-DEMO")
    with database.session() as db:
        session = db.get(CertificationSession, session_id)
        assert session is not None
        import_identities(db, session, IDENTITY_CSV.encode(), retention_days=365)
        _declaration, outcome = declare(
            db, session_id, certifier, "https://jalon.test", schema, name_of=lambda u: u.sub
        )
        assert outcome.problems == ()
        assert outcome.document is not None
        xmlschema.XMLSchema(str(XSD)).validate(outcome.document.decode())
        assert f"{RNCP}BC02".encode() in outcome.document
        db.scalars(sa.select(HolderIdentity)).one().birth_year = None
        declaration, refused = declare(
            db, session_id, certifier, "https://jalon.test", schema, name_of=lambda u: u.sub
        )
        target = tmp_path / "accrochage.xml"
        write_flux(declaration.flux, schema, target)
        assert not target.exists()
        assert "anneeNaissance" in {p.field for p in refused.problems}
        db.rollback()
