"""The admin page of a person's data: export, erase with confirmation, the erasures' register."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.privacy.models import Erasure
from tests.browser import assert_accessible, headless_chromium, serving
from tests.database_rows import every_row
from tests.lti_tool.privacy import scenario
from tests.lti_tool.privacy.scenario import EMAIL, ISSUER, NAME, PERSONAL, SUB

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)
CAMILLE = {"issuer": ISSUER, "sub": SUB}


@pytest.fixture
def admin_app(settings: Settings, clean_database: Database) -> Flask:
    return create_app(dataclasses.replace(settings, admin_token=TOKEN), database=clean_database)


@pytest.fixture
def people(clean_database: Database, settings: Settings) -> scenario.People:
    return scenario.build(clean_database, settings.instance_path)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form has no CSRF field"
    return match.group(1)


def _signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    client.post("/admin/connexion", data={"token": TOKEN, "csrf_token": _csrf(form)})
    return client


def _token(client: FlaskClient) -> str:
    return _csrf(client.get("/admin/personnes/").get_data(as_text=True))


def test_the_page_is_for_administrators_only(admin_app: Flask, people: scenario.People) -> None:
    client = admin_app.test_client()
    assert client.get("/admin/personnes/").status_code == 302
    assert client.post("/admin/personnes/export", data=CAMILLE).status_code in {302, 400}


def test_the_index_links_to_the_page(admin_app: Flask) -> None:
    page = _signed_in(admin_app).get("/admin/").get_data(as_text=True)
    assert 'href="/admin/personnes/"' in page


def test_export_from_the_page(admin_app: Flask, people: scenario.People) -> None:
    client = _signed_in(admin_app)
    response = client.post(
        "/admin/personnes/export", data={**CAMILLE, "csrf_token": _token(client)}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert json.loads(archive.read("person.json"))["email"] == EMAIL
        assert "README.txt" in archive.namelist()


def test_without_a_csrf_token_nothing_is_exported_or_erased(
    admin_app: Flask, people: scenario.People, clean_database: Database
) -> None:
    client = _signed_in(admin_app)
    before = every_row(clean_database)
    assert client.post("/admin/personnes/export", data=CAMILLE).status_code == 400
    erase = client.post("/admin/personnes/effacer/confirmer", data={**CAMILLE, "requested_by": "x"})
    assert erase.status_code == 400
    assert every_row(clean_database) == before


@pytest.mark.parametrize(
    "path",
    ["/admin/personnes/export", "/admin/personnes/effacer", "/admin/personnes/effacer/confirmer"],
)
def test_an_unknown_person_is_a_404_that_changes_nothing(
    admin_app: Flask, people: scenario.People, clean_database: Database, path: str
) -> None:
    client = _signed_in(admin_app)
    before = every_row(clean_database)
    data = {"issuer": ISSUER, "sub": "nobody", "requested_by": "x", "csrf_token": _token(client)}
    response = client.post(path, data=data)
    assert response.status_code == 404
    assert "Aucune personne de cette plateforme" in response.get_data(as_text=True)
    assert every_row(clean_database) == before


def test_erase_asks_first_then_erases(
    admin_app: Flask, people: scenario.People, clean_database: Database, settings: Settings
) -> None:
    client = _signed_in(admin_app)
    before = every_row(clean_database)
    confirm = client.post(
        "/admin/personnes/effacer", data={**CAMILLE, "csrf_token": _token(client)}
    )
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert f"Effacer les données de {NAME} ?" in page
    assert 'action="/admin/personnes/export"' in page  # export first, from the same page
    assert every_row(clean_database) == before  # asking changed nothing

    done = client.post(
        "/admin/personnes/effacer/confirmer",
        data={**CAMILLE, "requested_by": "Ticket 7", "csrf_token": _csrf(page)},
    )
    assert done.status_code == 302
    register = client.get("/admin/personnes/").get_data(as_text=True)
    assert "Effacement n° " in register
    assert "Ticket 7" in register
    dump = scenario.dump(clean_database)
    assert not [value for value in PERSONAL if value in dump]
    assert NAME not in scenario.stored_text(settings.instance_path)
    with clean_database.session() as session:
        (erasure,) = session.scalars(sa.select(Erasure)).all()
        assert erasure.channel == "admin"


def test_the_page_in_english(admin_app: Flask, people: scenario.People) -> None:
    client = _signed_in(admin_app)
    page = client.get("/admin/personnes/?lang=en").get_data(as_text=True)
    assert "<h1>People’s data</h1>" in page
    assert "Download the archive" in page
    confirm = client.post(
        "/admin/personnes/effacer?lang=en", data={**CAMILLE, "csrf_token": _token(client)}
    ).get_data(as_text=True)
    assert f"Erase the data of {NAME}?" in confirm


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
    chromium: WebDriver, live_admin: str, people: scenario.People, lang: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    chromium.get(f"{live_admin}/admin/connexion?next=/admin/personnes/&lang={lang}")
    chromium.find_element(By.ID, "token").send_keys(TOKEN)
    chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.current_url.endswith("/admin/personnes/"))
    assert chromium.execute_script("return document.documentElement.lang") == lang
    assert_accessible(chromium, f"/admin/personnes/?lang={lang}")
    # The confirmation step, reached by the form as an administrator would.
    chromium.find_element(By.ID, "erase-issuer").send_keys(ISSUER)
    chromium.find_element(By.ID, "erase-sub").send_keys(SUB)
    chromium.find_element(By.ID, "erase-sub").submit()
    WebDriverWait(chromium, 10).until(lambda d: d.current_url.endswith("/effacer"))
    assert chromium.find_element(By.ID, "requested_by").get_attribute("required") == "true"
    assert_accessible(chromium, f"/admin/personnes/effacer ({lang})")
