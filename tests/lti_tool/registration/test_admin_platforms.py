"""The admin page of platforms: signed-in only, CSRF on every form, nothing stored on error."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.db import Database
from lti_tool.models import PlatformStatus
from lti_tool.registration import PlatformFields, register_platform
from tests.lti_tool.registration.conftest import csrf_token, stored

PAGE = "/admin/plateformes/"
FORM = {
    "name": "Moodle de l’IUT",
    "issuer": "https://moodle.example.edu",
    "client_id": "HkJ3xUq2sLmN0p",
    "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
    "auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
    "key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
    "auth_audience": "",
    "deployment_ids": "1\n2",
}


def _add(admin: FlaskClient, **changes: str):  # type: ignore[no-untyped-def]
    token = csrf_token(admin.get(PAGE).get_data(as_text=True))
    return admin.post(PAGE, data={**FORM, **changes, "csrf_token": token})


def _platform_id(database: Database) -> int:
    with database.session() as session:
        platform = register_platform(
            session,
            PlatformFields(
                issuer="https://canvas.instructure.com",
                client_id="10000000000042",
                auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
                auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
                key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
                name="Canvas",
                deployment_ids=("2:4dde",),
            ),
            status=PlatformStatus.ACTIVE,
        )
        return platform.id


def test_an_anonymous_visitor_cannot_reach_the_page(admin_app: Flask) -> None:
    client = admin_app.test_client()
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/connexion?next=/admin/plateformes/")
    assert client.get(PAGE, headers={"Accept": "application/json"}).status_code == 401


def test_an_anonymous_post_stores_nothing_even_with_a_csrf_token(
    admin_app: Flask, clean_database: Database
) -> None:
    client = admin_app.test_client()
    anonymous_token = csrf_token(client.get("/admin/connexion").get_data(as_text=True))
    response = client.post(PAGE, data={**FORM, "csrf_token": anonymous_token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/connexion")
    assert stored(clean_database) == []
    platform_id = _platform_id(clean_database)
    removal = client.post(f"{PAGE}{platform_id}/supprimer", data={"csrf_token": anonymous_token})
    assert removal.status_code == 302
    assert len(stored(clean_database)) == 1


def test_add_a_platform(admin: FlaskClient, clean_database: Database) -> None:
    response = _add(admin)
    assert response.status_code == 302
    assert stored(clean_database) == [("https://moodle.example.edu", "HkJ3xUq2sLmN0p", ["1", "2"])]
    page = admin.get(PAGE).get_data(as_text=True)
    assert "Plateforme « Moodle de l’IUT » enregistrée, en attente" in page
    assert "<code>HkJ3xUq2sLmN0p</code>" in page
    assert "En attente d’activation" in page


def test_a_post_without_csrf_token_is_refused(admin: FlaskClient, clean_database: Database) -> None:
    response = admin.post(PAGE, data=FORM)
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
    assert stored(clean_database) == []


def test_bad_input_is_shown_next_to_its_field_and_stores_nothing(
    admin: FlaskClient, clean_database: Database
) -> None:
    response = _add(admin, issuer="http://moodle.example.edu", client_id="", deployment_ids="1 1")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    issuer = re.search(r'<input id="issuer"[^>]*>', page, re.S)
    assert issuer is not None
    assert 'aria-invalid="true"' in issuer.group(0)
    assert 'value="http://moodle.example.edu"' in issuer.group(0)  # what was typed is kept
    assert 'id="erreur-issuer-1">L’URL doit commencer par https://' in page
    assert 'id="erreur-client_id-1">Ce champ est obligatoire.' in page
    assert "Le déploiement « 1 » est en double" in page
    assert stored(clean_database) == []


def test_the_same_platform_twice_is_refused(admin: FlaskClient, clean_database: Database) -> None:
    assert _add(admin).status_code == 302
    response = _add(admin, name="autre")
    assert response.status_code == 400
    assert "est déjà enregistrée" in response.get_data(as_text=True)
    assert len(stored(clean_database)) == 1


def test_add_and_remove_deployments(admin: FlaskClient, clean_database: Database) -> None:
    platform_id = _platform_id(clean_database)
    token = csrf_token(admin.get(PAGE).get_data(as_text=True))
    url = f"{PAGE}{platform_id}/deploiements"
    assert admin.post(url, data={"deployment_id": "3:beef", "csrf_token": token}).status_code == 302
    twice = admin.post(url, data={"deployment_id": "3:beef", "csrf_token": token})
    assert twice.status_code == 400
    assert 'aria-invalid="true"' in twice.get_data(as_text=True)
    assert admin.post(url, data={"deployment_id": "9", "csrf_token": ""}).status_code == 400
    removed = admin.post(f"{url}/supprimer", data={"deployment_id": "2:4dde", "csrf_token": token})
    assert removed.status_code == 302
    assert stored(clean_database) == [
        ("https://canvas.instructure.com", "10000000000042", ["3:beef"])
    ]


def test_remove_a_platform_after_confirmation(admin: FlaskClient, clean_database: Database) -> None:
    platform_id = _platform_id(clean_database)
    confirm = admin.get(f"{PAGE}{platform_id}/supprimer")
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "C’est irréversible." in page
    assert admin.post(f"{PAGE}{platform_id}/supprimer", data={}).status_code == 400
    assert len(stored(clean_database)) == 1
    response = admin.post(f"{PAGE}{platform_id}/supprimer", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert stored(clean_database) == []
    assert admin.get(f"{PAGE}{platform_id}/supprimer").status_code == 404


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_page_is_served_in_both_languages(admin: FlaskClient, lang: str) -> None:
    page = admin.get(f"{PAGE}?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    heading = {"fr": "<h1>Plateformes LTI</h1>", "en": "<h1>LTI platforms</h1>"}[lang]
    assert heading in page
