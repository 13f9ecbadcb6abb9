"""The PDFs over HTTP: who gets which document, with which headers, and every refusal.

An administrator downloads the minutes of any session and any credential's document; a
learner, from their LTI session, their own only (another's is a 404). A revoked
credential answers 410 with its reason; a server without WeasyPrint's libraries, 503
naming them. The refusal pages pass axe-core in Chromium.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
import uuid
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.certification.documents import render
from lti_tool.certification.models import IssuedCredential
from lti_tool.config import Settings
from lti_tool.db import Database, utcnow
from lti_tool.models import LtiUser
from tests.browser import assert_accessible
from tests.lti_tool.certification import pdf_reading as read
from tests.lti_tool.certification.pdf_rows import FRAMEWORK, Jury, demo_jury
from tests.lti_tool.lti.conftest import canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

__all__ = ["canvas", "key_server", "moodle", "registered"]
TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)
REASON = "Fraude constatée à l’épreuve E2."


@pytest.fixture
def admin_app(settings: Settings, clean_database: Database) -> Flask:
    return create_app(dataclasses.replace(settings, admin_token=TOKEN), database=clean_database)


@pytest.fixture
def jury(clean_database: Database) -> Jury:
    with clean_database.session() as db:
        return demo_jury(db)


def _signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match
    client.post("/admin/connexion", data={"token": TOKEN, "csrf_token": match[1]})
    return client


def _revoke(database: Database, public_id: str) -> None:
    with database.session() as db:
        credential = db.scalars(
            sa.select(IssuedCredential).where(IssuedCredential.public_id == public_id)
        ).one()
        credential.revoked_at, credential.revocation_reason = utcnow(), REASON


def _assert_pdf(response: Any, filename: str) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_data()
    assert body.startswith(b"%PDF-")
    assert body.rstrip().endswith(b"%%EOF")


def test_an_administrator_downloads_the_minutes_of_a_session(admin_app: Flask, jury: Jury) -> None:
    read.require_pdf_tools()
    path = f"/admin/certification/sessions/{jury.session_id}/proces-verbal.pdf"
    stranger = admin_app.test_client().get(path)
    assert stranger.status_code == 302
    assert stranger.headers["Location"].startswith("/admin/connexion")
    client = _signed_in(admin_app)
    _assert_pdf(client.get(path), f"proces-verbal-session-{jury.session_id}.pdf")
    assert client.get("/admin/certification/sessions/999999/proces-verbal.pdf").status_code == 404
    huge = client.get(f"/admin/certification/sessions/{10**30}/proces-verbal.pdf")
    assert huge.status_code == 404


def test_an_administrator_downloads_any_certificate_and_parchment(
    admin_app: Flask, jury: Jury
) -> None:
    read.require_pdf_tools()
    client = _signed_in(admin_app)
    first = jury.learner_ids[0]
    bloc, title = jury.credentials[(first, "B2")], jury.credentials[(first, FRAMEWORK)]
    _assert_pdf(
        client.get(f"/admin/certification/documents/{bloc}.pdf"), f"certificat-B2-{bloc[:8]}.pdf"
    )
    _assert_pdf(
        client.get(f"/admin/certification/documents/{title}.pdf"),
        f"parchemin-community-manager-n6-{title[:8]}.pdf",
    )
    for wrong in (str(uuid.uuid4()), "not-a-uuid", "x" * 36, bloc.upper()):
        assert client.get(f"/admin/certification/documents/{wrong}.pdf").status_code == 404
    assert (
        admin_app.test_client().get(f"/admin/certification/documents/{bloc}.pdf").status_code == 302
    )


@pytest.fixture
def launched(registered: Flask, moodle: TestPlatform, clean_database: Database) -> tuple[str, Jury]:
    """Léa launched as a learner from Moodle; she is candidate 1 of the session."""
    token = landing_token(Browser(registered.test_client()).launch(moodle, "learner"))
    with clean_database.session() as db:
        lea = db.scalars(sa.select(LtiUser).where(LtiUser.sub == "42")).one()
        return token, demo_jury(db, first=lea)


def test_a_learner_downloads_their_own_documents_and_no_one_elses(
    registered: Flask, launched: tuple[str, Jury], tmp_path: Any
) -> None:
    read.require_pdf_tools()
    token, jury = launched
    browser = Browser(registered.test_client())
    lea, bastien = jury.learner_ids[:2]
    own = jury.credentials[(lea, "B1")]
    response = browser.get(f"/certification/documents/{own}.pdf?lt={token}")
    _assert_pdf(response, f"certificat-B1-{own[:8]}.pdf")
    pdf = tmp_path / "own.pdf"
    pdf.write_bytes(response.get_data())
    assert "Léa Martin" in read.text(pdf)  # named as the launch named her
    parchment = jury.credentials[(lea, FRAMEWORK)]
    assert browser.get(f"/certification/documents/{parchment}.pdf?lt={token}").status_code == 200
    # Bastien's certificate does not exist for Léa: the same 404 as an unknown address.
    others = jury.credentials[(bastien, "B1")]
    for public_id in (others, str(uuid.uuid4()), "../../etc/passwd"):
        refused = browser.get(f"/certification/documents/{public_id}.pdf?lt={token}")
        assert refused.status_code == 404
        assert b"%PDF" not in refused.get_data()
    # Without her session, nothing; and the admin route is not hers.
    assert browser.get(f"/certification/documents/{own}.pdf").status_code == 401
    assert browser.get(f"/admin/certification/documents/{own}.pdf?lt={token}").status_code == 302


def test_a_revoked_credential_is_gone_with_its_reason(
    registered: Flask, launched: tuple[str, Jury], clean_database: Database
) -> None:
    token, jury = launched
    own = jury.credentials[(jury.learner_ids[0], "B3")]
    _revoke(clean_database, own)
    for lang, title in (("fr", "Certificat révoqué"), ("en", "Certificate revoked")):
        response = Browser(registered.test_client()).get(
            f"/certification/documents/{own}.pdf?lt={token}&lang={lang}"
        )
        assert response.status_code == 410
        assert response.headers["Content-Type"].startswith("text/html")
        page = response.get_data(as_text=True)
        assert title in page
        assert "Fraude constatée à l’épreuve E2." in page


def test_an_administrator_gets_the_410_too(
    admin_app: Flask, jury: Jury, clean_database: Database
) -> None:
    own = jury.credentials[(jury.learner_ids[0], "B3")]
    _revoke(clean_database, own)
    response = _signed_in(admin_app).get(f"/admin/certification/documents/{own}.pdf")
    assert response.status_code == 410
    assert REASON in response.get_data(as_text=True)


@pytest.fixture
def without_weasyprint(monkeypatch: pytest.MonkeyPatch) -> None:
    # WeasyPrint raises OSError at import when the system lacks Pango.
    real = importlib.import_module

    def failing(name: str, *args: Any) -> Any:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real(name, *args)

    monkeypatch.setattr(render.importlib, "import_module", failing)


def test_without_pango_every_pdf_route_answers_503_naming_what_is_missing(
    admin_app: Flask, jury: Jury, without_weasyprint: None
) -> None:
    client = _signed_in(admin_app)
    own = jury.credentials[(jury.learner_ids[0], "B1")]
    for path in (
        f"/admin/certification/sessions/{jury.session_id}/proces-verbal.pdf",
        f"/admin/certification/documents/{own}.pdf",
    ):
        response = client.get(f"{path}?lang=en")
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert "This server cannot produce PDFs" in page
        assert "Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)" in page


def test_without_the_weasyprint_package_the_page_names_it(
    registered: Flask, launched: tuple[str, Jury], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, jury = launched
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if never installed
    own = jury.credentials[(jury.learner_ids[0], "B1")]
    response = Browser(registered.test_client()).get(
        f"/certification/documents/{own}.pdf?lt={token}"
    )
    assert response.status_code == 503
    assert "WeasyPrint (pip install weasyprint)" in response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_refusal_pages_have_no_wcag21_aa_violation(
    chromium: WebDriver,
    live_url: str,
    launched: tuple[str, Jury],
    clean_database: Database,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
) -> None:
    token, jury = launched
    revoked = jury.credentials[(jury.learner_ids[0], "B3")]
    _revoke(clean_database, revoked)
    chromium.get(f"{live_url}/certification/documents/{revoked}.pdf?lt={token}&lang={lang}")
    assert (
        chromium.execute_script("return document.querySelector('h1 .status').textContent")
        == "(410)"
    )
    assert_accessible(chromium, f"410 ({lang})")
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    own = jury.credentials[(jury.learner_ids[0], "B1")]
    chromium.get(f"{live_url}/certification/documents/{own}.pdf?lt={token}&lang={lang}")
    assert (
        chromium.execute_script("return document.querySelector('h1 .status').textContent")
        == "(503)"
    )
    assert_accessible(chromium, f"503 ({lang})")
