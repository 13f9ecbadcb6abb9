"""The identity forms after a real launch: the candidate's own, the administrator's, a11y."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.certification.models import Candidate, HolderIdentity
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.models import LtiUser
from tests.browser import assert_accessible
from tests.lti_tool.certification import identity_rows
from tests.lti_tool.demo.harness import hidden
from tests.lti_tool.lti import conftest as lti
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

key_server, moodle, canvas, registered = lti.key_server, lti.moodle, lti.canvas, lti.registered
TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)
FORM = "/certification/mon-identite"
FILLED = {
    "birth_name": "Martin-Lefèvre",
    "usage_name": "",
    "first_name_1": "Léa",
    "first_name_2": "",
    "first_name_3": "",
    "birth_day": "3",
    "birth_month": "11",
    "birth_year": "1995",
    "sex": "F",
    "birth_insee_code": "69123",
    "birth_postal_code": "",
    "birth_city": "Lyon",
    "birth_country_code": "",
    "access_route": "FORMATION_INITIALE_APPRENTISSAGE",
    "vae_route": "",
    "registration_initiative": "OF",
    "registration_date": "2025-09-01",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, admin_token=TOKEN)


@pytest.fixture
def lms(registered: Flask) -> Browser:
    return Browser(registered.test_client())


def launch(lms: Browser, platform: TestPlatform, sub: str = "42") -> str:
    """Launch as the platform's learner (``sub`` 42 is Léa Martin); return the token."""

    def other(claims: dict[str, object]) -> None:
        claims.update(sub=sub, name=f"Autre {sub}", email=f"autre{sub}@example.edu")

    return landing_token(lms.launch(platform, change=None if sub == "42" else other))


def user_id(database: Database, sub: str = "42") -> int:
    with database.session() as db:
        found = db.scalar(sa.select(LtiUser.id).where(LtiUser.sub == sub))
    assert found is not None
    return found


def present(database: Database, learner: int, *, signed: bool = False) -> int:
    """Make the learner a candidate of a new session; return the candidate's id."""
    with database.session() as db:
        return identity_rows.candidate(db, identity_rows.session_row(db, signed=signed), learner)


def page(lms: Browser, url: str, token: str, status: int = 200, **query: str) -> str:
    response = lms.get(url, query_string={"lt": token, **query})
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def post_form(lms: Browser, token: str, fields: dict[str, str], status: int = 303) -> str:
    form = page(lms, FORM, token)
    response = lms.post(FORM, data={**hidden(form), **fields})
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def identities(database: Database) -> dict[int, HolderIdentity]:
    with database.session() as db:
        return {i.learner_id: i for i in db.scalars(sa.select(HolderIdentity))}


# The candidate's form ----------------------------------------------------------------------


def test_a_candidate_reaches_the_form_from_their_progress_page(
    lms: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = launch(lms, moodle)
    assert "Mon identité pour le certificat" not in page(lms, "/progression", token)
    present(clean_database, user_id(clean_database))
    progress = page(lms, "/progression", token)
    assert f'<a href="{FORM}?lt={token}">Mon identité pour le certificat</a>' in progress
    form = page(lms, FORM, token)
    assert "article L. 6113-8 du Code du travail" in form
    assert "Caisse des Dépôts" in form
    assert "365 jours après la signature" in form
    assert "il manque encore" in form
    english = page(lms, FORM, token, lang="en")
    assert "<h1>My identity for the certificate</h1>" in english
    assert "365 days after the minutes of your last session are signed" in english
    assert "Caisse des Dépôts" in english


def test_a_learner_who_is_no_candidate_gets_a_404_page(
    lms: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = launch(lms, moodle)
    html = page(lms, FORM, token, status=404)
    assert "Vous n’êtes candidat à aucune session de certification." in html
    response = lms.post(FORM, data={"lt": token, "birth_name": "X", "first_name_1": "Y"})
    assert response.status_code in {400, 404}
    assert identities(clean_database) == {}


def test_the_form_needs_a_launch(lms: Browser) -> None:
    assert lms.get(FORM).status_code in {401, 403}


def test_the_candidate_saves_their_identity(
    lms: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = launch(lms, moodle)
    learner = user_id(clean_database)
    present(clean_database, learner)
    post_form(lms, token, FILLED)
    saved = identities(clean_database)[learner]
    assert (saved.birth_name, saved.first_name_1, saved.usage_name) == (
        "Martin-Lefèvre",
        "Léa",
        None,
    )
    assert (saved.birth_year, saved.birth_month, saved.birth_day) == (1995, 11, 3)
    assert (saved.source, saved.access_route, saved.delete_after) == (
        "form",
        FILLED["access_route"],
        None,
    )
    shown = page(lms, FORM, token, enregistre="1")
    assert "Votre identité est enregistrée." in shown
    assert 'value="Martin-Lefèvre"' in shown
    assert "il manque encore" not in shown


def test_bad_values_are_named_and_nothing_is_saved(
    lms: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = launch(lms, moodle)
    present(clean_database, user_id(clean_database))
    html = post_form(
        lms,
        token,
        {**FILLED, "birth_name": "Mar\u2028tin", "birth_insee_code": "6912", "extra": "1"},
        status=400,
    )
    assert "Rien n’a été enregistré" in html
    assert "Nom de naissance : contient un caractère de contrôle ou un saut de ligne." in html
    assert "Code INSEE de la commune de naissance : doit être un code INSEE" in html
    assert "extra : champ inconnu." in html
    assert 'aria-invalid="true"' in html
    # What XML 1.0 cannot carry is refused before the form, the field named too.
    refused = post_form(lms, token, {**FILLED, "first_name_1": "L\x0bea"}, status=400)
    assert "Le champ « first_name_1 » contient un caractère invisible" in refused
    assert identities(clean_database) == {}


def test_a_post_without_its_csrf_token_is_refused(
    lms: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = launch(lms, moodle)
    present(clean_database, user_id(clean_database))
    response = lms.post(FORM, data={"lt": token, **FILLED})
    assert response.status_code in {400, 403}
    assert identities(clean_database) == {}


def test_a_learner_sees_and_changes_only_their_own(
    lms: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    other_token = launch(lms, moodle, sub="43")
    other = user_id(clean_database, "43")
    token = launch(lms, moodle)
    learner = user_id(clean_database)
    candidate = present(clean_database, learner)
    with clean_database.session() as db:
        session_id = db.get(Candidate, candidate).session_id  # type: ignore[union-attr]
        identity_rows.candidate(db, session_id, other)
        identity_rows.identity(db, other, birth_name="Secret-Zoé", birth_city="Quimper")
    html = page(lms, FORM, token)
    assert "Secret-Zoé" not in html
    assert "Quimper" not in html
    post_form(lms, token, FILLED)
    found = identities(clean_database)
    assert found[other].birth_name == "Secret-Zoé"
    assert found[learner].birth_name == "Martin-Lefèvre"
    assert "Martin-Lefèvre" not in page(lms, FORM, other_token)


def test_once_signed_the_form_is_read_only(
    lms: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = launch(lms, moodle)
    learner = user_id(clean_database)
    candidate = present(clean_database, learner)
    with clean_database.session() as db:
        identity_rows.identity(db, learner)
    drawn = hidden(page(lms, FORM, token))  # the form, drawn before the minutes were signed
    with clean_database.session() as db:
        found = db.get(Candidate, candidate)
        assert found is not None
        found.session.status = "signed"
    html = page(lms, FORM, token)
    assert "ces informations ne se modifient plus ici" in html
    assert "Exemple-Dupré" in html
    assert "<dd>Féminin</dd>" in html
    assert "<dd>VAE classique</dd>" in html
    assert "<form" not in html.split("<main", 1)[1]
    assert lms.post(FORM, data={**drawn, **FILLED}).status_code == 403
    assert identities(clean_database)[learner].birth_name == "Exemple-Dupré"


# The administrator's pages ------------------------------------------------------------------


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    client.post("/admin/connexion", data={"token": TOKEN, "csrf_token": hidden(form)["csrf_token"]})
    return client


def test_the_admin_pages_are_for_administrators(
    registered: Flask, clean_database: Database
) -> None:
    scene = identity_rows.scene(clean_database)
    client = registered.test_client()
    assert (
        client.get(f"/admin/certification/sessions/{scene.session_id}/identites").status_code == 302
    )
    edit = f"/admin/certification/candidats/{scene.first_candidate}/identite"
    assert client.get(edit).status_code == 302
    assert client.post(edit, data=FILLED).status_code in {302, 400}
    assert identities(clean_database) == {}


def test_the_admin_lists_what_each_candidate_lacks_and_corrects_one(
    registered: Flask, clean_database: Database
) -> None:
    scene = identity_rows.scene(clean_database)
    with clean_database.session() as db:
        identity_rows.identity(db, scene.first)
    client = signed_in(registered)
    listing = client.get(f"/admin/certification/sessions/{scene.session_id}/identites")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert "Complète" in html
    assert "Il manque : le nom de naissance, le premier prénom" in html
    edit = f"/admin/certification/candidats/{scene.second_candidate}/identite"
    form = client.get(edit).get_data(as_text=True)
    bad = client.post(edit, data={**hidden(form), **FILLED, "sex": "H"})
    assert bad.status_code == 400
    assert "Sexe (tel que l’état civil l’indique) : n’est pas une valeur permise (M, F)." in (
        bad.get_data(as_text=True)
    )
    done = client.post(edit, data={**hidden(form), **FILLED})
    assert done.status_code == 303
    saved = identities(clean_database)[scene.second]
    assert (saved.birth_name, saved.source) == ("Martin-Lefèvre", "admin")
    assert client.get("/admin/certification/candidats/999999/identite").status_code == 404


def test_after_signing_the_admin_corrects_only_what_may_be_kept(
    registered: Flask, clean_database: Database
) -> None:
    scene = identity_rows.scene(clean_database, signed=True)
    with clean_database.session() as db:
        identity_rows.decide(db, scene.first_candidate, validated=True)
        identity_rows.decide(db, scene.second_candidate, validated=False)
    client = signed_in(registered)
    for candidate, status in ((scene.second_candidate, 409), (scene.first_candidate, 303)):
        edit = f"/admin/certification/candidats/{candidate}/identite"
        form = client.get(edit).get_data(as_text=True)
        assert client.post(edit, data={**hidden(form), **FILLED}).status_code == status
    found = identities(clean_database)
    assert set(found) == {scene.first}
    assert str(found[scene.first].delete_after) == "2027-06-30"


# Accessibility -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_identity_pages_pass_axe(
    chromium: WebDriver,
    live_url: str,
    lms: Browser,
    moodle: TestPlatform,
    clean_database: Database,
    lang: str,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    token = launch(lms, moodle)
    learner = user_id(clean_database)
    candidate = present(clean_database, learner)
    chromium.get(f"{live_url}{FORM}?lt={token}&lang={lang}")
    assert_accessible(chromium, "the candidate's form")
    chromium.find_element(By.ID, "champ-birth_insee_code").send_keys("123")
    chromium.find_element(By.CSS_SELECTOR, "form.work button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"))
    assert_accessible(chromium, "the candidate's form with errors")
    with clean_database.session() as db:
        identity_rows.identity(db, learner)
        signed = identity_rows.session_row(db, "Session signée", signed=True)
        db.delete(db.get(Candidate, candidate))
        identity_rows.candidate(db, signed, learner)
    chromium.get(f"{live_url}{FORM}?lt={token}&lang={lang}")
    assert "Exemple-Dupré" in chromium.page_source
    assert_accessible(chromium, "the candidate's form, read only")
    # The administrator's pages, signed in through the browser.
    chromium.get(f"{live_url}/admin/connexion")
    chromium.find_element(By.ID, "token").send_keys(TOKEN)
    chromium.find_element(By.CSS_SELECTOR, "main form button").click()
    WebDriverWait(chromium, 10).until(lambda d: "/admin/connexion" not in d.current_url)
    chromium.get(f"{live_url}/admin/certification/sessions/{signed}/identites?lang={lang}")
    assert_accessible(chromium, "the session's identities")
    chromium.find_element(By.CSS_SELECTOR, "table a").click()
    assert_accessible(chromium, "the administrator's form")
