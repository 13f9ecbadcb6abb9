"""The demo's course and people, its registration in Jalon, and the épreuves it places.

The épreuves are placed the way an instructor places them: "Ajouter une épreuve" in the
course, Jalon's login and launch, the picker, and the signed answer posted back to the
demo's return URL — every step a real HTTP request to the app, in process, with its cookies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.test import Client, TestResponse

from lti_tool import registration
from lti_tool.demo.models import INSTRUCTOR, LEARNER, Course, Enrolment, Placement, User
from lti_tool.demo.protocol import DemoTool, DemoUrls
from lti_tool.models import Platform, PlatformStatus

if TYPE_CHECKING:
    from flask import Flask

    from lti_tool.config import Settings

DEMO_FRAMEWORK = "community-manager-n6"

COURSE_TITLE = "Community Manager — promotion de démonstration"
# Fictitious people; ``.invalid`` addresses can never reach anyone.
PEOPLE = (
    ("cfontaine", "Claire", "Fontaine", INSTRUCTOR),
    ("lmoreau", "Léa", "Moreau", LEARNER),
    ("hbernard", "Hugo", "Bernard", LEARNER),
    ("ipetit", "Inès", "Petit", LEARNER),
)


def seed_demo(session: Session) -> Course:
    """Create the demo course, its instructor and three learners, once."""
    course = session.scalar(sa.select(Course).order_by(Course.id).limit(1))
    if course is not None:
        return course
    course = Course(label="CM-DEMO", title=COURSE_TITLE)
    session.add(course)
    session.flush()
    for username, given, family, role in PEOPLE:
        user = User(
            username=username,
            given_name=given,
            family_name=family,
            email=f"{username}@demo.invalid",
        )
        session.add(user)
        session.flush()
        session.add(Enrolment(course_id=course.id, user_id=user.id, role=role))
    session.flush()
    return course


def register_demo_platform(
    session: Session, base_url: str, tool: DemoTool | None = None
) -> Platform:
    """Register the demo LMS with Jalon (issuer ``{base}/demo``, deployment ``1``), once.

    It goes through the same functions as ``jalon platform add`` and the admin page, with the
    values an administrator would type for a real LMS.
    """
    urls = DemoUrls(base_url.rstrip("/"))
    tool = tool or DemoTool.jalon(base_url)
    platform = registration.find_platform(session, urls.issuer, tool.client_id)
    if platform is None:
        fields = registration.PlatformFields(
            issuer=urls.issuer,
            client_id=tool.client_id,
            auth_login_url=urls.auth,
            auth_token_url=urls.token,
            key_set_url=urls.jwks,
            name="LMS de démonstration",
            product_family_code="jalon-demo",
            deployment_ids=(tool.deployment_id,),
        )
        return registration.register_platform(session, fields, status=PlatformStatus.ACTIVE)
    if not any(d.deployment_id == tool.deployment_id for d in platform.deployments):
        registration.add_deployments(session, platform, [tool.deployment_id])
    return platform


# -- the épreuves, placed by deep linking ---------------------------------------------------


class SeedingError(RuntimeError):
    """A step of a deep-linking round trip did not answer as an LMS and Jalon should."""


@dataclass
class _Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)


class _Forms(HTMLParser):
    """The forms of a page, with what a browser would submit (checked boxes only)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(_Form(values.get("action", ""), values.get("method", "get").upper()))
        elif tag == "input" and self.forms and values.get("name"):
            if values.get("type") in {"checkbox", "radio"} and "checked" not in values:
                return
            self.forms[-1].fields.append((values["name"], values.get("value", "")))


def _forms(response: TestResponse) -> list[_Form]:
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    return parser.forms


class _Instructor:
    """A browser of the demo's instructor: one cookie jar, every request to the app."""

    def __init__(self, app: Flask, base_url: str) -> None:
        self.client = Client(app)
        self.base_url = base_url.rstrip("/")

    def open(
        self, url: str, method: str = "GET", data: MultiDict[str, str] | None = None
    ) -> TestResponse:
        parts = urlsplit(url if "://" in url else self.base_url + url)
        response = self.client.open(
            parts.path,
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=parts.query,
            method=method,
            data=data,
        )
        response.get_data()  # read the body before releasing the response
        response.close()
        return response

    def submit(self, form: _Form, step: str) -> TestResponse:
        return self.expect(step, self.open(form.action, form.method, MultiDict(form.fields)))

    @staticmethod
    def expect(step: str, response: TestResponse, *statuses: int) -> TestResponse:
        if response.status_code not in (statuses or (200, 302, 303)):
            raise SeedingError(f"{step}: HTTP {response.status_code} at {response.request.path}")
        return response

    def follow(self, step: str, response: TestResponse) -> TestResponse:
        self.expect(step, response, 302, 303)
        return self.expect(step, self.open(response.headers["Location"]), 200, 302, 303)


def placed_epreuves(session: Session, course: Course, framework: str) -> set[str]:
    """Return the codes of the épreuves of ``framework`` already placed in the course."""
    placements = session.scalars(sa.select(Placement).where(Placement.course_id == course.id))
    return {
        p.custom["epreuve"]
        for p in placements
        if p.custom.get("framework") == framework and "epreuve" in p.custom
    }


def _round_trip(browser: _Instructor, course_id: int, epreuve: str) -> None:
    """Place one épreuve: the course's button, Jalon's login and launch, the picker, back."""
    course = browser.expect("course page", browser.open(f"/demo/cours/{course_id}"), 200)
    add = next(f for f in _forms(course) if "ajouter-une-epreuve" in f.action)
    to_login = browser.submit(add, "add an épreuve")
    to_auth = browser.follow("Jalon's login", to_login)
    id_token_page = browser.follow("the demo's authorization", to_auth)
    launched = browser.submit(_forms(id_token_page)[0], "Jalon's launch")
    picker = browser.follow("the picker", launched)
    chosen = next((f for f in _forms(picker) if f.value("epreuve") == epreuve), None)
    if chosen is None:
        raise SeedingError(f"the picker offers no épreuve {epreuve}")
    answer = browser.expect("the picker's answer", browser.submit(chosen, "choose"), 200)
    placed = browser.submit(_forms(answer)[0], "the demo's return URL")
    added = dict(parse_qsl(urlsplit(placed.headers.get("Location", "")).query)).get("ajout")
    if placed.status_code != 303 or not added or added == "0":
        raise SeedingError(f"the demo did not place {epreuve}")


def place_epreuves(app: Flask, framework: str = DEMO_FRAMEWORK) -> list[str]:
    """Place, by real deep-linking round trips, each épreuve the demo course lacks.

    Idempotent: an épreuve already placed (by its ``epreuve`` custom parameter) is skipped.
    The app must serve Jalon and the demo, with the framework installed and the demo
    registered; return the codes placed now.
    """
    from lti_tool.frameworks import find_record, framework_of

    with app.extensions["jalon.db"].session() as session:
        record = find_record(session, framework)
        if record is None:
            raise SeedingError(f"the framework {framework} is not installed")
        codes = [epreuve.code for epreuve in framework_of(record).epreuves]
    with app.extensions["jalon.demo"].database.session() as session:
        course = seed_demo(session)
        course_id = course.id
        missing = [
            code for code in codes if code not in placed_epreuves(session, course, framework)
        ]
        instructor = session.scalar(
            sa.select(Enrolment.user_id).where(
                Enrolment.course_id == course.id, Enrolment.role == INSTRUCTOR
            )
        )
    if not missing:
        return []
    browser = _Instructor(app, app.config["JALON"].base_url)
    home = browser.expect("the demo's home", browser.open("/demo/"), 200)
    who = _forms(home)[0]
    who.fields = [(k, v) for k, v in who.fields if k != "user"] + [("user", str(instructor))]
    browser.submit(who, "choose the instructor")
    for code in missing:
        _round_trip(browser, course_id, code)
    return missing


def seed_epreuves(settings: Settings) -> list[str]:
    """Place the demo's épreuves for ``jalon demo``, before it serves (keys read in process)."""
    from lti_tool import create_app
    from lti_tool.demo.context import DemoServices
    from lti_tool.demo.keys import InProcessKeySets

    in_process = InProcessKeySets()
    app = create_app(settings, demo=DemoServices(key_sets=in_process), jwks_fetcher=in_process)
    try:
        return place_epreuves(app)
    finally:
        app.extensions["jalon.demo"].database.engine.dispose()
        app.extensions["jalon.db"].engine.dispose()
