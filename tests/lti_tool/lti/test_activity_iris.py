"""Item 3: the resource link and course IRIs that statements carry resolve, after real launches.

``/xapi/activities/resource-links/<uuid>`` and ``/xapi/activities/courses/<uuid>`` answer with
the activity's definition (HTML for people, the xAPI Activity as JSON), and 404 only for an id
Jalon never issued.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from lti_tool.db import Database
from lti_tool.models import LtiResourceLink
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token
from xapi.outbox import outbox
from xapi.statements import lti_iri

BASE = "https://jalon.test"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}


def _launched(database: Database) -> list[dict[str, Any]]:
    with database.engine.connect() as connection:
        texts = connection.scalars(sa.select(outbox.c.body).order_by(outbox.c.id)).all()
    return [json.loads(text) for text in texts]


def _course(statement: dict[str, Any]) -> dict[str, Any]:
    (course,) = [
        a
        for a in statement["context"]["contextActivities"]["grouping"]
        if a["id"].startswith(f"{BASE}/xapi/activities/courses/")
    ]
    return course


def _path(iri: str) -> str:
    assert iri.startswith(BASE), iri
    return iri.removeprefix(BASE)


def test_item3_the_resource_link_and_course_of_a_launch_resolve(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    landing_token(browser.launch(moodle, "learner"))
    (statement,) = _launched(clean_database)
    client: FlaskClient = browser.client
    for activity in (statement["object"], _course(statement)):
        answer = client.get(_path(activity["id"]), headers=JSON)
        assert answer.status_code == 200, activity["id"]
        assert answer.mimetype == "application/json"
        # Exactly what the statement says of the activity: nothing more reaches the public.
        assert answer.json == activity
        assert client.get(_path(activity["id"]), headers={"Accept": "application/ld+json"}).json
    page = client.get(_path(statement["object"]["id"]), headers=HTML)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Épreuve 3" in html
    assert 'href="/referentiels/community-manager-n6/epreuves/E3"' in html
    for private in ("Léa", "Martin", "léa@example.edu", moodle.issuer):
        assert private not in html
    course = client.get(_path(_course(statement)["id"]), headers=HTML)
    assert "Community Manager — promotion 2026" in course.get_data(as_text=True)
    english = client.get(_path(_course(statement)["id"]) + "?lang=en", headers=HTML)
    assert "Course of the platform" in english.get_data(as_text=True)


def test_item3_links_placed_after_the_first_lookup_resolve_too(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    landing_token(browser.launch(moodle, "learner"))
    first = _launched(clean_database)[0]["object"]["id"]
    assert browser.client.get(_path(first), headers=JSON).status_code == 200
    landing_token(
        browser.launch(
            moodle,
            "learner",
            change=lambda c: c.update({CLAIM + "resource_link": {"id": "99", "title": "E4"}}),
        )
    )
    second = _launched(clean_database)[1]["object"]["id"]
    assert second != first
    assert browser.client.get(_path(second), headers=JSON).json["definition"]["name"] == {
        "und": "E4"
    }


def test_item3_the_course_of_a_launch_without_context_resolves(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    landing_token(browser.launch(moodle, "learner", change=lambda c: c.pop(CLAIM + "context")))
    (statement,) = _launched(clean_database)
    course = _course(statement)
    answer = browser.client.get(_path(course["id"]), headers=JSON)
    assert answer.status_code == 200
    assert answer.json == course


@pytest.mark.parametrize("kind", ["resource-links", "courses"])
def test_item3_an_id_jalon_never_issued_is_not_found(
    browser: Browser, moodle: TestPlatform, clean_database: Database, kind: str
) -> None:
    landing_token(browser.launch(moodle, "learner"))
    (statement,) = _launched(clean_database)
    issued = {
        "resource-links": statement["object"]["id"],
        "courses": _course(statement)["id"],
    }
    other = "courses" if kind == "resource-links" else "resource-links"
    for path in (
        f"/xapi/activities/{kind}/{uuid.uuid4()}",
        # An id Jalon issued, but for the other kind of activity.
        _path(issued[other]).replace(f"/{other}/", f"/{kind}/"),
        f"/xapi/activities/{kind}/not-a-uuid",
    ):
        answer = browser.client.get(path, headers=JSON)
        assert answer.status_code == 404, path
        assert answer.json is not None
        assert answer.json["error"]["status"] == 404
        page = browser.client.get(path, headers=HTML)
        assert page.status_code == 404
        assert page.mimetype == "text/html"


def test_item3_a_link_committed_after_a_higher_id_resolves(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    landing_token(browser.launch(moodle, "learner"))
    with clean_database.session() as session:
        first = session.scalars(sa.select(LtiResourceLink)).one()
        known = {"platform_id": first.platform_id, "context_id": first.context_id}
        # Two launches at once: the one that took the lower id commits last.
        session.add(LtiResourceLink(id=first.id + 10, resource_link_id="early", **known))
        late_id = first.id + 5

    def iri(link_id: str) -> str:
        return lti_iri(BASE, "resource-links", moodle.issuer, moodle.deployment_id, link_id)

    assert browser.client.get(_path(iri("early")), headers=JSON).status_code == 200
    with clean_database.session() as session:
        late = LtiResourceLink(id=late_id, resource_link_id="late", title="En retard", **known)
        session.add(late)
    answer = browser.client.get(_path(iri("late")), headers=JSON)
    assert answer.status_code == 200
    assert answer.json["definition"]["name"] == {"und": "En retard"}
