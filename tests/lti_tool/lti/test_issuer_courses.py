"""One course stays one course across the client ids of one issuer (Open edX components).

Open edX registers each component of a course as its own LTI 1.3 client, with its own
client id and key set. Launches through two of them name the same course (issuer,
deployment, ``context.id``) and the same learner (issuer, ``sub``): Jalon must see one
course and one person, while each placement keeps its own client id. Two issuers never
share anything, even with the same ``context.id`` and ``sub``.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.models import LtiContext, LtiResourceLink, LtiUser, Platform
from lti_tool.registration import remove_platform
from tests.lti_tool.lti.conftest import counts
from tests.lti_tool.lti.platforms import (
    CLAIM,
    Browser,
    JwksServer,
    TestPlatform,
    landing_token,
    unique,
)

EDX = "https://edx.example.edu"


def _component(server: JwksServer, client_id: str, issuer: str = EDX) -> TestPlatform:
    return TestPlatform(
        kind="moodle",  # the claims' shape; the issuer and client id are Open edX's
        issuer=issuer,
        client_id=client_id,
        deployment_id="1",
        server=server,
        name=f"{client_id}-{unique()}",
    )


@pytest.fixture
def components(
    app: Flask, clean_database: Database, key_server: JwksServer
) -> tuple[TestPlatform, TestPlatform]:
    """Two components of one Open edX course: one issuer, two client ids and key sets."""
    first, second = _component(key_server, "block-a"), _component(key_server, "block-b")
    with clean_database.session() as session:
        first.register(session)
        second.register(session)
    return first, second


def _placed(link_id: str, title: str) -> Any:
    def change(claims: dict[str, Any]) -> None:
        claims[CLAIM + "resource_link"] = {"id": link_id, "title": title}

    return change


def test_two_client_ids_of_one_issuer_launch_one_course_and_one_learner(
    app: Flask, components: tuple[TestPlatform, TestPlatform], clean_database: Database
) -> None:
    first, second = components
    browser = Browser(app.test_client())
    through_a = landing_token(browser.launch(first, change=_placed("block-a", "Épreuve du bloc A")))
    through_b = landing_token(
        browser.launch(second, change=_placed("block-b", "Épreuve du bloc B"))
    )
    landing_token(browser.launch(first, "instructor", change=_placed("block-a", "Épreuve A")))
    landing_token(browser.launch(second, "instructor", change=_placed("block-b", "Épreuve B")))

    after = counts(clean_database)
    assert (after["lti_contexts"], after["lti_users"], after["lti_memberships"]) == (1, 2, 2)
    with clean_database.session() as session:
        links = session.execute(
            sa.select(
                LtiResourceLink.resource_link_id, Platform.client_id, LtiResourceLink.context_id
            )
            .join(Platform, Platform.id == LtiResourceLink.platform_id)
            .order_by(LtiResourceLink.resource_link_id)
        ).all()
        context = session.scalars(sa.select(LtiContext)).one()
    # Each placement keeps its client id (its grades go back with that client's token).
    assert [(link, client) for link, client, _ in links] == [
        ("block-a", "block-a"),
        ("block-b", "block-b"),
    ]
    assert {course for _, _, course in links} == {context.id}
    assert (context.issuer, context.deployment_id) == (EDX, "1")

    # One progress: through either component, the learner reads the same record.
    records = [
        browser.get("/api/v1/me/progress", headers={"X-Jalon-Launch": token}).get_json()
        for token in (through_a, through_b)
    ]
    assert records[0] == records[1]
    assert records[0]["context_id"] == context.id


def test_a_launch_through_another_client_id_writes_only_its_placement(
    app: Flask, components: tuple[TestPlatform, TestPlatform], clean_database: Database
) -> None:
    """The launch's single read finds the course and the person through any client id."""
    first, second = components
    browser = Browser(app.test_client())
    landing_token(browser.launch(first, change=_placed("block-a", "A")))
    engine = app.extensions["jalon.db"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("statements are counted by SQLite's trace callback, as the bench does")
    statements: list[str] = []

    def trace(connection: Any, _record: Any) -> None:
        connection.set_trace_callback(lambda sql: statements.append(" ".join(sql.split()).upper()))

    engine.dispose()
    sa.event.listen(engine, "connect", trace)
    try:
        landing_token(browser.launch(second, change=_placed("block-b", "B")))
        first_through_b = list(statements)
        statements.clear()
        landing_token(browser.launch(second, change=_placed("block-b", "B")))
    finally:
        sa.event.remove(engine, "connect", trace)
        engine.dispose()

    def touching(found: list[str], table: str) -> list[str]:
        return [s.split(" ", 1)[0] for s in found if f"LTI_{table}" in s]

    # The course, the person and their roles are read, not written; the placement is new.
    assert touching(first_through_b, "CONTEXTS") == ["SELECT"]
    assert touching(first_through_b, "USERS") == ["SELECT"]
    assert "INSERT" in touching(first_through_b, "RESOURCE_LINKS")
    # Returning through B: the one read, nothing written.
    written = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    tables = ("LTI_CONTEXTS", "LTI_USERS", "LTI_MEMBERSHIPS", "LTI_RESOURCE_LINKS")
    assert [s for s in written if any(t in s for t in tables)] == []
    assert len([s for s in statements if "LTI_CONTEXTS" in s]) == 1


def test_the_same_context_and_sub_under_two_issuers_are_two_courses_kept_apart(
    app: Flask, clean_database: Database, key_server: JwksServer
) -> None:
    ours = _component(key_server, "block-a")
    theirs = _component(key_server, "block-a", issuer="https://other-edx.example.org")
    with clean_database.session() as session:
        ours.register(session)
        theirs.register(session)
    browser = Browser(app.test_client())
    mine = landing_token(browser.launch(ours))
    foreign = landing_token(browser.launch(theirs))
    foreign_staff = landing_token(browser.launch(theirs, "instructor"))

    assert counts(clean_database)["lti_contexts"] == 2
    with clean_database.session() as session:
        learners = session.execute(
            sa.select(LtiUser.id, LtiUser.issuer).where(LtiUser.sub == "42").order_by(LtiUser.id)
        ).all()
        courses = dict(session.execute(sa.select(LtiContext.issuer, LtiContext.id)).all())
    assert [issuer for _, issuer in learners] == [EDX, theirs.issuer]
    my_id, my_course = learners[0][0], courses[EDX]

    # Neither the other issuer's learner nor its instructor reads our course or learner.
    for token in (foreign, foreign_staff):
        headers = {"X-Jalon-Launch": token}
        api = browser.get(
            f"/api/v1/contexts/{my_course}/learners/{my_id}/progress", headers=headers
        )
        assert api.status_code in {403, 404}
        assert browser.get(f"/api/v1/contexts/{my_course}/matrix", headers=headers).status_code in {
            403,
            404,
        }
    page = browser.get(f"/classe/apprenants/{my_id}?lt={foreign_staff}")
    assert page.status_code in {403, 404}
    # Ours still works.
    own = browser.get("/api/v1/me/progress", headers={"X-Jalon-Launch": mine})
    assert own.status_code == 200


def test_removing_one_client_id_keeps_the_course_the_last_one_forgets_it(
    app: Flask, components: tuple[TestPlatform, TestPlatform], clean_database: Database
) -> None:
    first, second = components
    browser = Browser(app.test_client())
    landing_token(browser.launch(first, change=_placed("block-a", "A")))
    landing_token(browser.launch(second, change=_placed("block-b", "B")))
    for client_id, left in (("block-a", (1, 1, 1)), ("block-b", (0, 0, 0))):
        with clean_database.session() as session:
            platform = session.scalars(sa.select(Platform).filter_by(client_id=client_id)).one()
            remove_platform(session, platform)
        after = counts(clean_database)
        assert (after["lti_contexts"], after["lti_users"], after["lti_resource_links"]) == left
