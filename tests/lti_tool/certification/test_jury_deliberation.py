"""The deliberation pages through the app: evidence, decisions, signing, corrections, livret."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from lti_tool.certification.models import JuryDecision
from lti_tool.db import Database
from tests.lti_tool.certification.jury_client import (
    ROOT,
    admin,
    admin_app,
    candidates_of,
    post,
    scene,
    text,
)
from tests.lti_tool.certification.jury_rows import Promotion
from tests.lti_tool.evaluation.factories import FRAMEWORK

__all__ = ["admin", "admin_app", "scene"]  # the fixtures


def test_deliberation_page_shows_evidence_and_records_decisions(
    admin: FlaskClient, clean_database: Database, scene: tuple[Promotion, int]
) -> None:
    promo, session_id = scene
    ana, bruno = candidates_of(admin, promo, session_id)
    page = admin.get(ana).get_data(as_text=True)
    shown = text(page)
    assert "Candidat n° 1 : Ana Costa" in shown
    assert "Proposition de Jalon : Validé" in shown  # B2, through E3
    assert "E3 — " in shown
    assert "Acquise (Évaluateur : Paul Durand)" in shown
    assert "Télécharger le livret (PDF)" in shown
    assert 'value="Claire Moreau"' in page  # the president decides, by default
    decided = post(
        admin,
        f"{ana}/decisions",
        {"scope": "bloc", "code": "B2", "decision": "valide", "decided_by": "Claire Moreau"},
        ana,
    )
    assert decided.startswith("302 ")
    shown = text(admin.get(ana).get_data(as_text=True))
    assert "Décision enregistrée : B2." in shown
    assert "Décision du jury : Validé" in shown
    refused = post(
        admin,
        f"{bruno}/decisions",
        {"scope": "bloc", "code": "B2", "decision": "valide", "decided_by": "CM"},
        bruno,
    )
    assert refused.startswith("400 ")
    assert "Motifs : Jalon ne trouve pas acquises : C2.2" in text(refused)
    assert 'id="B2-reasons"' in refused
    no_reason = post(
        admin,
        f"{bruno}/decisions",
        {"scope": "bloc", "code": "B1", "decision": "non_valide", "decided_by": "CM"},
        bruno,
    )
    assert "Motifs : Une décision « non validé » donne ses motifs." in text(no_reason)
    bad = post(
        admin,
        f"{bruno}/decisions",
        {"scope": "bloc", "code": "B1", "decision": "peut-être", "decided_by": "CM"},
        bruno,
    )
    assert bad.startswith("400 ")
    assert "Décision : Choisissez validé ou non validé." in text(bad)
    title = post(
        admin,
        f"{ana}/decisions",
        {"scope": "title", "code": FRAMEWORK, "decision": "valide", "decided_by": "CM"},
        ana,
    )
    assert "Le titre exige tous les blocs validés ; non validés : B1, B3, B4." in text(title)
    with clean_database.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(JuryDecision)) == 1


def test_sign_lists_problems_then_signs_and_corrections_follow(
    admin: FlaskClient, clean_database: Database, scene: tuple[Promotion, int]
) -> None:
    promo, session_id = scene
    candidates = candidates_of(admin, promo, session_id)
    sign = f"{ROOT}/sessions/{session_id}/signer"
    shown = text(admin.get(sign).get_data(as_text=True))
    assert "Le procès-verbal ne peut pas encore être signé" in shown
    assert "Candidat n° 2 : aucune décision sur le bloc B3." in shown
    assert "Candidat n° 1 : aucune décision sur le titre." in shown
    refused = post(admin, sign, {"signed_by": "Claire Moreau"}, f"{ROOT}/sessions/{session_id}")
    assert refused.startswith("409 ")
    for url in candidates:
        for bloc in ("B1", "B2", "B3", "B4"):
            post(
                admin,
                f"{url}/decisions",
                {
                    "scope": "bloc",
                    "code": bloc,
                    "decision": "non_valide",
                    "reasons": "Insuffisant",
                    "decided_by": "CM",
                },
                url,
            )
        post(
            admin,
            f"{url}/decisions",
            {
                "scope": "title",
                "code": FRAMEWORK,
                "decision": "non_valide",
                "reasons": "Blocs",
                "decided_by": "CM",
            },
            url,
        )
    page = admin.get(sign).get_data(as_text=True)
    assert "Toutes les décisions sont prises pour les 2 candidats." in text(page)
    signed = post(admin, sign, {"signed_by": "Claire Moreau"}, sign)
    assert signed.startswith("302 ")
    session_page = text(admin.get(f"{ROOT}/sessions/{session_id}").get_data(as_text=True))
    assert "Procès-verbal signé : 10 décisions définitives." in session_page
    assert "Ajouter un membre" not in session_page
    ana = candidates[0]
    page = admin.get(ana).get_data(as_text=True)
    assert "Corriger la décision sur le bloc B2" in text(page)
    late = post(
        admin,
        f"{ana}/decisions",
        {"scope": "bloc", "code": "B2", "decision": "valide", "decided_by": "CM"},
        ana,
    )
    assert late.startswith("409 ")
    with clean_database.session() as db:
        b2 = db.scalars(sa.select(JuryDecision).where(JuryDecision.code == "B2")).first()
        assert b2 is not None
        b2_id = b2.id
        candidate_id = b2.candidate_id
    url = f"{ROOT}/sessions/{session_id}/candidats/{candidate_id}"
    silent = post(
        admin, f"{url}/corrections/{b2_id}", {"decision": "valide", "decided_by": "CM"}, url
    )
    assert silent.startswith("400 ")
    fixed = post(
        admin,
        f"{url}/corrections/{b2_id}",
        {"decision": "valide", "reasons": "Erreur de report", "decided_by": "CM"},
        url,
    )
    assert fixed.startswith("302 ")
    shown = text(admin.get(url).get_data(as_text=True))
    assert f"Correction de la décision n° {b2_id} (définitive)" in shown
    assert "Erreur de report" in shown
    again = post(
        admin,
        f"{url}/corrections/{b2_id}",
        {"decision": "non_valide", "reasons": "x", "decided_by": "CM"},
        url,
    )
    assert again.startswith("409 ")


def test_the_livret_of_a_candidate_downloads_as_pdf(
    admin: FlaskClient, scene: tuple[Promotion, int]
) -> None:
    pytest.importorskip("weasyprint", reason="the livret needs WeasyPrint and Pango")
    promo, session_id = scene
    ana, _bruno = candidates_of(admin, promo, session_id)
    response = admin.get(f"{ana}/livret.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Cache-Control"] == "no-store"
