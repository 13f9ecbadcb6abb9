"""Item 5: text the database or XML cannot hold, numbers past the columns, and 405s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.db import Database
from lti_tool.models import LtiContext, LtiResourceLink, LtiUser
from tests.lti_tool.demo.conftest import jalon_demo, keys, platform_key
from tests.lti_tool.lti.conftest import browser, canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import CLAIM, Browser, TestPlatform, landing_token
from xapi.outbox import outbox

__all__ = [
    "browser", "canvas", "jalon_demo", "key_server", "keys", "moodle", "platform_key",
    "registered",
]  # fmt: skip


def _rows(database: Database, table: Any) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def _set(path: str, value: str) -> Callable[[dict[str, Any]], None]:
    def change(claims: dict[str, Any]) -> None:
        *parents, name = path.split("|")
        target = claims
        for parent in parents:
            target = target[parent]
        target[name] = value

    return change


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("sub", "42\x00", "sub"),
        (f"{CLAIM}context|id", "course\x00-7", f"{CLAIM}context"),
        (f"{CLAIM}resource_link|id", "link\ud800", f"{CLAIM}resource_link"),
        (f"{CLAIM}deployment_id", "1\x0b", f"{CLAIM}deployment_id"),
    ],
)
def test_item5_an_identifier_the_database_cannot_hold_refuses_the_launch(
    browser: Browser, moodle: TestPlatform, clean_database: Database, path: str, value: str,
    named: str,
) -> None:  # fmt: skip
    refused = browser.launch(moodle, "learner", change=_set(path, value))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "LTI_UNSTORABLE_CLAIM" in page
    assert named in page
    for table in (LtiUser, LtiContext, LtiResourceLink, outbox):
        assert _rows(clean_database, table) == 0


def test_item5_names_and_titles_of_a_launch_lose_the_characters_only(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    def change(claims: dict[str, Any]) -> None:
        claims["name"] = "Léa\x00 Moreau\ud800"
        claims["given_name"] = "Léa\uffff"
        claims[CLAIM + "context"]["title"] = "Community\x0b Manager"
        claims[CLAIM + "resource_link"]["title"] = "E1\x1f — Étude"
        claims[CLAIM + "custom"]["note"] = "a\x00b"

    token = landing_token(browser.launch(moodle, "learner", change=change))
    with clean_database.session() as session:
        user = session.scalars(sa.select(LtiUser)).one()
        assert (user.name, user.given_name) == ("Léa Moreau", "Léa")
        assert session.scalars(sa.select(LtiContext.title)).one() == "Community Manager"
        link = session.scalars(sa.select(LtiResourceLink)).one()
        assert link.title == "E1 — Étude"
        assert link.custom["note"] == "ab"
    page = browser.get(f"/lti/activite?lt={token}")
    assert page.status_code == 200
    assert "Community Manager" in page.get_data(as_text=True)


def test_item5_a_query_or_route_value_the_database_cannot_hold(client: FlaskClient) -> None:
    assert client.get("/referentiels/community-manager-n6%00/").status_code == 404
    refused = client.get("/referentiels/?lang=fr&q=a%00b")
    assert refused.status_code == 400
    assert "Le champ « q » contient un caractère invisible" in refused.get_data(as_text=True)
    # The API answers with its JSON errors, naming the parameter.
    api = client.get("/api/v1/me/progress?framework=cm%01")
    assert api.status_code == 400
    assert list(api.get_json()["errors"]) == ["framework"]


def test_item5_a_json_body_the_database_cannot_hold_is_refused_naming_the_field(
    jalon_demo: Flask,
) -> None:
    client = jalon_demo.test_client()
    refused = client.post(
        "/demo/courses/1/lineitems",
        json={"label": "E1", "tag": ["ok", "bad\u0000"], "scoreMaximum": 20},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 400
    assert "« tag[1] »" in refused.get_json()["error"]["detail"]


@pytest.mark.parametrize("number", [2**31, 2**63, 2**64])
def test_item5_ids_past_the_columns_name_nothing(
    browser: Browser, moodle: TestPlatform, clean_database: Database, number: int
) -> None:
    staff = landing_token(browser.launch(moodle, "instructor"))
    assert browser.get(f"/evaluation/copies/{number}?lt={staff}").status_code == 404
    assert browser.get(f"/classe/apprenants/{number}/livret.pdf?lt={staff}").status_code == 404
    headers = {"X-Jalon-Launch": staff}
    assert browser.get(f"/api/v1/contexts/{number}/matrix", headers=headers).status_code == 404
    with clean_database.session() as session:
        course = session.scalars(sa.select(LtiContext.id)).one()
    api = browser.get(f"/api/v1/contexts/{course}/evaluations?learner={number}", headers=headers)
    assert api.status_code == 400
    assert list(api.get_json()["errors"]) == ["learner"]


def test_item5_a_405_says_which_methods_are_allowed(client: FlaskClient) -> None:
    page = client.post("/referentiels/")
    assert page.status_code == 405
    assert set(page.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
    assert "Méthode non autorisée" in page.get_data(as_text=True)
    api = client.post("/api/v1/openapi.json")
    assert api.status_code == 405
    assert "GET" in api.headers["Allow"]
    assert api.get_json()["error"]["status"] == 405
