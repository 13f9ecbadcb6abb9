"""GET /xapi/profile: the profile document, and every Jalon IRI a statement carries resolves."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import BASE_URL
from tests.xapi.factories import path_of
from xapi.profile import load_profile, parse_profile, validate
from xapi.statements import build


@pytest.fixture
def profile_client(app: Flask) -> FlaskClient:
    """The app users get, as create_app builds it: nothing registered by the test."""
    return app.test_client()


def test_item3_create_app_serves_the_profile(profile_client: FlaskClient) -> None:
    response = profile_client.get("/xapi/profile", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert json.loads(response.get_data(as_text=True))["type"] == "Profile"


def test_the_profile_is_served_as_json_ld(profile_client: FlaskClient) -> None:
    response = profile_client.get("/xapi/profile")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = json.loads(response.get_data(as_text=True))
    assert document["id"] == f"{BASE_URL}/xapi/profile"
    assert "é" in response.get_data(as_text=True)  # French as it is, not \u escapes
    # What is served is what validates the statements Jalon sends.
    served = parse_profile(document)
    for event in path_of():
        assert validate(build(event, BASE_URL).json, served) == []


def test_the_profile_can_be_cached_and_revalidated(profile_client: FlaskClient) -> None:
    first = profile_client.get("/xapi/profile")
    assert "max-age=3600" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    again = profile_client.get("/xapi/profile", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_the_version_iri_serves_the_profile(profile_client: FlaskClient) -> None:
    response = profile_client.get("/xapi/profile/v1")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == load_profile(BASE_URL).json


def test_each_concept_template_and_pattern_resolves(profile_client: FlaskClient) -> None:
    document = load_profile(BASE_URL).document()
    nodes = [*document["concepts"], *document["templates"], *document["patterns"]]
    for node in nodes:
        response = profile_client.get(node["id"].removeprefix(BASE_URL))
        assert response.status_code == 200, node["id"]
        assert response.mimetype == "application/ld+json"
        served = json.loads(response.get_data(as_text=True))
        assert served == {"@context": "https://w3id.org/xapi/profiles/context", **node}


def test_an_unknown_term_is_not_found(profile_client: FlaskClient) -> None:
    response = profile_client.get(
        "/xapi/profile/verbs/danced", headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert response.json is not None
    assert response.json["error"]["status"] == 404


def test_the_framework_iris_of_statements_resolve(profile_client: FlaskClient) -> None:
    """Every référentiel and profile IRI in a statement answers (LMS activities: demo flow)."""
    for event in path_of():
        statement = json.loads(build(event, BASE_URL).json)
        activities = [statement["object"]]
        for group in statement["context"]["contextActivities"].values():
            activities.extend(group)
        for iri in {a["id"] for a in activities} | {a["definition"]["type"] for a in activities}:
            if not iri.startswith(BASE_URL) or "/xapi/activities/" in iri:
                continue
            response = profile_client.get(
                iri.removeprefix(BASE_URL), headers={"Accept": "application/json"}
            )
            assert response.status_code == 200, iri
