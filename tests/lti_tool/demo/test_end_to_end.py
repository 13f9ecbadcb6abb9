"""Jalon and the demo LMS in one app, through the real protocol, as `jalon demo` runs them."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from lti_tool.db import Database
from lti_tool.demo import register_demo_platform
from lti_tool.lti import keys as tool_keys
from lti_tool.models import Deployment, LtiResourceLink, Platform
from tests.lti_tool.demo.conftest import place
from tests.lti_tool.demo.harness import (
    DL_CLAIM,
    INSTRUCTOR,
    ISSUER,
    JALON,
    LEA,
    Browser,
    csrf_token,
    forms,
)

EPREUVE = {"framework": "community-manager-n6", "epreuve": "E1", "competencies": "C1.1,C1.2"}


def _jalon_signs(database: Database, claims: dict[str, Any]) -> str:
    """Sign as Jalon does, with its current tool key (the one /lti/jwks publishes)."""
    with database.session() as session:
        key = tool_keys.current(session)
        return jwt.encode(
            claims, tool_keys.private_key(key), algorithm="RS256", headers={"kid": key.kid}
        )


def _launch(browser: Browser, link: int, user: int) -> TestResponse:
    """Choose who we are, press Launch, and follow the browser to Jalon's landing page."""
    browser.choose(user)
    start = browser.open(f"{JALON}/demo/cours/1/activites/{link}/lancement")
    assert start.headers["Location"].startswith(f"{JALON}/lti/login?")
    to_auth = browser.open(start.headers["Location"])  # Jalon's login sets the state cookie
    assert to_auth.status_code == 302, to_auth.get_data(as_text=True)
    assert to_auth.headers["Location"].startswith(f"{ISSUER}/auth?")
    answer = browser.open(to_auth.headers["Location"])  # the demo signs the id_token
    assert answer.status_code == 200, answer.get_data(as_text=True)
    launched = browser.submit(answer.get_data(as_text=True))  # the auto-submitted form
    assert launched.status_code == 303, launched.get_data(as_text=True)
    return browser.follow(launched)


def test_a_learner_launch_lands_on_jalon(jalon_demo: Flask, clean_database: Database) -> None:
    link = place(jalon_demo, title="E1 — Étude de cas", custom=EPREUVE)
    browser = Browser({"jalon.test": jalon_demo})
    landing = _launch(browser, link, LEA)
    assert landing.status_code == 200
    assert landing.request.path == "/epreuve"
    assert "C1.1" in landing.get_data(as_text=True)
    token = landing.request.args["lt"]
    about = browser.open(f"{JALON}/lti/activite?lt={token}").get_data(as_text=True)
    assert "Community Manager — promotion de démonstration" in about
    assert "Léa Moreau" in about
    assert "Apprenant" in about
    with clean_database.session() as session:
        link_row = session.scalars(sa.select(LtiResourceLink)).one()
        assert link_row.title == "E1 — Étude de cas"


def test_an_instructor_launch_lands_as_staff(jalon_demo: Flask) -> None:
    link = place(jalon_demo, custom=EPREUVE)
    landing = _launch(Browser({"jalon.test": jalon_demo}), link, INSTRUCTOR)
    assert landing.status_code == 200
    assert landing.request.path == "/evaluation/"
    assert "Copies à évaluer" in landing.get_data(as_text=True)


def test_the_same_id_token_cannot_launch_twice(jalon_demo: Flask) -> None:
    link = place(jalon_demo, custom=EPREUVE)
    browser = Browser({"jalon.test": jalon_demo})
    browser.choose(LEA)
    start = browser.open(f"{JALON}/demo/cours/1/activites/{link}/lancement")
    to_auth = browser.open(start.headers["Location"])
    page = browser.open(to_auth.headers["Location"]).get_data(as_text=True)
    assert browser.submit(page).status_code == 303
    assert browser.submit(page).status_code == 403


def test_registering_the_demo_platform_twice_keeps_one(
    jalon_demo: Flask, clean_database: Database
) -> None:
    with clean_database.session() as session:
        register_demo_platform(session, "https://jalon.test")
    with clean_database.session() as session:
        platform = session.scalars(sa.select(Platform)).one()
        assert platform.issuer == ISSUER
        assert platform.client_id == "jalon-demo"
        assert platform.auth_login_url == f"{ISSUER}/auth"
        assert platform.auth_token_url == f"{ISSUER}/token"
        assert platform.key_set_url == f"{ISSUER}/jwks"
        assert [d.deployment_id for d in session.scalars(sa.select(Deployment))] == ["1"]


def test_deep_linking_round_trip_with_jalons_picker(
    jalon_demo: Flask, clean_database: Database
) -> None:
    """Instructor → "Ajouter une épreuve" → Jalon validates the request → its picker →
    the answer signed with Jalon's key → the placement appears → a learner launches it
    and lands on the épreuve."""
    browser = Browser({"jalon.test": jalon_demo})
    browser.choose(INSTRUCTOR)
    course = browser.open(f"{JALON}/demo/cours/1").get_data(as_text=True)
    start = browser.open(
        f"{JALON}/demo/cours/1/ajouter-une-epreuve", "POST", data={"csrf_token": csrf_token(course)}
    )
    to_auth = browser.open(start.headers["Location"])
    page = browser.open(to_auth.headers["Location"]).get_data(as_text=True)
    request = jwt.decode(forms(page)[0]["fields"]["id_token"], options={"verify_signature": False})
    settings = request[DL_CLAIM + "deep_linking_settings"]
    picker = browser.follow(browser.submit(page))
    assert "La plateforme demande de choisir une épreuve" in picker.get_data(as_text=True)

    choice = next(
        form
        for form in forms(picker.get_data(as_text=True))
        if form["fields"].get("epreuve") == "E1"
    )
    fields = {**choice["fields"], "competencies": ["C1.1", "C1.2"]}
    answer = browser.open(f"{JALON}{choice['action']}", "POST", data=fields)
    returned = forms(answer.get_data(as_text=True))[0]
    assert returned["action"] == settings["deep_link_return_url"]
    with clean_database.session() as session:
        kid = tool_keys.current(session).kid
    assert jwt.get_unverified_header(returned["fields"]["JWT"])["kid"] == kid
    claims = jwt.decode(returned["fields"]["JWT"], options={"verify_signature": False})
    assert claims[DL_CLAIM + "data"] == settings["data"]
    assert claims[DL_CLAIM + "content_items"][0]["custom"] == EPREUVE

    placed = browser.submit(answer.get_data(as_text=True))
    assert placed.status_code == 303
    title = "E1 — Étude de cas — stratégie de veille et diagnostic (C1.1–C1.2)"  # narrowed
    assert f"« {title} » a été ajoutée au cours." in browser.follow(placed).get_data(as_text=True)
    landing = _launch(Browser({"jalon.test": jalon_demo}), 1, LEA)
    assert "C1.2" in landing.get_data(as_text=True)


def test_jalon_gets_a_service_token_with_its_own_key(
    jalon_demo: Flask, clean_database: Database
) -> None:
    now = int(time.time())
    assertion = _jalon_signs(
        clean_database,
        {
            "iss": "jalon-demo",
            "sub": "jalon-demo",
            "aud": f"{ISSUER}/token",
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        },
    )
    score = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    answer = jalon_demo.test_client().post(
        f"{ISSUER}/token",
        base_url=JALON,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": score,
        },
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["scope"] == score
