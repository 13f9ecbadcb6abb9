"""Deep linking for real: the demo LMS asks, Jalon's picker answers, the demo places it.

Jalon and the demo share one app (as `jalon demo` serves them); every step is an HTTP request
through the test client, the keys read in process.
"""

from __future__ import annotations

import re

import jwt
import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.demo.models import LineItem, Placement
from lti_tool.demo.seed import SeedingError, place_epreuves
from tests.lti_tool.demo.conftest import demo_state
from tests.lti_tool.demo.harness import DL_CLAIM, INSTRUCTOR, ISSUER, JALON, LEA, Browser, forms
from tests.lti_tool.demo.test_end_to_end import _launch

TITLES = {
    "E1": "E1 — Étude de cas — stratégie de veille et diagnostic",
}


def _to_picker(browser: Browser) -> str:
    """Press "Ajouter une épreuve" as the instructor; follow to Jalon's picker."""
    browser.choose(INSTRUCTOR)
    course = browser.open(f"{JALON}/demo/cours/1").get_data(as_text=True)
    add = next(f for f in forms(course) if "ajouter-une-epreuve" in f["action"])
    start = browser.open(f"{JALON}{add['action']}", "POST", data=add["fields"])
    to_auth = browser.open(start.headers["Location"])
    id_token_page = browser.open(to_auth.headers["Location"]).get_data(as_text=True)
    picker = browser.follow(browser.submit(id_token_page))
    assert picker.status_code == 200, picker.get_data(as_text=True)
    assert picker.request.path == "/lti/selection"
    return picker.get_data(as_text=True)


def test_the_picker_places_a_narrowed_epreuve_in_the_demo_course(jalon_demo: Flask) -> None:
    browser = Browser({"jalon.test": jalon_demo})
    picker = _to_picker(browser)
    form = next(f for f in forms(picker) if f["fields"].get("epreuve") == "E1")
    data = {**form["fields"], "competencies": ["C1.1", "C1.2"]}
    answer = browser.open(f"{JALON}{form['action']}", "POST", data=data)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    page = answer.get_data(as_text=True)
    assert 'src="/static/lti-autopost.js"' in page
    assert "<noscript>" in page
    returned = forms(page)[0]
    assert returned["action"] == f"{ISSUER}/deep-link-return"
    claims = jwt.decode(returned["fields"]["JWT"], options={"verify_signature": False})
    assert claims["aud"] == ISSUER
    assert claims["iss"] == "jalon-demo"
    assert claims[DL_CLAIM + "data"]  # the demo's pending request, echoed

    placed = browser.submit(page)  # what the auto-post script does
    assert placed.status_code == 303, placed.get_data(as_text=True)
    course = browser.follow(placed).get_data(as_text=True)
    # Narrowed, the activity says which competencies it judges (issue 12, item 7).
    assert f"« {TITLES['E1']} (C1.1–C1.2) » a été ajoutée au cours." in course
    with demo_state(jalon_demo).database.session() as session:
        placement = session.scalars(sa.select(Placement)).one()
        assert placement.custom == {
            "framework": "community-manager-n6",
            "epreuve": "E1",
            "competencies": "C1.1,C1.2",
        }
        assert placement.url == f"{JALON}/lti/launch"
        assert placement.document_target == "iframe"
        line_item = session.scalars(sa.select(LineItem)).one()
        assert (line_item.score_maximum, line_item.tag) == (7, "jalon")
        assert line_item.resource_id == "community-manager-n6/E1"
    # A learner launches the placed link and sees only the chosen competencies.
    landing = _launch(Browser({"jalon.test": jalon_demo}), placement.id, LEA)
    text = landing.get_data(as_text=True)
    assert "C1.2" in text
    assert "C1.3" not in text


def test_the_demo_refuses_a_second_answer_to_the_same_request(jalon_demo: Flask) -> None:
    browser = Browser({"jalon.test": jalon_demo})
    picker = _to_picker(browser)
    form = next(f for f in forms(picker) if f["fields"].get("epreuve") == "E2")
    answer = browser.open(f"{JALON}{form['action']}", "POST", data=form["fields"])
    assert browser.submit(answer.get_data(as_text=True)).status_code == 303
    # Jalon answers a request once; a replay of its signed answer is refused by the demo.
    assert browser.open(f"{JALON}{form['action']}", "POST", data=form["fields"]).status_code == 409
    assert browser.submit(answer.get_data(as_text=True)).status_code == 400


def test_seeding_places_the_five_epreuves_once(jalon_demo: Flask) -> None:
    assert place_epreuves(jalon_demo) == ["E1", "E2", "E3", "E4", "E5"]
    assert place_epreuves(jalon_demo) == []  # a second start places nothing new
    browser = Browser({"jalon.test": jalon_demo})
    browser.choose(LEA)
    course = browser.open(f"{JALON}/demo/cours/1").get_data(as_text=True)
    launches = re.findall(r"aria-label=\"Lancer « (E\d) — ", course)
    assert launches == ["E1", "E2", "E3", "E4", "E5"]
    browser.choose(INSTRUCTOR)
    grades = browser.open(f"{JALON}/demo/cours/1/notes").get_data(as_text=True)
    with demo_state(jalon_demo).database.session() as session:
        columns = session.scalars(sa.select(LineItem).order_by(LineItem.id)).all()
        assert [c.score_maximum for c in columns] == [16, 18, 36, 32, 33]
        assert all(c.label in grades for c in columns)
    # Every placed link launches onto its épreuve.
    landing = _launch(Browser({"jalon.test": jalon_demo}), 5, LEA)
    assert "C4.11" in landing.get_data(as_text=True)


def test_seeding_needs_the_framework(jalon_demo: Flask) -> None:
    with pytest.raises(SeedingError, match="not installed"):
        place_epreuves(jalon_demo, "no-such-framework")
