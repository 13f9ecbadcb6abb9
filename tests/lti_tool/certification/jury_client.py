"""An app with an administrator signed in, a course and a seated session: the pages' tests."""

from __future__ import annotations

import dataclasses
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from tests.lti_tool.certification.jury_rows import Promotion, built

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


def candidates_of(admin: FlaskClient, promo: Promotion, session_id: int) -> list[str]:
    where = f"{ROOT}/sessions/{session_id}"
    post(admin, f"{where}/candidats", {"course": str(promo.course.context_id)}, where)
    page = admin.get(where).get_data(as_text=True)
    return re.findall(rf'href="({where}/candidats/\d+)"', page)
