"""The admin xAPI journal: counts, statements with their JSON, dead letters and retry."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.config import LrsSettings, Settings
from lti_tool.db import Database
from tests.browser import assert_accessible, headless_chromium, serving
from tests.xapi.samples import statements
from xapi import outbox
from xapi.outbox import SerializedStatement, Status

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)
LRS_PASSWORD = "lrs-password-not-on-the-page"  # noqa: S105 (a test value)
LRS_ANSWER = 'HTTP 400: {"warnings":["Problem in \'statements.0.result.score.scaled\'"]}'


@pytest.fixture
def admin_app(settings: Settings, clean_database: Database) -> Flask:
    lrs = LrsSettings("https://lrs.example.org/xAPI/", "jalon", LRS_PASSWORD)
    configured = dataclasses.replace(settings, admin_token=TOKEN, lrs=lrs)
    return create_app(configured, database=clean_database)


@pytest.fixture
def records(clean_database: Database) -> list[SerializedStatement]:
    records = statements(4)
    with clean_database.session() as session:
        outbox.enqueue(session, records)
        table = outbox.outbox
        session.execute(
            sa.update(table)
            .where(table.c.statement_id == records[0].id)
            .values(status=Status.DELIVERED.value)
        )
        session.execute(
            sa.update(table)
            .where(table.c.statement_id == records[1].id)
            .values(status=Status.DEAD.value, attempts=1, last_error=LRS_ANSWER)
        )
    return records


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form has no CSRF field"
    return match.group(1)


def _signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    client.post("/admin/connexion", data={"token": TOKEN, "csrf_token": _csrf(form)})
    return client


def _statuses(database: Database) -> dict[str, Status]:
    with database.session() as session:
        return {e.statement_id: e.status for e in outbox.iter_entries(session)}


def test_the_journal_is_for_administrators_only(admin_app: Flask) -> None:
    client = admin_app.test_client()
    response = client.get("/admin/xapi/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/connexion?next=/admin/xapi/")
    assert client.get("/admin/xapi/", headers={"Accept": "application/json"}).status_code == 401


def test_the_journal_shows_counts_statements_and_the_lrs_answer(
    admin_app: Flask, records: list[SerializedStatement]
) -> None:
    page = _signed_in(admin_app).get("/admin/xapi/").get_data(as_text=True)
    text = html.unescape(page)
    assert re.search(r"<dt>En attente</dt>\s*<dd>2</dd>", page)
    assert re.search(r"<dt>Délivrées</dt>\s*<dd>1</dd>", page)
    assert re.search(r"<dt>Lettres mortes</dt>\s*<dd>1</dd>", page)
    assert re.search(r"<dt>Attente la plus ancienne</dt>\s*<dd>\d+\sseconde", page)
    assert "https://lrs.example.org/xAPI/" in text
    assert LRS_PASSWORD not in text
    for record in records:
        assert record.id in text
    assert f"Réponse du LRS : {LRS_ANSWER}" in re.sub(r"<[^>]+>", "", text)
    assert 'name="csrf_token"' in page
    assert "Relancer les lettres mortes" in page


def test_the_json_of_each_statement_is_shown_escaped(
    admin_app: Flask, records: list[SerializedStatement]
) -> None:
    page = _signed_in(admin_app).get("/admin/xapi/").get_data(as_text=True)
    pretty = json.dumps(json.loads(records[2].json), indent=2, ensure_ascii=False)
    assert f"<code>{pretty}</code>" in html.unescape(page)
    assert "<script" not in page.lower()
    assert "« veille »" in html.unescape(page)


def test_the_journal_filters_by_status(
    admin_app: Flask, records: list[SerializedStatement]
) -> None:
    page = _signed_in(admin_app).get("/admin/xapi/?statut=dead").get_data(as_text=True)
    assert records[1].id in page
    assert records[2].id not in page
    assert 'aria-current="page">Lettres mortes' in page


def test_retry_dead_letters_from_the_journal(
    admin_app: Flask, clean_database: Database, records: list[SerializedStatement]
) -> None:
    client = _signed_in(admin_app)
    page = client.get("/admin/xapi/").get_data(as_text=True)
    response = client.post("/admin/xapi/relancer", data={"csrf_token": _csrf(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/xapi/?relances=1"
    assert _statuses(clean_database)[records[1].id] is Status.PENDING
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lettres mortes remises en file d’attente : 1." in html.unescape(after)
    assert "Relancer les lettres mortes" not in after  # none left


def test_retry_without_a_csrf_token_changes_nothing(
    admin_app: Flask, clean_database: Database, records: list[SerializedStatement]
) -> None:
    response = _signed_in(admin_app).post("/admin/xapi/relancer")
    assert response.status_code == 400
    assert _statuses(clean_database)[records[1].id] is Status.DEAD


def test_retry_by_someone_not_signed_in_changes_nothing(
    admin_app: Flask, clean_database: Database, records: list[SerializedStatement]
) -> None:
    stranger = admin_app.test_client()
    token = _csrf(stranger.get("/admin/connexion").get_data(as_text=True))
    response = stranger.post("/admin/xapi/relancer", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/connexion")
    assert _statuses(clean_database)[records[1].id] is Status.DEAD


def test_the_journal_as_json(admin_app: Flask, records: list[SerializedStatement]) -> None:
    answer = _signed_in(admin_app).get("/admin/xapi/?format=json").get_json()
    assert (answer["pending"], answer["delivered"], answer["dead"]) == (2, 1, 1)
    assert answer["lrs_endpoint"] == "https://lrs.example.org/xAPI/"
    assert [s["id"] for s in answer["statements"]] == [r.id for r in reversed(records)]
    dead = answer["statements"][2]
    assert (dead["status"], dead["last_error"]) == ("dead", LRS_ANSWER)
    assert dead["statement"] == json.loads(records[1].json)


def test_without_an_lrs_the_journal_says_statements_wait(
    settings: Settings, clean_database: Database
) -> None:
    app = create_app(dataclasses.replace(settings, admin_token=TOKEN), database=clean_database)
    page = html.unescape(_signed_in(app).get("/admin/xapi/").get_data(as_text=True))
    assert "aucun LRS configuré" in page
    assert "Aucune déclaration." in page


def test_the_journal_in_english(admin_app: Flask, records: list[SerializedStatement]) -> None:
    page = _signed_in(admin_app).get("/admin/xapi/?lang=en").get_data(as_text=True)
    assert "<h1>xAPI journal</h1>" in page
    assert "Retry dead letters" in page


@pytest.fixture
def live_admin(admin_app: Flask) -> Iterator[str]:
    with serving(admin_app) as url:
        yield url


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    """A headless Chromium of its own for each test: each signs in afresh."""
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        yield driver


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_journal_passes_axe_core(
    chromium: WebDriver, live_admin: str, records: list[SerializedStatement], lang: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    chromium.get(f"{live_admin}/admin/connexion?next=/admin/xapi/&lang={lang}")
    chromium.find_element(By.ID, "token").send_keys(TOKEN)
    chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.current_url.endswith("/admin/xapi/"))
    assert chromium.execute_script("return document.documentElement.lang") == lang
    # Open every statement's JSON, so that axe judges the whole page.
    chromium.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert_accessible(chromium, f"/admin/xapi/?lang={lang}")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_item8_the_admin_index_passes_axe_core(
    chromium: WebDriver, live_admin: str, lang: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    chromium.get(f"{live_admin}/admin/?lang={lang}")  # → the sign-in page, then back here
    chromium.find_element(By.ID, "token").send_keys(TOKEN)
    chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.current_url.startswith(f"{live_admin}/admin/?"))
    assert chromium.execute_script("return document.documentElement.lang") == lang
    links = chromium.execute_script(
        "return [...document.querySelectorAll('main h2 a')].map(a => a.pathname)"
    )
    assert links == [
        "/admin/plateformes/",
        "/admin/xapi/",
        "/admin/personnes/",
        "/admin/certification/",
        "/admin/certification/accrochage/",
        "/referentiels/",
        "/lti/installation",
    ]
    assert_accessible(chromium, f"/admin/?lang={lang}")


def _reviewed(database: Database) -> dict[str, bool]:
    with database.session() as session:
        return {e.statement_id: e.reviewed_at is not None for e in outbox.iter_entries(session)}


def test_reviewing_dead_letters_acknowledges_those_the_page_showed(
    admin_app: Flask, clean_database: Database, records: list[SerializedStatement]
) -> None:
    client = _signed_in(admin_app)
    page = client.get("/admin/xapi/").get_data(as_text=True)
    assert re.search(r"<dt>Lettres mortes non examinées</dt>\s*<dd>1</dd>", html.unescape(page))
    assert "une lettre morte non examinée n’est jamais supprimée" in html.unescape(page)
    # The LRS refuses another statement after the page was drawn.
    with clean_database.session() as session:
        session.execute(
            sa.update(outbox.outbox)
            .where(outbox.outbox.c.statement_id == records[3].id)
            .values(status=Status.DEAD.value, last_error=LRS_ANSWER)
        )
    response = client.post(
        "/admin/xapi/examiner",
        data={
            "csrf_token": _csrf(page),
            "jusqu_a": re.search(r'name="jusqu_a" value="(\d+)"', page)[1],
        },  # type: ignore[index]
    )
    assert response.headers["Location"] == "/admin/xapi/?examinees=1"
    assert _reviewed(clean_database) == {
        records[0].id: False,
        records[1].id: True,
        records[2].id: False,
        records[3].id: False,  # died after the page: not acknowledged unseen
    }
    after = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Lettres mortes marquées comme examinées : 1." in after
    assert re.search(r"<dt>Lettres mortes non examinées</dt>\s*<dd>1</dd>", after)
    # Retrying a reviewed dead letter clears its review: if it dies again, it is new.
    client.post("/admin/xapi/relancer", data={"csrf_token": _csrf(after)})
    assert not any(_reviewed(clean_database).values())


def test_reviewing_without_a_csrf_token_changes_nothing(
    admin_app: Flask, clean_database: Database, records: list[SerializedStatement]
) -> None:
    response = _signed_in(admin_app).post("/admin/xapi/examiner", data={"jusqu_a": "999"})
    assert response.status_code == 400
    assert not any(_reviewed(clean_database).values())


def test_the_review_in_english_and_as_json(
    admin_app: Flask, records: list[SerializedStatement]
) -> None:
    client = _signed_in(admin_app)
    page = html.unescape(client.get("/admin/xapi/?lang=en").get_data(as_text=True))
    assert "Mark the dead letters as reviewed" in page
    assert "a dead letter nobody reviewed is never deleted" in page
    answer = client.get("/admin/xapi/?format=json").get_json()
    assert answer["unreviewed_dead"] == 1
    assert answer["statements"][2]["reviewed_at"] is None
