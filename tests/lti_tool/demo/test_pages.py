"""The demo LMS's pages: choose who you are, the course, access, languages, mounting."""

from __future__ import annotations

import dataclasses

from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from tests.lti_tool.demo.conftest import place
from tests.lti_tool.demo.harness import INSTRUCTOR, JALON, LEA, Browser, csrf_token, forms


def test_the_demo_is_mounted_only_when_asked(settings: Settings, clean_database: Database) -> None:
    plain = create_app(settings, database=clean_database)
    assert plain.test_client().get("/demo/").status_code == 404
    assert not (settings.instance_path / "demo-lms.db").exists()
    demo = create_app(dataclasses.replace(settings, is_demo=True), database=clean_database)
    assert demo.test_client().get("/demo/").status_code == 200
    assert (settings.instance_path / "demo-lms.db").exists()
    demo.extensions["jalon.demo"].database.engine.dispose()


def test_home_lists_the_course_people(lms: Flask, browser: Browser) -> None:
    page = browser.open(f"{JALON}/demo/").get_data(as_text=True)
    assert "Community Manager — promotion de démonstration" in page
    for name in ("Claire Fontaine", "Léa Moreau", "Hugo Bernard", "Inès Petit"):
        assert name in page
    form = forms(page)[0]
    assert form["method"] == "post"
    assert page.count('type="radio" name="user"') == 4


def test_choosing_someone_opens_the_course(lms: Flask, browser: Browser) -> None:
    response = browser.choose(LEA)
    assert response.status_code == 303
    assert response.headers["Location"] == "/demo/cours/1"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Vous êtes Léa Moreau." in browser.follow(response).get_data(as_text=True)


def test_choosing_nobody_is_refused(lms: Flask, browser: Browser) -> None:
    page = browser.open(f"{JALON}/demo/").get_data(as_text=True)
    response = browser.open(f"{JALON}/demo/", "POST", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    unknown = browser.open(
        f"{JALON}/demo/", "POST", data={"csrf_token": csrf_token(page), "user": "99"}
    )
    assert unknown.status_code == 400
    assert browser.open(f"{JALON}/demo/", "POST", data={"user": "2"}).status_code == 400


def test_the_course_needs_someone_chosen(lms: Flask, browser: Browser) -> None:
    response = browser.open(f"{JALON}/demo/cours/1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/demo/"


def test_a_learner_sees_launch_buttons_but_no_instructor_tools(
    lms: Flask, browser: Browser
) -> None:
    place(lms, title="E1 — Étude de cas", target="window")
    place(lms, title="E3 — Projet", target="iframe")
    browser.choose(LEA)
    page = browser.open(f"{JALON}/demo/cours/1").get_data(as_text=True)
    assert "E1 — Étude de cas" in page
    assert page.count(">Lancer</button>") == 2
    assert 'action="/demo/cours/1/activites/1/lancement"' in page
    assert 'action="/demo/cours/1/activites/2"' in page
    assert "Ajouter une épreuve" not in page
    assert "Carnet de notes" not in page
    assert browser.open(f"{JALON}/demo/cours/1/notes").status_code == 403


def test_an_embedded_activity_frames_the_launch(lms: Flask, browser: Browser) -> None:
    link = place(lms, title="E3 — Projet", target="iframe")
    browser.choose(LEA)
    page = browser.open(f"{JALON}/demo/cours/1/activites/{link}").get_data(as_text=True)
    assert f'src="/demo/cours/1/activites/{link}/lancement"' in page
    assert 'title="Jalon : E3 — Projet"' in page
    assert browser.open(f"{JALON}/demo/cours/1/activites/99").status_code == 404


def test_the_instructor_sees_the_tools_and_an_empty_gradebook(lms: Flask, browser: Browser) -> None:
    browser.choose(INSTRUCTOR)
    page = browser.open(f"{JALON}/demo/cours/1").get_data(as_text=True)
    assert "Ajouter une épreuve" in page
    assert "Aucune épreuve n’est encore placée dans ce cours." in page
    grades = browser.open(f"{JALON}/demo/cours/1/notes")
    assert grades.status_code == 200
    assert "Aucune note reçue pour l’instant." in grades.get_data(as_text=True)


def test_pages_speak_english(lms: Flask, browser: Browser) -> None:
    page = browser.open(f"{JALON}/demo/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Who are you?" in page
    browser.choose(INSTRUCTOR)
    course = browser.open(f"{JALON}/demo/cours/1").get_data(as_text=True)
    assert "Add an épreuve" in course
    assert "Gradebook" in course
