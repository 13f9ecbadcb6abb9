"""The whole evaluation, through the demo LMS and the real protocol, as a class lives it.

A learner launches two épreuves of bloc 1 and hands in work; the instructor launches,
finds the copies in the queue, fills every criterion and publishes; Jalon sends the grade
to the LMS by AGS (the demo's gradebook shows it), the learner sees the evaluation and
their progress, and the class matrix shows bloc 1 validated once all its competencies are.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.demo import DemoServices, InProcessKeySets, register_demo_platform
from lti_tool.demo.keys import KeyPair
from lti_tool.frameworks import install_bundled
from lti_tool.lti import keys
from lti_tool.lti.session import PARAM
from lti_tool.models import Platform
from tests.fake_dns import public_dns
from tests.lti_tool.demo.conftest import demo_state, place
from tests.lti_tool.demo.harness import INSTRUCTOR, JALON, LEA, Browser, WsgiTransport, hidden
from xapi.outbox import outbox
from xapi.vocabulary import COURSE as COURSE_TYPE
from xapi.vocabulary import LAUNCHED as LAUNCHED_VERB
from xapi.vocabulary import MASTERED as MASTERED_VERB
from xapi.vocabulary import PROGRESSED as PROGRESSED_VERB
from xapi.vocabulary import SCORED as SCORED_VERB
from xapi.vocabulary import SUBMITTED as SUBMITTED_VERB

FRAMEWORK = "community-manager-n6"
# Bloc 1 is judged by épreuve 1 (C1.1–C1.5, 16 criteria) and épreuve 2 (C1.6–C1.11).
E1 = {"framework": FRAMEWORK, "epreuve": "E1"}
E2 = {"framework": FRAMEWORK, "epreuve": "E2"}
LAUNCHED, SUBMITTED, SCORED = LAUNCHED_VERB.iri, SUBMITTED_VERB.iri, SCORED_VERB.iri
PROGRESSED, MASTERED, COURSE = PROGRESSED_VERB.iri, MASTERED_VERB.iri, COURSE_TYPE.iri


def demo_app(settings: Settings, clean_database: Database) -> tuple[Flask, WsgiTransport]:
    """Jalon and the demo LMS in one app; Jalon's AGS and NRPS calls reach the demo in process."""
    transport = WsgiTransport()
    in_process = InProcessKeySets()
    app = create_app(
        settings,
        database=clean_database,
        demo=DemoServices(key_sets=in_process),
        jwks_fetcher=in_process,
        lms_http=transport.session(),
        outbound_resolver=public_dns("jalon.test"),
    )
    app.config["TESTING"] = True
    transport.apps["jalon.test"] = app
    with clean_database.session() as session:
        install_bundled(session)
        register_demo_platform(session, settings.base_url)
        keys.current(session)  # as `jalon demo` does before serving
    return app, transport


@pytest.fixture
def demo(settings: Settings, clean_database: Database, platform_key: KeyPair) -> Iterator[Flask]:
    app, _transport = demo_app(settings, clean_database)
    yield app
    demo_state(app).database.engine.dispose()


def _launch(browser: Browser, link: int, user: int) -> TestResponse:
    """Choose who we are in the LMS, open the activity, and follow it into Jalon."""
    browser.choose(user)
    start = browser.open(f"{JALON}/demo/cours/1/activites/{link}/lancement")
    to_auth = browser.open(start.headers["Location"])
    answer = browser.open(to_auth.headers["Location"])
    launched = browser.submit(answer.get_data(as_text=True))
    assert launched.status_code == 303, launched.get_data(as_text=True)
    return browser.follow(launched)


def _token(page: TestResponse) -> str:
    return str(page.request.args[PARAM])


def _hand_in(browser: Browser, link: int, text: str) -> None:
    page = _launch(browser, link, LEA)
    assert page.request.path == "/epreuve"
    html = page.get_data(as_text=True)
    token = _token(page)
    handed = browser.open(
        f"{JALON}/epreuve/remise?lt={token}", "POST", data={**hidden(html), "text": text}
    )
    assert handed.status_code == 303, handed.get_data(as_text=True)


def _evaluate_all_met(browser: Browser, link: int, comment: str) -> str:
    """Open the queue as the instructor, grade the waiting copy all met and publish it."""
    queue = _launch(browser, link, INSTRUCTOR)
    assert queue.request.path == "/evaluation/"
    token = _token(queue)
    copies = re.findall(r'href="(/evaluation/copies/\d+)\?', queue.get_data(as_text=True))
    assert copies, "the handed-in copy is not in the queue"
    grid = browser.open(f"{JALON}{copies[0]}?lt={token}").get_data(as_text=True)
    levels = dict.fromkeys(set(re.findall(r'name="(niveau-[^"]+)"', grid)), "atteint")
    published = browser.open(
        f"{JALON}{copies[0]}?lt={token}",
        "POST",
        data={
            **hidden(grid),
            **levels,
            "action": "publier",
            "confirm": "1",  # "Publier", then "Confirmer la publication"
            "commentaire": comment,
        },
    )
    assert published.status_code == 303, published.get_data(as_text=True)
    return browser.follow(published).get_data(as_text=True)


def test_hand_in_evaluate_grade_progress_and_bloc_validated(
    demo: Flask, clean_database: Database
) -> None:
    e1 = place(demo, title="E1 — Étude de cas", custom=E1, score_maximum=16)
    e2 = place(demo, title="E2 — Étude de cas", custom=E2, score_maximum=None)
    learner, instructor = Browser({"jalon.test": demo}), Browser({"jalon.test": demo})

    _hand_in(learner, e1, "Ma stratégie <b>éditoriale</b>")
    summary = _evaluate_all_met(instructor, e1, "Très bon travail.")
    # Published, and the LMS took the grade at once (the demo's AGS, over the protocol).
    assert "Acceptée par la plateforme (16 / 16)" in summary
    gradebook = instructor.open(f"{JALON}/demo/cours/1/notes").get_data(as_text=True)
    assert "Léa Moreau" in gradebook
    assert "16" in gradebook
    assert "Très bon travail." in gradebook

    # The learner sees the evaluation on the épreuve page, and where they stand.
    page = _launch(learner, e1, LEA)
    html = page.get_data(as_text=True)
    assert "Très bon travail." in html
    assert "&lt;b&gt;éditoriale&lt;/b&gt;" in html
    progress = learner.open(f"{JALON}/progression?lt={_token(page)}").get_data(as_text=True)
    assert "C1.5" in progress

    # Bloc 1 is not validated until épreuve 2's competencies are acquired too.
    matrix = _launch(instructor, e1, INSTRUCTOR)
    table = instructor.open(f"{JALON}/classe/?lt={_token(matrix)}").get_data(as_text=True)
    row = table.split("Léa Moreau", 1)[1].split("</tr>", 1)[0]
    assert "Validé" not in row

    # E2 has no column yet: Jalon creates it through AGS when it sends the first grade.
    _hand_in(learner, e2, "Étude de cas 2")
    summary = _evaluate_all_met(instructor, e2, "Bloc complet.")
    assert "Acceptée par la plateforme" in summary
    table = instructor.open(f"{JALON}/classe/?lt={_token(matrix)}").get_data(as_text=True)
    row = table.split("Léa Moreau", 1)[1].split("</tr>", 1)[0]
    assert "Validé" in row

    # Every step left its xAPI statement: two submissions, then the evaluation statements.
    with clean_database.session() as session:
        texts = session.scalars(sa.select(outbox.c.body)).all()
    ids = [json.loads(text)["verb"]["id"] for text in texts]
    assert ids.count("http://activitystrea.ms/schema/1.0/submit") == 2
    assert "https://w3id.org/xapi/adl/verbs/satisfied" in ids
    assert ids.count("http://adlnet.gov/expapi/verbs/mastered") == 11


def test_item4_the_whole_flow_logs_no_personal_data_or_token(
    demo: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    # Everything at DEBUG, and SQLAlchemy's statement log on: statements and their
    # parameters would be written if the engines did not hide them.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    e1 = place(demo, title="E1 — Étude de cas", custom=E1, score_maximum=16)
    learner, instructor = Browser({"jalon.test": demo}), Browser({"jalon.test": demo})
    work = "Plan éditorial confidentiel n°4471"

    _hand_in(learner, e1, work)
    summary = _evaluate_all_met(instructor, e1, "Très bon travail.")
    assert "Acceptée par la plateforme (16 / 16)" in summary
    page = _launch(learner, e1, LEA)
    assert work in page.get_data(as_text=True)
    tokens = {_token(page), _token(_launch(instructor, e1, INSTRUCTOR))}

    messages = [record.getMessage() for record in caplog.records]
    logged = "\n".join([*messages, caplog.text, *(repr(r.args) for r in caplog.records)])
    private = ["Léa", "Moreau", "lmoreau@demo.invalid", "Claire", "Fontaine", work, *tokens]
    assert [value for value in private if value in logged] == []
    assert any("SQL parameters hidden" in message for message in messages)


def _flow_statements(demo: Flask, database: Database) -> list[dict[str, Any]]:
    """Launch, hand in, grade and publish épreuve 1; return every statement, in order."""
    e1 = place(demo, title="E1 — Étude de cas", custom=E1, score_maximum=16)
    learner, instructor = Browser({"jalon.test": demo}), Browser({"jalon.test": demo})
    _hand_in(learner, e1, "Ma stratégie éditoriale")
    assert "Acceptée par la plateforme" in _evaluate_all_met(instructor, e1, "Bien.")
    with database.session() as session:
        texts = session.scalars(sa.select(outbox.c.body).order_by(outbox.c.id)).all()
    return [json.loads(text) for text in texts]


def test_item4_every_statement_of_a_flow_names_the_lms_and_course_alike(
    demo: Flask, clean_database: Database
) -> None:
    statements = _flow_statements(demo, clean_database)
    verbs = {s["verb"]["id"] for s in statements}
    assert {LAUNCHED, SUBMITTED, SCORED, PROGRESSED, MASTERED} <= verbs
    with clean_database.session() as session:
        (registered,) = session.scalars(sa.select(Platform.name)).all()

    def agreed(values: list[Any]) -> Any:
        assert len({json.dumps(value, sort_keys=True) for value in values}) == 1, values
        return values[0]

    # One LMS, one name: the one it was registered under, whatever the verb.
    assert agreed([s["context"]["platform"] for s in statements]) == registered
    agreed([s["context"]["extensions"] for s in statements])
    agreed([s["context"]["registration"] for s in statements])
    agreed([s["actor"] for s in statements])
    agreed([s["context"]["contextActivities"]["category"] for s in statements])
    # Every statement groups under the same course and certification.
    groupings = [s["context"]["contextActivities"]["grouping"] for s in statements]
    agreed([[a for a in g if a["definition"]["type"] == COURSE] for g in groupings])
    agreed([[a for a in g if "certification" in a["definition"]["type"]] for g in groupings])
    # The resource link is the same activity, object of a launch or parent of a score.
    links = [s["object"] for s in statements if s["verb"]["id"] in {LAUNCHED, SUBMITTED}]
    links += [p for s in statements for p in s["context"]["contextActivities"].get("parent", [])]
    agreed(links)
    # And so is the épreuve every statement about it groups under.
    epreuve = f"{JALON}/referentiels/{FRAMEWORK}/epreuves/E1"
    assert all(
        epreuve in {a["id"] for a in s["context"]["contextActivities"]["grouping"]}
        for s in statements
        if s["verb"]["id"] in {LAUNCHED, SUBMITTED, SCORED, PROGRESSED, MASTERED}
    )


def _jalon_iris(statement: dict[str, Any]) -> set[str]:
    """Every IRI of a statement that Jalon mints (the actor's LMS home page aside)."""
    activities = [statement["object"]]
    for group in statement["context"]["contextActivities"].values():
        activities.extend(group)
    iris = {statement["verb"]["id"]}
    for activity in activities:
        iris |= {activity["id"], activity["definition"]["type"]}
        iris |= set(activity["definition"].get("extensions", {}))
    iris |= set(statement["context"]["extensions"])
    return {iri for iri in iris if iri.startswith(f"{JALON}/")}


def test_item3_every_jalon_iri_of_a_flow_answers(demo: Flask, clean_database: Database) -> None:
    statements = _flow_statements(demo, clean_database)
    iris = set().union(*map(_jalon_iris, statements))
    kinds = {iri.removeprefix(JALON).split("/")[1] for iri in iris}
    assert kinds == {"xapi", "referentiels"}
    assert any("/xapi/activities/resource-links/" in iri for iri in iris)
    assert any("/xapi/activities/courses/" in iri for iri in iris)
    assert any("/xapi/profile/" in iri for iri in iris)
    client = demo.test_client()
    for iri in sorted(iris):
        for accept in ("text/html", "application/json"):
            answer = client.get(iri.removeprefix(JALON), headers={"Accept": accept})
            assert answer.status_code == 200, (iri, accept)
    # What an LMS activity's IRI says in JSON is what the statements say of it.
    for statement in statements:
        for activity in [
            statement["object"],
            *statement["context"]["contextActivities"]["grouping"],
        ]:
            if "/xapi/activities/" in activity["id"]:
                path = activity["id"].removeprefix(JALON)
                assert client.get(path, headers={"Accept": "application/json"}).json == activity
