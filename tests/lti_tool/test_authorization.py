"""Who reaches what: every route of the evaluation blueprints, swept against every kind of caller.

One world, built through real launches and real pages: a Moodle-shaped platform with two
courses (c1, c2) and a Canvas-shaped one (c3); in each, learners A and B and an instructor.
A and B hand in a text and a file, the instructor publishes B's evaluation. Every name, text,
comment and file carries its owner's tag (``zq1a`` … ``zq3s``), so a leak is a tag in a body.
"Nothing written" compares the full content of the evaluation tables, the xAPI outbox and
the stored files before and after. WeasyPrint is replaced by a stand-in that returns the
livret's HTML, so the PDF route is searched like the others. The route table must list every
route of the blueprints: a new route fails ``test_every_route_is_classified`` until it is
classified here.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
import weasyprint
from flask import Flask
from werkzeug.test import TestResponse

from lti_tool import create_app, csrf
from lti_tool.config import Settings
from lti_tool.db import Base, Database
from lti_tool.evaluation import models
from lti_tool.evaluation.storage import MemoryFileStorage
from lti_tool.frameworks import install_bundled
from lti_tool.lti import session as lti_session
from lti_tool.models import LtiUser
from lti_tool.services import LmsServiceError, Roster
from lti_tool.services.memory import InMemoryGrades
from tests.conftest import BASE_URL
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.conftest import CANVAS_ISSUER, key_server
from tests.lti_tool.lti.platforms import CLAIM, Browser, JwksServer, TestPlatform, landing_token
from xapi.outbox import outbox

__all__ = ["key_server"]

BLUEPRINTS = ("learner", "evaluator", "progress", "matrix", "api")
ADMIN = "admin-token-for-the-authorization-sweep-0123"
LEARNER, MEMBER, SESSION, STAFF, PUBLIC = "learner", "member", "session", "staff", "public"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WRITTEN = (
    models.CourseSettings,
    models.Submission,
    models.SubmissionVersion,
    models.SubmissionFile,
    models.Evaluation,
    models.CriterionResult,
    models.CompetencyDecision,
    models.LearnerProgress,
    models.GradePassback,
)


@dataclasses.dataclass(frozen=True)
class Ids:
    """The ids one person's data is reached by: their course, themselves, their work."""

    context: int
    learner: int
    submission: int
    file: int


@dataclasses.dataclass(frozen=True)
class Route:
    """A route, who it is for, and its URL for given ids (``kind``: see the constants)."""

    endpoint: str
    method: str
    kind: str
    path: Callable[[Ids], str]

    @property
    def is_api(self) -> bool:
        return self.endpoint.startswith("api.")

    def __str__(self) -> str:
        return f"{self.endpoint}:{self.method}"


def _fixed(path: str) -> Callable[[Ids], str]:
    return lambda _ids: path


def _copy(i: Ids) -> str:
    return f"/evaluation/copies/{i.submission}"


ROUTES = (
    Route("learner.epreuve", "GET", LEARNER, _fixed("/epreuve")),
    Route("learner.save", "POST", LEARNER, _fixed("/epreuve/brouillon")),
    Route("learner.hand_in", "POST", LEARNER, _fixed("/epreuve/remise")),
    Route("learner.download", "GET", MEMBER, lambda i: f"/epreuve/fichiers/{i.file}"),
    Route("progress.mine", "GET", LEARNER, _fixed("/progression")),
    Route("evaluator.queue", "GET", STAFF, _fixed("/evaluation/")),
    Route("evaluator.copy", "GET", STAFF, _copy),
    Route("evaluator.save", "POST", STAFF, _copy),
    Route("progress.learner", "GET", STAFF, lambda i: f"/classe/apprenants/{i.learner}"),
    Route("progress.course_settings", "GET", STAFF, _fixed("/cours/reglages")),
    Route("progress.course_settings", "POST", STAFF, _fixed("/cours/reglages")),
    Route("progress.teaching_assistants", "POST", STAFF, _fixed("/cours/reglages/assistants")),
    Route("matrix.matrix", "GET", STAFF, _fixed("/classe/")),
    Route("matrix.matrix_csv", "GET", STAFF, _fixed("/classe/matrice.csv")),
    Route("matrix.matrix_xlsx", "GET", STAFF, _fixed("/classe/matrice.xlsx")),
    Route("matrix.livret", "GET", STAFF, lambda i: f"/classe/apprenants/{i.learner}/livret.pdf"),
    Route(
        "api.learner_progress",
        "GET",
        MEMBER,
        lambda i: f"/api/v1/contexts/{i.context}/learners/{i.learner}/progress",
    ),
    Route("api.my_progress", "GET", SESSION, _fixed("/api/v1/me/progress")),
    Route("api.matrix", "GET", STAFF, lambda i: f"/api/v1/contexts/{i.context}/matrix"),
    Route(
        "api.evaluations",
        "GET",
        MEMBER,
        lambda i: f"/api/v1/contexts/{i.context}/evaluations?learner={i.learner}",
    ),
    Route("api.openapi_yaml", "GET", PUBLIC, _fixed("/api/v1/openapi.yaml")),
    Route("api.openapi_json", "GET", PUBLIC, _fixed("/api/v1/openapi.json")),
)
POSTS = [r for r in ROUTES if r.method == "POST"]
GUARDED = [r for r in ROUTES if r.kind != PUBLIC]


def _routes(*kinds: str, method: str | None = None) -> list[Any]:
    chosen = [r for r in ROUTES if r.kind in kinds and method in {None, r.method}]
    return [pytest.param(r, id=str(r)) for r in chosen]


# -- the world ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Person:
    token: str
    user: int
    tag: str


@dataclasses.dataclass(frozen=True)
class Course:
    context: int
    people: dict[str, Person]  # "a", "b", "s" (the instructor)
    submissions: dict[str, int]
    files: dict[str, int]

    def ids(self, who: str) -> Ids:
        """Return the ids of a learner's data in this course."""
        return Ids(self.context, self.people[who].user, self.submissions[who], self.files[who])

    @property
    def tags(self) -> set[str]:
        return {p.tag for p in self.people.values()}


@dataclasses.dataclass
class World:
    app: Flask
    browser: Browser
    database: Database
    storage: MemoryFileStorage
    courses: dict[str, Course]

    def request(
        self, route: Route, path: str, token: str | None = None, **kwargs: Any
    ) -> TestResponse:
        if token is not None:
            path = f"{path}{'&' if '?' in path else '?'}{lti_session.PARAM}={token}"
        if route.method == "POST":
            return self.browser.post(path, **kwargs)
        return self.browser.get(path, **kwargs)


class NoRoster:
    """An LMS whose roster cannot be read: the queue falls back on the course's launches."""

    def members(self, context: Any, role: str | None = None) -> Roster:
        raise LmsServiceError("LMS_UNAUTHORIZED", status=401)


def _launch(browser: Browser, platform: TestPlatform, role: str, tag: str, course: str) -> str:
    def change(claims: dict[str, Any]) -> None:
        claims.update(sub=tag, given_name="Nom", family_name=tag, name=f"Nom {tag}")
        if course == "c2":  # the same Moodle, another course and placement
            claims[CLAIM + "context"] = {**claims[CLAIM + "context"], "id": "8"}
            claims[CLAIM + "resource_link"] = {**claims[CLAIM + "resource_link"], "id": "13"}

    return landing_token(browser.launch(platform, role, change=change))


def _hand_in(browser: Browser, token: str, tag: str) -> None:
    page = browser.get("/epreuve", query_string={"lt": token}).get_data(as_text=True)
    form = dict(re.findall(r'name="(csrf_token|revision)" value="([^"]*)"', page))
    upload = (io.BytesIO(f"Fichier {tag}".encode()), f"preuve-{tag}.txt")
    done = browser.post(
        "/epreuve/remise",
        query_string={"lt": token},
        data={**form, "text": f"Texte {tag}", "files": [upload]},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303, done.get_data(as_text=True)


def _publish(browser: Browser, token: str, submission: int, tag: str) -> None:
    url = f"/evaluation/copies/{submission}"
    page = browser.get(url, query_string={"lt": token}).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    fields.update(dict.fromkeys(re.findall(r'name="(niveau-[^"]+)"', page), "atteint"))
    fields.update(action="publier", confirm="1", commentaire=f"Commentaire {tag}")
    done = browser.post(url, query_string={"lt": token}, data=fields)
    assert done.status_code == 303, done.get_data(as_text=True)


def _course(world: World, platform: TestPlatform, name: str) -> Course:
    n = name[1]
    tokens = {
        who: _launch(world.browser, platform, role, f"zq{n}{who}", name)
        for who, role in (("a", "learner"), ("b", "learner"), ("s", "instructor"))
    }
    for who in "ab":
        _hand_in(world.browser, tokens[who], f"zq{n}{who}")
    with world.database.session() as session:
        users = {row.sub: row.id for row in session.execute(sa.select(LtiUser.sub, LtiUser.id))}
        people = {who: Person(tokens[who], users[f"zq{n}{who}"], f"zq{n}{who}") for who in tokens}
        context = session.scalars(
            sa.select(models.Submission.context_id).where(
                models.Submission.learner_id == people["a"].user
            )
        ).one()
        work = {
            who: session.scalars(
                sa.select(models.Submission).where(models.Submission.learner_id == people[who].user)
            ).one()
            for who in "ab"
        }
        submissions = {who: work[who].id for who in "ab"}
        files = {who: work[who].versions[0].files[0].id for who in "ab"}
    _publish(world.browser, tokens["s"], submissions["b"], f"zq{n}s")
    return Course(context, people, submissions, files)


@pytest.fixture(scope="module")
def world(
    database: Database, key_server: JwksServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    _empty(database)
    settings = Settings(
        secret_key="test-secret-key-0123456789",
        database_url=str(database.engine.url.render_as_string(hide_password=False)),
        base_url=BASE_URL,
        instance_path=tmp_path_factory.mktemp("authz"),
        admin_token=ADMIN,
    )
    storage = MemoryFileStorage()
    app = create_app(
        settings,
        database=database,
        nrps=NoRoster(),
        ags=InMemoryGrades(),
        file_storage=storage,
        jwks_fetcher=loopback_key_sets(),
    )
    app.config["TESTING"] = True
    moodle = TestPlatform(
        "moodle", "https://moodle.example.edu", "Xq3kP0vZ8m", "1", key_server, "m"
    )
    canvas = TestPlatform("canvas", CANVAS_ISSUER, "10000000000042", "2:4dde", key_server, "c")
    with database.session() as session:
        install_bundled(session)
        moodle.register(session)
        canvas.register(session)
    world = World(app, Browser(app.test_client()), database, storage, {})
    for name, platform in (("c1", moodle), ("c2", moodle), ("c3", canvas)):
        world.courses[name] = _course(world, platform, name)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(weasyprint, "HTML", LivretSource)
            yield world
    finally:
        _empty(database)


class LivretSource:
    """Stand in for WeasyPrint: the "PDF" is the livret's HTML, so a leak can be searched."""

    pages: tuple[()] = ()  # laid out on no page: nothing for the layout to let break

    def __init__(self, string: str, **_options: Any) -> None:
        self.string = string

    def render(self, **_options: Any) -> LivretSource:
        return self

    def write_pdf(self) -> bytes:
        return self.string.encode()


def _empty(database: Database) -> None:
    with database.engine.begin() as connection:
        for table in [*reversed(Base.metadata.sorted_tables), outbox]:
            connection.execute(sa.delete(table))


# -- what is checked ------------------------------------------------------------------------


def _snapshot(world: World) -> dict[str, Any]:
    """Return every row of the evaluation tables and the outbox, and the stored files."""
    with world.database.engine.connect() as connection:
        rows: dict[str, Any] = {
            model.__tablename__: sorted(
                map(repr, connection.execute(sa.select(model.__table__)).all())
            )
            for model in WRITTEN
        }
        rows["xapi_outbox"] = sorted(map(repr, connection.execute(sa.select(outbox)).all()))
    rows["files"] = dict(world.storage.files)
    return rows


def _text(response: TestResponse) -> str:
    """Return what a response shows a person: the cells of a workbook, else the body."""
    if response.mimetype == XLSX:
        book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
        return " ".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return response.get_data(as_text=True)


def _assert_hidden(response: TestResponse, tags: set[str], route: Route) -> None:
    shown = _text(response)
    leaked = sorted(tag for tag in tags if tag in shown)
    assert not leaked, f"{route} shows {leaked}"
    assert response.status_code < 500, f"{route}: {response.status_code}"


def _foreign_tags(world: World, course: str, *, but: str | None = None) -> set[str]:
    """Return the tags of every course but one, plus one person's of that course."""
    tags = {t for name, c in world.courses.items() if name != course for t in c.tags}
    if but is not None:
        tags.add(world.courses[course].people[but].tag)
    return tags


def _csrf(world: World, token: str | None) -> str:
    """Return a valid CSRF token for the launch a session token names (or for nobody)."""
    with world.app.test_request_context():
        if token is not None:
            found = lti_session.read(token)
            assert found is not None
            csrf.set_principal(f"lti:{found.launch_id}")
        return csrf.generate()


# -- the table is complete ------------------------------------------------------------------


def test_every_route_is_classified(world: World) -> None:
    registered = {
        (rule.endpoint, method)
        for rule in world.app.url_map.iter_rules()
        if rule.endpoint.split(".", 1)[0] in BLUEPRINTS
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    classified = {(r.endpoint, r.method) for r in ROUTES}
    assert registered - classified == set(), "routes to classify in ROUTES"
    assert classified - registered == set(), "ROUTES lists routes that no longer exist"
    assert len(ROUTES) == len(classified)


# -- without a session ----------------------------------------------------------------------


@pytest.mark.parametrize("route", _routes(LEARNER, MEMBER, SESSION, STAFF, PUBLIC))
def test_without_a_session_nothing_is_read_or_written(world: World, route: Route) -> None:
    path = route.path(world.courses["c1"].ids("b"))
    before = _snapshot(world)
    # (response, whether it carried a CSRF token): without one, a POST stops at CSRF.
    attempts = [
        (world.request(route, path), False),
        (world.request(route, path, token="forged.token"), False),
        (world.request(route, path, headers={lti_session.HEADER: "forged"}), False),
    ]
    if not route.is_api:  # the administrator's API key opens no page
        admin = {"Authorization": f"Bearer {ADMIN}"}
        attempts.append((world.request(route, path, headers=admin), False))
    if route.method == "POST":  # past CSRF (a token for nobody), the session is still missing
        data = {"csrf_token": _csrf(world, None)}
        attempts.append((world.request(route, path, data=data), True))
    for response, has_csrf in attempts:
        if route.kind == PUBLIC:
            assert response.status_code == 200
        elif route.method == "POST" and not has_csrf:
            assert response.status_code == 400, (str(route), response.status_code)
            assert "Le formulaire a expiré" in response.get_data(as_text=True)
        else:
            assert response.status_code == 401, (str(route), response.status_code)
        _assert_hidden(response, _foreign_tags(world, "none"), route)
    assert _snapshot(world) == before


# -- a learner and another learner's data ---------------------------------------------------


@pytest.mark.parametrize("route", _routes(MEMBER, SESSION, LEARNER, method="GET"))
def test_a_learner_never_reads_another_learners_data(world: World, route: Route) -> None:
    course = world.courses["c1"]
    a, b = course.people["a"], course.people["b"]
    before = _snapshot(world)
    for target, ids in [
        ("c1", course.ids("b")),
        ("c2", world.courses["c2"].ids("b")),
        ("c3", world.courses["c3"].ids("b")),
    ]:
        response = world.request(route, route.path(ids), token=a.token)
        if route.kind == MEMBER:  # an id in the path: someone else's is refused
            expected = {403, 404} if target == "c1" else {404}
            assert response.status_code in expected, (str(route), target, response.status_code)
        else:  # no id in the path: the learner's own page, whatever the ids
            assert response.status_code == 200, (str(route), response.status_code)
        _assert_hidden(response, _foreign_tags(world, "c1", but="b") | {b.tag}, route)
    assert _snapshot(world) == before


@pytest.mark.parametrize("route", _routes(MEMBER))
def test_each_owner_and_the_course_staff_do_read_it(world: World, route: Route) -> None:
    course = world.courses["c1"]
    for who, token in [("a", course.people["a"].token), ("b", course.people["s"].token)]:
        response = world.request(route, route.path(course.ids(who)), token=token)
        assert response.status_code == 200, (str(route), who, response.status_code)
    download = world.request(route, route.path(course.ids("b")), token=course.people["b"].token)
    if route.endpoint == "learner.download":
        assert _text(download) == "Fichier zq1b"
    _assert_hidden(download, _foreign_tags(world, "c1", but="a"), route)


@pytest.mark.parametrize("route", _routes(LEARNER, method="POST"))
def test_a_learner_posting_another_learners_file_ids_changes_only_their_own_work(
    world: World, route: Route
) -> None:
    course = world.courses["c1"]
    a = course.people["a"]
    page = world.browser.get("/epreuve", query_string={"lt": a.token}).get_data(as_text=True)
    form = dict(re.findall(r'name="(csrf_token|revision)" value="([^"]*)"', page))
    others = [
        world.courses["c1"].files["b"],
        world.courses["c2"].files["a"],
        world.courses["c3"].files["b"],
    ]
    before = _others(world, course.submissions["a"])
    response = world.request(
        route,
        route.path(course.ids("a")),
        token=a.token,
        data={**form, "text": "Encore", "remove": [str(i) for i in others]},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _others(world, course.submissions["a"]) == before
    for name, who in [("c1", "b"), ("c2", "a"), ("c3", "b")]:
        owner = world.courses[name].people[who].token
        file_id = world.courses[name].files[who]
        mine = world.browser.get(f"/epreuve/fichiers/{file_id}", query_string={"lt": owner})
        assert _text(mine) == f"Fichier {world.courses[name].people[who].tag}"


def _others(world: World, submission: int) -> dict[str, Any]:
    """Return the work rows of every submission but one, and the stored files."""
    versions = sa.select(models.SubmissionVersion.id).where(
        models.SubmissionVersion.submission_id == submission
    )
    queries = {
        "submissions": sa.select(models.Submission.__table__).where(
            models.Submission.id != submission
        ),
        "versions": sa.select(models.SubmissionVersion.__table__).where(
            models.SubmissionVersion.submission_id != submission
        ),
        "files": sa.select(models.SubmissionFile.__table__).where(
            models.SubmissionFile.version_id.not_in(versions)
        ),
    }
    with world.database.engine.connect() as connection:
        rows: dict[str, Any] = {
            name: sorted(map(repr, connection.execute(query).all()))
            for name, query in queries.items()
        }
    rows["stored"] = dict(world.storage.files)
    return rows


# -- roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", _routes(STAFF))
def test_a_learner_reaches_no_staff_route(world: World, route: Route) -> None:
    course = world.courses["c1"]
    a = course.people["a"]
    before = _snapshot(world)
    for ids in (course.ids("a"), course.ids("b")):
        data = {"csrf_token": _csrf(world, a.token), "action": "publier", "method": "highest"}
        response = world.request(
            route, route.path(ids), token=a.token, data=data if route.method == "POST" else None
        )
        assert response.status_code == 403, (str(route), response.status_code)
        _assert_hidden(response, _foreign_tags(world, "c1", but="b"), route)
    assert _snapshot(world) == before


@pytest.mark.parametrize("route", _routes(LEARNER))
def test_staff_reach_no_learner_only_route(world: World, route: Route) -> None:
    staff = world.courses["c1"].people["s"]
    before = _snapshot(world)
    data = {"csrf_token": _csrf(world, staff.token), "revision": "0", "text": "Intrus"}
    response = world.request(
        route,
        route.path(world.courses["c1"].ids("a")),
        token=staff.token,
        data=data if route.method == "POST" else None,
    )
    assert response.status_code == 403, (str(route), response.status_code)
    assert _snapshot(world) == before


# -- courses and platforms ------------------------------------------------------------------


@pytest.mark.parametrize("target", ["c2", "c3"], ids=["other-course", "other-platform"])
@pytest.mark.parametrize("route", _routes(STAFF, MEMBER, SESSION))
def test_staff_never_reach_another_course(world: World, route: Route, target: str) -> None:
    staff = world.courses["c1"].people["s"]
    own, foreign = world.courses["c1"].ids("b"), world.courses[target].ids("b")
    if route.path(own) == route.path(foreign) and route.method == "POST":
        _post_naming_another_course(world, route, target)
        return
    before = _snapshot(world)
    for who in "ab":
        ids = world.courses[target].ids(who)
        data = {"csrf_token": _csrf(world, staff.token), "action": "brouillon", "revision": "0"}
        response = world.request(
            route,
            route.path(ids),
            token=staff.token,
            data=data if route.method == "POST" else None,
        )
        if route.path(own) != route.path(foreign):
            assert response.status_code == 404, (str(route), target, response.status_code)
        _assert_hidden(response, _foreign_tags(world, "c1"), route)
    assert _snapshot(world) == before


# Query parameters a caller might try to steer a page to another course with, and the
# foreign id each is given.
def _post_naming_another_course(world: World, route: Route, target: str) -> None:
    """Post a form that names no course with another course's ids: only c1 changes."""
    staff, foreign = world.courses["c1"].people["s"], world.courses[target].ids("b")
    data = {name: str(dataclasses.asdict(foreign)[field]) for name, field in QUERIES.items()}
    data.update(csrf_token=_csrf(world, staff.token), method="latest", teaching_assistants="oui")
    before = {name: _course_rows(world, c.context) for name, c in world.courses.items()}
    response = world.request(route, route.path(foreign), token=staff.token, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    for name, course in world.courses.items():
        if name != "c1":
            assert _course_rows(world, course.context) == before[name], name


def _course_rows(world: World, context: int) -> dict[str, Any]:
    """Return the rows of one course's settings, progress and submissions."""
    with world.database.engine.connect() as connection:
        return {
            model.__tablename__: sorted(
                map(
                    repr,
                    connection.execute(
                        sa.select(model.__table__).where(model.__table__.c.context_id == context)
                    ),
                )
            )
            for model in (models.CourseSettings, models.LearnerProgress, models.Submission)
        }


QUERIES = {
    "context_id": "context", "context": "context", "resource_link_id": "context",
    "platform_id": "context", "learner_id": "learner", "learner": "learner",
    "user_id": "learner", "submission_id": "submission", "id": "submission", "file_id": "file",
}  # fmt: skip


@pytest.mark.parametrize("who", ["a", "s"], ids=["learner", "staff"])
@pytest.mark.parametrize("route", _routes(LEARNER, MEMBER, SESSION, STAFF, method="GET"))
def test_a_session_token_replayed_with_another_courses_ids_reads_only_its_course(
    world: World, route: Route, who: str
) -> None:
    course = world.courses["c1"]
    person = course.people[who]
    path = route.path(course.ids("a"))
    hidden = _foreign_tags(world, "c1", but="b" if who == "a" else None)
    # The API's callers send the token in a header; pages carry it in the query string.
    ways: list[dict[str, Any]] = [{"token": person.token}]
    if route.is_api:
        ways.append({"headers": {lti_session.HEADER: person.token}})
    before = _snapshot(world)
    for target in ("c2", "c3"):
        foreign = dataclasses.asdict(world.courses[target].ids("b"))
        for name, field in QUERIES.items():
            url = f"{path}{'&' if '?' in path else '?'}{name}={foreign[field]}"
            for way in ways:
                response = world.request(route, url, **way)
                assert response.status_code in {200, 400, 403}, (str(route), url)
                _assert_hidden(response, hidden, route)
    assert _snapshot(world) == before


# -- the administrator's API key ------------------------------------------------------------


@pytest.mark.parametrize(
    "route", [p for p in _routes(MEMBER, STAFF, SESSION) if p.values[0].is_api]
)
def test_the_admin_key_reads_every_course_and_a_wrong_key_none(world: World, route: Route) -> None:
    before = _snapshot(world)
    for name, course in world.courses.items():
        path = route.path(course.ids("b"))
        admin = world.request(route, path, headers={"Authorization": f"Bearer {ADMIN}"})
        if route.kind == SESSION:  # the administrator has no progress of their own
            assert admin.status_code == 403
        else:
            assert admin.status_code == 200, (str(route), name, admin.get_data(as_text=True))
        if route.endpoint in {"api.matrix", "api.evaluations"}:
            assert course.people["b"].tag in _text(admin) or str(course.people["b"].user) in (
                _text(admin)
            )
        for header in (f"Bearer {ADMIN}x", "Bearer ", f"Basic {ADMIN}", ADMIN, "Bearer zq1a"):
            # A wrong key is refused even beside a valid session token.
            wrong = world.request(
                route, path, token=course.people["s"].token, headers={"Authorization": header}
            )
            assert wrong.status_code == 401, (str(route), header)
            _assert_hidden(wrong, _foreign_tags(world, "none"), route)
    assert _snapshot(world) == before


# -- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", [pytest.param(r, id=str(r)) for r in POSTS])
def test_a_post_without_a_valid_csrf_token_writes_nothing(world: World, route: Route) -> None:
    course = world.courses["c1"]
    actor = course.people["a" if route.kind == LEARNER else "s"]
    peer = course.people["b" if route.kind == LEARNER else "a"]
    other_course = world.courses["c2"].people["a" if route.kind == LEARNER else "s"]
    form = {"revision": "0", "text": "Sans jeton", "action": "publier", "method": "highest"}
    before = _snapshot(world)
    for token in (
        None,
        "",
        "garbage",
        "1.deadbeef",
        _csrf(world, None),  # a token for nobody
        _csrf(world, peer.token),  # someone else's token
        _csrf(world, other_course.token),
    ):
        data = dict(form) if token is None else {**form, "csrf_token": token}
        path = route.path(course.ids("a"))
        response = world.request(route, path, token=actor.token, data=data)
        assert response.status_code == 400, (str(route), token, response.status_code)
        assert "Le formulaire a expiré" in response.get_data(as_text=True)
    assert _snapshot(world) == before


# -- and the rightful readers do read -------------------------------------------------------


@pytest.mark.parametrize("route", _routes(STAFF, method="GET"))
def test_staff_read_their_own_course_and_only_it(world: World, route: Route) -> None:
    course = world.courses["c1"]
    response = world.request(route, route.path(course.ids("b")), token=course.people["s"].token)
    assert response.status_code == 200, (str(route), response.get_data(as_text=True)[:300])
    _assert_hidden(response, _foreign_tags(world, "c1"), route)
    if route.endpoint != "progress.course_settings":  # every other page is about learners
        assert course.people["b"].tag in _text(response), str(route)
