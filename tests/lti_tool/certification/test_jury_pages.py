"""The jury's admin pages through the app: sessions, members, candidates, isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.certification.models import CertificationSession, JuryMember
from lti_tool.db import Database
from tests.database_rows import every_row
from tests.lti_tool.certification.jury_client import (
    ROOT,
    admin,
    admin_app,
    candidates_of,
    post,
    scene,
    text,
)
from tests.lti_tool.certification.jury_rows import JURY_DATE, Promotion, promotion
from tests.lti_tool.evaluation.factories import FRAMEWORK

__all__ = ["admin", "admin_app", "scene"]  # the fixtures


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


def test_a_candidate_or_session_of_another_session_is_a_404(
    admin: FlaskClient, clean_database: Database, scene: tuple[Promotion, int]
) -> None:
    promo, session_id = scene
    ana, _bruno = candidates_of(admin, promo, session_id)
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


def test_the_pages_in_english(admin: FlaskClient, scene: tuple[Promotion, int]) -> None:
    promo, session_id = scene
    (ana, _bruno) = candidates_of(admin, promo, session_id)
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
