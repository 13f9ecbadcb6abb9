"""The accrochage admin pages, through create_app(): holders, problems, the validated file."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
import xmlschema
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.certification.models import HolderIdentity
from lti_tool.config import CertifierSettings, Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from tests.browser import assert_accessible, headless_chromium, serving
from tests.lti_tool.certification import accrochage_scenario as scenario
from tests.lti_tool.certification.test_accrochage_file import PACKAGE_XSD

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)
PAGES = "/admin/certification/accrochage"


@pytest.fixture
def admin_app(settings: Settings, clean_database: Database) -> Flask:
    certifier = CertifierSettings(id_client="EX000001", id_contrat="MCFCER000123")
    app = create_app(
        dataclasses.replace(settings, admin_token=TOKEN, certifier=certifier),
        database=clean_database,
    )
    with clean_database.session() as session:
        install_bundled(session)
    return app


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form has no CSRF field"
    return match.group(1)


def _signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    client.post("/admin/connexion", data={"token": TOKEN, "csrf_token": _csrf(form)})
    return client


def _no_birth_year(database: Database, learner_id: int) -> None:
    with database.session() as db:
        db.execute(
            sa.update(HolderIdentity)
            .where(HolderIdentity.learner_id == learner_id)
            .values(birth_year=None)
        )


def test_the_pages_are_for_administrators_only(admin_app: Flask, clean_database: Database) -> None:
    ids = scenario.build(clean_database)
    client = admin_app.test_client()
    for path in ("/", f"/sessions/{ids.session_id}", f"/sessions/{ids.session_id}/accrochage.xml"):
        assert client.get(PAGES + path).status_code == 302


def test_a_complete_session_lists_its_holders_and_offers_a_valid_file(
    admin_app: Flask, clean_database: Database, tmp_path: Path
) -> None:
    ids = scenario.build(clean_database)
    client = _signed_in(admin_app)
    index = client.get(f"{PAGES}/").get_data(as_text=True)
    assert f'href="{PAGES}/sessions/{ids.session_id}"' in index
    page = client.get(f"{PAGES}/sessions/{ids.session_id}").get_data(as_text=True)
    assert "Camille Exemple" in page
    assert "Dominique Durand" in page
    assert "Alex Martin" not in page  # validated nothing: not declared
    assert "<code>RNCP99999BC02</code>" in page
    assert "Ce qui empêche le fichier" not in page
    link = f'href="{PAGES}/sessions/{ids.session_id}/accrochage.xml"'
    assert link in page

    response = client.get(f"{PAGES}/sessions/{ids.session_id}/accrochage.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert "attachment" in response.headers["Content-Disposition"]
    target = tmp_path / "downloaded.xml"
    target.write_bytes(response.data)
    xmlschema.XMLSchema(str(PACKAGE_XSD)).validate(str(target))


def test_a_missing_birth_date_is_listed_and_no_file_is_given(
    admin_app: Flask, clean_database: Database
) -> None:
    ids = scenario.build(clean_database)
    _no_birth_year(clean_database, ids.dominique)
    client = _signed_in(admin_app)
    page = client.get(f"{PAGES}/sessions/{ids.session_id}").get_data(as_text=True)
    assert "Ce qui empêche le fichier" in page
    row = re.search(r"<tr>\s*<td>n° 2 Dominique Durand</td>.*?</tr>", page, re.S)
    assert row, page
    assert "<code>anneeNaissance</code>" in row.group()
    assert "obligatoire, et absent" in row.group()
    assert 'accrochage.xml" download' not in page

    response = client.get(f"{PAGES}/sessions/{ids.session_id}/accrochage.xml")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "<code>anneeNaissance</code>" in response.get_data(as_text=True)


def test_the_page_in_english(admin_app: Flask, clean_database: Database) -> None:
    ids = scenario.build(clean_database)
    _no_birth_year(clean_database, ids.dominique)
    client = _signed_in(admin_app)
    page = client.get(f"{PAGES}/sessions/{ids.session_id}?lang=en").get_data(as_text=True)
    assert "What stops the file" in page
    assert "required, and missing" in page
    assert "<code>anneeNaissance</code>" in page


def test_an_unknown_session_is_a_404(admin_app: Flask, clean_database: Database) -> None:
    client = _signed_in(admin_app)
    for path in ("/sessions/999999", "/sessions/999999/accrochage.xml"):
        response = client.get(PAGES + path)
        assert response.status_code == 404
        assert "Aucune session de certification n’a ce numéro." in response.get_data(as_text=True)


def _upload(client: FlaskClient, session_id: int, data: bytes, token: str | None) -> object:
    form: dict[str, object] = {"xsd": (io.BytesIO(data), "cpf-newer.xsd")}
    if token is not None:
        form["csrf_token"] = token
    return client.post(
        f"{PAGES}/sessions/{session_id}/accrochage.xml",
        data=form,
        content_type="multipart/form-data",
    )


def test_an_uploaded_xsd_is_used_with_csrf_only(admin_app: Flask, clean_database: Database) -> None:
    ids = scenario.build(clean_database)
    client = _signed_in(admin_app)
    token = _csrf(client.get(f"{PAGES}/sessions/{ids.session_id}").get_data(as_text=True))
    data = PACKAGE_XSD.read_bytes()
    at = data.index(b'<xsd:element name="idContrat">')
    limit = data.index(b'<xsd:maxLength value="20"/>', at)
    stricter = data[:limit] + data[limit:].replace(b'"20"', b'"5"', 1)

    assert _upload(client, ids.session_id, stricter, None).status_code == 400  # type: ignore[attr-defined]
    refused = _upload(client, ids.session_id, stricter, token)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    page = refused.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "<code>idContrat</code>" in page
    assert "<code>cpf-newer.xsd</code>" in page
    accepted = _upload(client, ids.session_id, data, token)
    assert accepted.status_code == 200  # type: ignore[attr-defined]
    assert accepted.mimetype == "application/xml"  # type: ignore[attr-defined]

    broken = _upload(client, ids.session_id, b"<oops", token)
    assert broken.status_code == 400  # type: ignore[attr-defined]
    assert "Champ xsd" in broken.get_data(as_text=True)  # type: ignore[attr-defined]


@pytest.fixture
def live_admin(admin_app: Flask) -> Iterator[str]:
    with serving(admin_app) as url:
        yield url


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        yield driver


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_pages_pass_axe_core(
    chromium: WebDriver, live_admin: str, clean_database: Database, lang: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    ids = scenario.build(clean_database)
    chromium.get(f"{live_admin}/admin/connexion?next={PAGES}/&lang={lang}")
    chromium.find_element(By.ID, "token").send_keys(TOKEN)
    chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.current_url.endswith(f"{PAGES}/"))
    assert chromium.execute_script("return document.documentElement.lang") == lang
    assert_accessible(chromium, f"{PAGES}/?lang={lang}")
    chromium.get(f"{live_admin}{PAGES}/sessions/{ids.session_id}?lang={lang}")
    assert_accessible(chromium, f"the session's page, file valid ({lang})")
    _no_birth_year(clean_database, ids.dominique)
    chromium.get(f"{live_admin}{PAGES}/sessions/{ids.session_id}?lang={lang}")
    assert chromium.find_elements(By.CSS_SELECTOR, "[role=alert]")
    assert_accessible(chromium, f"the session's page, with problems ({lang})")
