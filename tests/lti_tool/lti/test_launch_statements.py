"""A learner's launch of a placed épreuve emits one *launched* statement, in its transaction."""

from __future__ import annotations

import dataclasses
import json

import pytest
import sqlalchemy as sa

from lti_tool import frameworks
from lti_tool.db import Database
from lti_tool.frameworks import bundled_frameworks, import_framework
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token
from xapi.outbox import outbox

LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def _statements(database: Database) -> list[dict[str, object]]:
    with database.engine.connect() as connection:
        texts = connection.scalars(sa.select(outbox.c.body).order_by(outbox.c.id)).all()
    return [json.loads(text) for text in texts]


def test_a_learner_launch_is_told_to_the_lrs(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    landing_token(browser.launch(moodle, "learner"))
    (statement,) = _statements(clean_database)
    assert statement["verb"]["id"] == LAUNCHED
    assert statement["actor"]["account"]["homePage"] == moodle.issuer
    assert "name" not in statement["actor"]  # pseudonymous by default
    assert "/epreuves/" not in json.dumps(statement["object"])  # the object is the LMS link
    grouping = {a["id"] for a in statement["context"]["contextActivities"]["grouping"]}
    assert "https://jalon.test/referentiels/community-manager-n6/blocs/B2" in grouping


def test_staff_and_unplaced_launches_emit_nothing(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    landing_token(browser.launch(moodle, "instructor"))
    landing_token(browser.launch(moodle, "learner", change=lambda c: c.pop(CLAIM + "custom")))
    assert _statements(clean_database) == []


def test_a_refused_launch_emits_nothing(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    response = browser.launch(moodle, "learner", change=lambda c: c.update(aud="someone-else"))
    assert response.status_code == 403
    assert "LTI_WRONG_AUDIENCE" in response.get_data(as_text=True)
    assert _statements(clean_database) == []


def test_the_blocs_follow_the_current_version_of_the_framework(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    # The blocs of an épreuve are cached per framework version: a new version is seen at once.
    landing_token(browser.launch(moodle, "learner"))
    framework = next(f for f in bundled_frameworks() if f.code == "community-manager-n6")
    widened = dataclasses.replace(
        framework,
        identity=dataclasses.replace(framework.identity, version=framework.identity.version + "b"),
        epreuves=tuple(
            dataclasses.replace(e, competencies=(*e.competencies, "C1.1")) if e.code == "E3" else e
            for e in framework.epreuves
        ),
    )
    with clean_database.session() as session:
        import_framework(session, widened)
    landing_token(browser.launch(moodle, "learner"))
    first, second = (
        {a["id"].rsplit("/", 1)[1] for a in s["context"]["contextActivities"]["grouping"]}
        for s in _statements(clean_database)
    )
    assert "B2" in first
    assert "B1" not in first
    assert {"B1", "B2"} <= second


def test_the_launch_reads_the_current_version_with_its_rows(
    browser: Browser,
    moodle: TestPlatform,
    clean_database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the version is parsed, the launch's one read is all the blocs need."""
    landing_token(browser.launch(moodle, "learner"))  # parses the current version

    def no_second_read(*args: object) -> None:
        raise AssertionError("the current version was read again")

    monkeypatch.setattr(frameworks._CURRENT, "first", no_second_read)
    landing_token(browser.launch(moodle, "learner"))
    latest = _statements(clean_database)[-1]
    grouping = {a["id"] for a in latest["context"]["contextActivities"]["grouping"]}
    assert "https://jalon.test/referentiels/community-manager-n6/blocs/B2" in grouping


def test_item4_launched_names_the_platform_as_it_was_registered(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    # The LMS calls itself « Moodle de l’école » in tool_platform; every statement that is
    # not a launch says the registered name, so the launch says it too.
    landing_token(browser.launch(moodle, "learner"))
    (statement,) = _statements(clean_database)
    assert statement["context"]["platform"] == moodle.name
    assert statement["context"]["platform"] != "Moodle de l’école"
