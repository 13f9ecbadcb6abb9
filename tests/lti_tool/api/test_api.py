"""The JSON API: who may read what, bad query parameters, answers as the OpenAPI file says."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from flask import Flask
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from lti_tool.api.views import OPENAPI
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import bundled_frameworks
from lti_tool.models import LtiContext, LtiResourceLink, LtiUser
from tests.lti_tool.evaluation import factories
from tests.lti_tool.evaluation.factories import Course, course_of
from tests.lti_tool.lti.conftest import canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

__all__ = ["canvas", "key_server", "moodle", "registered"]
ADMIN = "admin-token-for-the-api-tests-0123"
FRAMEWORK = next(f for f in bundled_frameworks() if f.code == factories.FRAMEWORK)
DOCUMENT = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, admin_token=ADMIN)


@dataclasses.dataclass
class World:
    """Two courses: Moodle's (learner Léa, instructor Paul, learner Zoé) and Canvas's."""

    lms: Browser
    learner: str  # Léa's session token
    staff: str
    foreign: str  # a learner launched from the Canvas course
    course: Course
    lea: int
    zoe: int
    other_context: int
    evaluation_id: int

    def get(self, url: str, token: str | None = None, **headers: str) -> TestResponse:
        if token is not None:
            headers["X-Jalon-Launch"] = token
        return self.lms.get(url, headers=headers)


@pytest.fixture
def world(
    registered: Flask, moodle: TestPlatform, canvas: TestPlatform, clean_database: Database
) -> World:
    lms = Browser(registered.test_client())
    learner = landing_token(lms.launch(moodle))
    staff = landing_token(lms.launch(moodle, "instructor"))
    foreign = landing_token(lms.launch(canvas))
    with clean_database.session() as session:
        context = session.scalars(
            sa.select(LtiContext).where(LtiContext.issuer != canvas.issuer)
        ).one()
        other = session.scalars(
            sa.select(LtiContext.id).where(LtiContext.issuer == canvas.issuer)
        ).one()
        where = course_of(session, context)
        lea = session.scalars(
            sa.select(LtiUser.id).where(LtiUser.sub == "42", LtiUser.issuer == context.issuer)
        ).one()
        link = session.scalars(
            sa.select(LtiResourceLink.id).where(LtiResourceLink.context_id == where.context_id)
        ).one()
        zoe = factories.person(session, where, "Zoé Autre")
    evaluation_id = factories.evaluated_e3(
        clean_database, FRAMEWORK, where, link, lea, comment="Bon travail"
    )
    factories.evaluated_e3(
        clean_database, FRAMEWORK, where, link, zoe, comment="Bon travail", share=0.0
    )
    return World(lms, learner, staff, foreign, where, lea, zoe, other, evaluation_id)


# -- what the OpenAPI document says ---------------------------------------------------------


def _validate(response: TestResponse, path: str) -> Any:
    """Check a response against the schema documented for its path and status."""
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:500]
    operation = DOCUMENT["paths"][path]["get"]
    documented = operation["responses"][str(response.status_code)]
    if "$ref" in documented:
        documented = DOCUMENT["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    schema = {
        **documented["content"]["application/json"]["schema"],
        "components": DOCUMENT["components"],
    }
    body = response.get_json()
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return body


def _route_template(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.removeprefix("/api/v1"))


def test_the_document_is_openapi_3_1_and_its_schemas_are_valid_json_schemas() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    assert {"title", "version"} <= DOCUMENT["info"].keys()
    for schema in DOCUMENT["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    refs = set(re.findall(r'\$ref: "#/components/(\w+)/(\w+)"', OPENAPI.read_text()))
    for section, name in refs:
        assert name in DOCUMENT["components"][section], f"{section}/{name} is not defined"
    operations = [op for item in DOCUMENT["paths"].values() for op in item.values()]
    assert len({op["operationId"] for op in operations}) == len(operations)
    assert all("200" in op["responses"] for op in operations)


def test_every_route_is_documented_and_every_documented_path_exists(app: Flask) -> None:
    routes = {
        _route_template(rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert routes == set(DOCUMENT["paths"])
    for path, item in DOCUMENT["paths"].items():
        declared = set(re.findall(r"{(\w+)}", path))
        for operation in item.values():
            params = [
                p
                if "$ref" not in p
                else DOCUMENT["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
                for p in operation.get("parameters", [])
            ]
            assert {p["name"] for p in params if p["in"] == "path"} == declared, path


def test_the_document_is_served_as_yaml_and_json(app: Flask) -> None:
    client = app.test_client()
    as_yaml = client.get("/api/v1/openapi.yaml")
    assert as_yaml.status_code == 200
    assert as_yaml.mimetype == "application/yaml"
    assert yaml.safe_load(as_yaml.get_data(as_text=True)) == DOCUMENT
    assert client.get("/api/v1/openapi.json").get_json() == DOCUMENT


# -- who may read what ----------------------------------------------------------------------


def test_without_credentials_every_route_answers_401_in_json(world: World) -> None:
    c = world.course.context_id
    for url, path in [
        (
            f"/api/v1/contexts/{c}/learners/{world.lea}/progress",
            "/contexts/{context_id}/learners/{learner_id}/progress",
        ),
        (f"/api/v1/contexts/{c}/matrix", "/contexts/{context_id}/matrix"),
        (f"/api/v1/contexts/{c}/evaluations", "/contexts/{context_id}/evaluations"),
        ("/api/v1/me/progress", "/me/progress"),
    ]:
        response = world.get(url)
        assert response.status_code == 401, url
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        _validate(response, path)


@pytest.mark.parametrize("header", [f"Bearer {ADMIN}x", "Bearer ", f"Basic {ADMIN}", ADMIN])
def test_a_wrong_admin_key_is_401(world: World, header: str) -> None:
    response = world.get("/api/v1/contexts/1/matrix", Authorization=header)
    assert response.status_code == 401
    assert "error" in response.get_json()


def test_an_invalid_launch_token_is_401(world: World) -> None:
    assert world.get("/api/v1/me/progress", "not-a-token").status_code == 401


def test_a_learner_reads_their_own_progress(world: World) -> None:
    path = "/contexts/{context_id}/learners/{learner_id}/progress"
    url = f"/api/v1/contexts/{world.course.context_id}/learners/{world.lea}/progress"
    body = _validate(world.get(url, world.learner), path)
    assert (body["learner_id"], body["framework"]["code"]) == (world.lea, FRAMEWORK.code)
    bloc = next(b for b in body["blocs"] if b["code"] == "B2")
    c21 = next(c for c in bloc["competencies"] if c["code"] == "C2.1")
    assert c21["status"] == "acquis"
    assert "C2.1" not in bloc["remaining"]
    assert "C2.2" in bloc["remaining"]
    mine = _validate(world.get("/api/v1/me/progress", world.learner), "/me/progress")
    assert mine == body


def test_the_launch_token_works_as_a_query_parameter(world: World) -> None:
    response = world.lms.get(f"/api/v1/me/progress?lt={world.learner}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_learner_cannot_read_another_learner(world: World) -> None:
    c = world.course.context_id
    other = world.get(f"/api/v1/contexts/{c}/learners/{world.zoe}/progress", world.learner)
    assert other.status_code == 403
    _validate(other, "/contexts/{context_id}/learners/{learner_id}/progress")
    assert world.get(f"/api/v1/contexts/{c}/matrix", world.learner).status_code == 403
    theirs = world.get(f"/api/v1/contexts/{c}/evaluations?learner={world.zoe}", world.learner)
    assert theirs.status_code == 403


def test_a_learner_lists_only_their_own_evaluations(world: World) -> None:
    url = f"/api/v1/contexts/{world.course.context_id}/evaluations"
    body = _validate(world.get(url, world.learner), "/contexts/{context_id}/evaluations")
    assert [e["learner_id"] for e in body["evaluations"]] == [world.lea]
    [evaluation] = body["evaluations"]
    assert evaluation["id"] == world.evaluation_id
    assert evaluation["comment"] == "Bon travail"
    assert {d["competency"] for d in evaluation["decisions"]} == {"C2.1", "C2.2"}


def test_another_course_is_not_found(world: World) -> None:
    other = world.other_context
    for token in (world.learner, world.staff):
        for url in (
            f"/api/v1/contexts/{other}/matrix",
            f"/api/v1/contexts/{other}/evaluations",
            f"/api/v1/contexts/{other}/learners/{world.lea}/progress",
        ):
            response = world.get(url, token)
            assert response.status_code == 404, url
            assert response.mimetype == "application/json"
    c = world.course.context_id
    foreign = world.get(f"/api/v1/contexts/{c}/learners/{world.lea}/progress", world.foreign)
    assert foreign.status_code == 404


def test_staff_read_their_course(world: World) -> None:
    c = world.course.context_id
    zoe = world.get(f"/api/v1/contexts/{c}/learners/{world.zoe}/progress", world.staff)
    assert (
        _validate(zoe, "/contexts/{context_id}/learners/{learner_id}/progress")["learner_id"]
        == world.zoe
    )
    matrix = _validate(
        world.get(f"/api/v1/contexts/{c}/matrix", world.staff), "/contexts/{context_id}/matrix"
    )
    rows = {row["learner_id"]: row for row in matrix["rows"]}
    assert {world.lea, world.zoe} <= rows.keys()
    b2 = next(b for b in rows[world.lea]["blocs"] if b["code"] == "B2")
    assert b2["competencies"]["C2.1"] == "acquis"
    assert (
        next(b for b in rows[world.zoe]["blocs"] if b["code"] == "B2")["competencies"]["C2.1"]
        == "en_cours"
    )
    listed = _validate(
        world.get(f"/api/v1/contexts/{c}/evaluations", world.staff),
        "/contexts/{context_id}/evaluations",
    )
    assert {e["learner_id"] for e in listed["evaluations"]} == {world.lea, world.zoe}


def test_a_learner_unknown_to_the_course_is_404(world: World) -> None:
    c = world.course.context_id
    response = world.get(f"/api/v1/contexts/{c}/learners/999999/progress", world.staff)
    assert response.status_code == 404
    _validate(response, "/contexts/{context_id}/learners/{learner_id}/progress")


def test_the_admin_key_reads_every_course(world: World) -> None:
    c = world.course.context_id
    bearer = {"Authorization": f"Bearer {ADMIN}"}
    matrix = world.get(f"/api/v1/contexts/{c}/matrix", **bearer)
    assert _validate(matrix, "/contexts/{context_id}/matrix")["context_id"] == c
    progress_of = world.get(f"/api/v1/contexts/{c}/learners/{world.zoe}/progress", **bearer)
    assert progress_of.status_code == 200
    assert (
        world.get(f"/api/v1/contexts/{world.other_context}/evaluations", **bearer).status_code
        == 200
    )
    assert world.get("/api/v1/contexts/999999/matrix", **bearer).status_code == 404
    assert world.get("/api/v1/me/progress", **bearer).status_code == 403


def test_an_unknown_api_path_answers_json(world: World) -> None:
    response = world.get("/api/v1/nowhere", world.staff)
    assert response.status_code == 404
    assert response.mimetype == "application/json"


# -- bad query parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "query", "fields"),
    [
        ("matrix", "status=fini", {"status"}),
        ("matrix", "colour=blue", {"colour"}),
        ("matrix", "sort=bloc", {"sort_bloc"}),
        ("matrix", "bloc=B9", {"bloc"}),
        ("matrix", "framework=nope", {"framework"}),
        ("matrix", "descending=peut-etre&sort=height", {"descending", "sort"}),
        ("evaluations", "learner=abc", {"learner"}),
        ("evaluations", "since=2026-03-02T09:00:00", {"since"}),
        ("evaluations", "since=hier&limit=0", {"since", "limit"}),
        ("evaluations", "limit=10000&offset=-1", {"limit", "offset"}),
    ],
)
def test_bad_query_parameters_are_400_with_field_names(
    world: World, route: str, query: str, fields: set[str]
) -> None:
    url = f"/api/v1/contexts/{world.course.context_id}/{route}?{query}"
    response = world.get(url, world.staff)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = _validate(response, f"/contexts/{{context_id}}/{route}")
    assert set(body["errors"]) == fields


def test_filters_narrow_the_answers(world: World) -> None:
    c = world.course.context_id
    only_lea = world.get(f"/api/v1/contexts/{c}/evaluations?learner={world.lea}", world.staff)
    assert [e["learner_id"] for e in only_lea.get_json()["evaluations"]] == [world.lea]
    later = world.get(
        f"/api/v1/contexts/{c}/evaluations?since=2030-01-01T00:00:00%2B00:00", world.staff
    )
    assert later.get_json()["evaluations"] == []
    none_e1 = world.get(f"/api/v1/contexts/{c}/evaluations?epreuve=E1", world.staff)
    assert none_e1.get_json()["evaluations"] == []
    b2 = world.get(f"/api/v1/contexts/{c}/matrix?bloc=B2&status=en_cours", world.staff)
    body = _validate(b2, "/contexts/{context_id}/matrix")
    assert [b["code"] for b in body["blocs"]] == ["B2"]
    assert {row["learner_id"] for row in body["rows"]} >= {world.lea, world.zoe}
