"""The jury's admin pages, through the app: sessions, members, candidates, deliberation, minutes."""

from __future__ import annotations

import dataclasses
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.certification.models import CertificationSession, JuryDecision, JuryMember
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from tests.database_rows import every_row
from tests.lti_tool.certification.jury_rows import JURY_DATE, Promotion, built, promotion
from tests.lti_tool.evaluation.factories import FRAMEWORK

TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)
ROOT = "/admin/certification"


@pytest.fixture
def admin_app(settings: Settings, clean_database: Database) -> Flask:
    app = create_app(dataclasses.replace(settings, admin_token=TOKEN), database=clean_database)
    with clean_database.session() as session:
        install_bundled(session)
    return app


def csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no form"
    return match.group(1)


@pytest.fixture
def admin(admin_app: Flask) -> FlaskClient:
    client = admin_app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    client.post("/admin/connexion", data={"token": TOKEN, "csrf_token": csrf(form)})
    return client


@pytest.fixture
def scene(admin_app: Flask, clean_database: Database) -> tuple[Promotion, int]:
    return built(clean_database)


def post(client: FlaskClient, path: str, data: dict[str, str], page: str = f"{ROOT}/") -> str:
    token = csrf(client.get(page).get_data(as_text=True))
    response = client.post(path, data={**data, "csrf_token": token})
    return f"{response.status_code} {response.get_data(as_text=True)}"


def text(page: str) -> str:
    """Return a page's text, tags removed and blanks collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_pages_are_for_administrators_only(admin_app: Flask, scene: tuple[Promotion, int]) -> None:
    client = admin_app.test_client()
    _promo, session_id = scene
    for path in (
        f"{ROOT}/",
        f"{ROOT}/sessions/{session_id}",
        f"{ROOT}/sessions/{session_id}/signer",
    ):
        assert client.get(path).status_code == 302


def test_the_admin_index_links_to_the_jury(admin: FlaskClient) -> None:
    assert f'href="{ROOT}/"' in admin.get("/admin/").get_data(as_text=True)


def test_open_a_session_from_the_form(admin: FlaskClient, clean_database: Database) -> None:
    page = post(
        admin,
        f"{ROOT}/sessions",
        {
            "framework": FRAMEWORK,
            "title": "Jury de juin",
            "jury_date": "2026-06-30",
            "place": "Lyon",
            "exam_postal_code": "69007",
            "exam_mode": "EN_PRESENTIEL",
        },
    )
    assert page.startswith("302 ")
    listing = admin.get(f"{ROOT}/").get_data(as_text=True)
    assert "Jury de juin" in listing
    with clean_database.session() as db:
        (session,) = db.scalars(sa.select(CertificationSession)).all()
        assert (session.place, session.exam_postal_code) == ("Lyon", "69007")


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        (
            "exam_postal_code",
            "7500",
            "Code postal du lieu des épreuves : Un code postal compte 5 chiffres.",
        ),
        ("exam_mode", "SUR_PLACE", "Modalité de passage : Choisissez en présentiel"),
        ("jury_date", "30/06/2026", "Date du jury : Saisissez une date (AAAA-MM-JJ)."),
        ("framework", "inconnu", "Référentiel : Aucun référentiel importé n’a ce code."),
        ("title", "", "Intitulé de la session : Ce champ est obligatoire."),
        ("exam_end", "2026-06-01", "Fin des épreuves : La fin des épreuves précède leur début."),
    ],
)
def test_bad_session_input_is_a_400_naming_the_field(
    admin: FlaskClient, clean_database: Database, field: str, value: str, shown: str
) -> None:
    data = {
        "framework": FRAMEWORK,
        "title": "Jury",
        "jury_date": "2026-06-30",
        "exam_start": "2026-06-02",
        field: value,
    }
    before = every_row(clean_database)
    page = post(admin, f"{ROOT}/sessions", data)
    assert page.startswith("400 ")
    assert shown in text(page)
    assert f'id="{field}"' in page
    assert every_row(clean_database) == before


def test_members_and_candidates_from_a_course(
    admin: FlaskClient, clean_database: Database, scene: tuple[Promotion, int]
) -> None:
    promo, session_id = scene
    where = f"{ROOT}/sessions/{session_id}"
    page = admin.get(where).get_data(as_text=True)
    assert "Claire Moreau" in page
    assert "Professionnel du métier" in page
    assert f'<option value="{promo.course.context_id}">' in page
    refused = post(admin, f"{where}/membres", {"full_name": "", "role": "juge"}, where)
    assert refused.startswith("400 ")
    assert "Nom et prénom : Ce champ est obligatoire." in text(refused)
    assert "Rôle : Choisissez président, membre ou professionnel du métier." in text(refused)
    assert (
        post(admin, f"{where}/membres", {"full_name": "Inès Petit", "role": "member"}, where)[:3]
        == "302"
    )
    added = post(admin, f"{where}/candidats", {"course": str(promo.course.context_id)}, where)
    assert added.startswith("302 ")
    page = text(admin.get(where).get_data(as_text=True))
    assert "Candidats ajoutés : 2." in page
    assert "1 Ana Costa Promotion 2026 0 / 4 0 —" in page
    assert "2 Bruno Martin" in page
    unknown = post(admin, f"{where}/candidats", {"course": "999999"}, where)
    assert unknown.startswith("400 ")
    assert "Cours : Choisissez un cours de la liste." in text(unknown)
    with clean_database.session() as db:
        member = db.scalars(sa.select(JuryMember).where(JuryMember.full_name == "Inès Petit")).one()
    removed = post(admin, f"{where}/membres/{member.id}/retirer", {}, where)
    assert removed.startswith("302 ")
    assert "Inès Petit ne siège plus au jury." in admin.get(where).get_data(as_text=True)
    assert "Inès Petit" not in admin.get(where).get_data(as_text=True)


def _candidates(admin: FlaskClient, promo: Promotion, session_id: int) -> list[str]:
    where = f"{ROOT}/sessions/{session_id}"
    post(admin, f"{where}/candidats", {"course": str(promo.course.context_id)}, where)
    page = admin.get(where).get_data(as_text=True)
    return re.findall(rf'href="({where}/candidats/\d+)"', page)


def test_deliberation_page_shows_evidence_and_records_decisions(
    admin: FlaskClient, clean_database: Database, scene: tuple[Promotion, int]
) -> None:
    promo, session_id = scene
    ana, bruno = _candidates(admin, promo, session_id)
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


def test_a_candidate_or_session_of_another_session_is_a_404(
    admin: FlaskClient, clean_database: Database, scene: tuple[Promotion, int]
) -> None:
    promo, session_id = scene
    ana, _bruno = _candidates(admin, promo, session_id)
    with clean_database.session() as db:
        other = CertificationSession(
            framework_code=FRAMEWORK, framework_version="1.0", title="Autre", jury_date=JURY_DATE
        )
        db.add(other)
        db.flush()
        other_id = other.id
    candidate_id = ana.rsplit("/", 1)[1]
    assert admin.get(f"{ROOT}/sessions/{other_id}/candidats/{candidate_id}").status_code == 404
    assert admin.get(f"{ROOT}/sessions/999999").status_code == 404
    other_page = admin.get(f"{ROOT}/sessions/{other_id}").get_data(as_text=True)
    assert "Ana Costa" not in other_page
    moved = post(
        admin,
        f"{ROOT}/sessions/{other_id}/candidats/{candidate_id}/decisions",
        {"scope": "bloc", "code": "B2", "decision": "valide", "decided_by": "CM"},
    )
    assert moved.startswith("404 ")


def test_sign_lists_problems_then_signs_and_corrections_follow(
    admin: FlaskClient, clean_database: Database, scene: tuple[Promotion, int]
) -> None:
    promo, session_id = scene
    candidates = _candidates(admin, promo, session_id)
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


def test_the_pages_in_english(admin: FlaskClient, scene: tuple[Promotion, int]) -> None:
    promo, session_id = scene
    (ana, _bruno) = _candidates(admin, promo, session_id)
    assert "Certification juries" in admin.get(f"{ROOT}/?lang=en").get_data(as_text=True)
    shown = text(admin.get(f"{ana}?lang=en").get_data(as_text=True))
    assert "Jalon’s proposal: Validated" in shown
    assert "History of decisions and corrections" in shown


def test_a_second_course_shares_nothing(
    admin: FlaskClient, clean_database: Database, scene: tuple[Promotion, int]
) -> None:
    _promo, session_id = scene
    with clean_database.session() as db:
        other = promotion(db, "Promotion Canvas")
    where = f"{ROOT}/sessions/{session_id}"
    page = admin.get(where).get_data(as_text=True)
    assert f'<option value="{other.course.context_id}">' in page
    post(admin, f"{where}/candidats", {"course": str(other.course.context_id)}, where)
    shown = text(admin.get(where).get_data(as_text=True))
    assert shown.count("Promotion Canvas") >= 2  # both candidates come from it
    assert "Promotion 2026 0 / 4" not in shown


def test_the_livret_of_a_candidate_downloads_as_pdf(
    admin: FlaskClient, scene: tuple[Promotion, int]
) -> None:
    pytest.importorskip("weasyprint", reason="the livret needs WeasyPrint and Pango")
    promo, session_id = scene
    ana, _bruno = _candidates(admin, promo, session_id)
    response = admin.get(f"{ana}/livret.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Cache-Control"] == "no-store"
