"""Admin sign-in, and CSRF on every form."""

from __future__ import annotations

import dataclasses
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.auth import admin_required
from lti_tool.config import Settings
from lti_tool.db import Database

TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)


@pytest.fixture
def admin_app(settings: Settings, clean_database: Database) -> Flask:
    app = create_app(dataclasses.replace(settings, admin_token=TOKEN), database=clean_database)

    @app.get("/admin/essai")
    @admin_required
    def _probe() -> str:
        return "secret admin page"

    return app


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form has no CSRF field"
    return match.group(1)


def test_admin_pages_need_a_sign_in(admin_app: Flask) -> None:
    client = admin_app.test_client()
    response = client.get("/admin/essai")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/connexion?next=/admin/essai")
    assert client.get("/admin/essai", headers={"Accept": "application/json"}).status_code == 401


def test_sign_in_with_the_token(admin_app: Flask) -> None:
    client = admin_app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    response = client.post(
        "/admin/connexion?next=/admin/essai", data={"token": TOKEN, "csrf_token": _token(form)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/essai"
    assert client.get("/admin/essai").get_data(as_text=True) == "secret admin page"


def test_a_wrong_token_is_refused(admin_app: Flask) -> None:
    client = admin_app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    response = client.post("/admin/connexion", data={"token": "nope", "csrf_token": _token(form)})
    assert response.status_code == 401
    assert 'role="alert"' in response.get_data(as_text=True)
    assert client.get("/admin/essai").status_code == 302


def test_a_post_without_csrf_token_is_refused(admin_app: Flask) -> None:
    client = admin_app.test_client()
    response = client.post("/admin/connexion", data={"token": TOKEN})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
    assert client.get("/admin/essai").status_code == 302


def test_a_token_of_another_session_is_refused(admin_app: Flask) -> None:
    first, second = admin_app.test_client(), admin_app.test_client()
    for client in (first, second):
        form = client.get("/admin/connexion").get_data(as_text=True)
        client.post("/admin/connexion", data={"token": TOKEN, "csrf_token": _token(form)})
    stolen = _token(first.get("/admin/connexion").get_data(as_text=True))
    assert second.post("/admin/deconnexion", data={"csrf_token": stolen}).status_code == 400
    own = _token(second.get("/admin/connexion").get_data(as_text=True))
    assert second.post("/admin/deconnexion", data={"csrf_token": own}).status_code == 302


def test_next_never_leaves_the_site(admin_app: Flask) -> None:
    client = admin_app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    response = client.post(
        "/admin/connexion?next=//evil.example/x", data={"token": TOKEN, "csrf_token": _token(form)}
    )
    assert response.headers["Location"] == "/admin/"


def test_admin_is_closed_without_a_token(client: FlaskClient) -> None:
    page = client.get("/admin/connexion").get_data(as_text=True)
    assert "JALON_ADMIN_TOKEN" in page


def _signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    client.post("/admin/connexion", data={"token": TOKEN, "csrf_token": _token(form)})
    return client


def test_item8_admin_answers_with_an_index_of_the_admin_pages(admin_app: Flask) -> None:
    assert admin_app.test_client().get("/admin/").status_code == 302  # to the sign-in page
    page = _signed_in(admin_app).get("/admin/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for link in ("/admin/plateformes/", "/admin/xapi/", "/referentiels/", "/lti/installation"):
        assert f'href="{link}"' in html, link
    assert "Actives : 0." in html
    assert 'action="/admin/deconnexion"' in html


def test_item8_the_admin_index_counts_platforms_waiting_for_approval(
    admin_app: Flask, clean_database: Database
) -> None:
    from lti_tool.models import Platform, PlatformStatus

    with clean_database.session() as session:
        for number, status in enumerate((PlatformStatus.ACTIVE, PlatformStatus.PENDING)):
            session.add(
                Platform(
                    issuer=f"https://lms{number}.example.org",
                    client_id="jalon",
                    auth_login_url=f"https://lms{number}.example.org/login",
                    auth_token_url=f"https://lms{number}.example.org/token",
                    key_set_url=f"https://lms{number}.example.org/jwks",
                    status=status,
                )
            )
        session.commit()
    html = _signed_in(admin_app).get("/admin/?lang=en").get_data(as_text=True)
    assert "Active: 1." in html
    assert "Waiting for approval: 1." in html
