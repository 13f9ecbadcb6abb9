"""Evaluators see people, not UUIDs: Open edX-like launches that share no name.

Open edX sends no ``name`` by default; with username sharing on it sends
``preferred_username``, and it may send the ``lis`` claim's ``person_sourcedid``. The
queue, the copy and the class matrix name people through the one chain, and the queue and
the matrix say what the platform shares.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.lti.roles import parse
from lti_tool.models import LtiUser
from lti_tool.services import Member
from lti_tool.services.memory import InMemoryRoster
from tests.lti_tool.lti.conftest import key_server, moodle
from tests.lti_tool.lti.platforms import CLAIM, Browser, TestPlatform, landing_token
from tests.lti_tool.views.test_evaluator import LIS, _hand_in, app

__all__ = ["app", "key_server", "moodle"]
SUB = "8f14e45f-ceea-467f-a0e6-0a2e5f1c3b9d"
LOGIN_NOTICE = "Cette plateforme ne partage pas les noms : Jalon affiche l’identifiant de connexion"


def _open_edx(**shared: Any) -> Any:
    """Return a claims change: no name, the learner's opaque ``sub``, what ``shared`` gives."""

    def change(claims: dict[str, Any]) -> None:
        for claim in ("name", "given_name", "family_name", "email"):
            claims.pop(claim, None)
        claims["sub"] = SUB
        claims.update(shared)

    return change


def _queue(app: Flask, moodle: TestPlatform, lang: str = "fr", **shared: Any) -> str:
    browser = Browser(app.test_client())
    landing_token(browser.launch(moodle, change=_open_edx(**shared)))
    _hand_in(app.extensions["jalon.db"], SUB, "Ma copie", 0)
    staff = landing_token(browser.launch(moodle, "instructor"))
    return browser.get(f"/evaluation/?lt={staff}&lang={lang}").get_data(as_text=True)


@pytest.fixture
def roster() -> Any:
    return InMemoryRoster([])  # a roster that names nobody


def test_the_login_names_the_learner_and_the_queue_says_so(
    app: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    page = _queue(
        app, moodle, preferred_username="lea_m", **{CLAIM + "lis": {"person_sourcedid": "S42"}}
    )
    assert "Évaluer la copie de lea_m" in page
    assert SUB not in page
    assert LOGIN_NOTICE in page
    with clean_database.session() as session:
        stored = session.scalars(sa.select(LtiUser).where(LtiUser.sub == SUB)).one()
        assert (stored.preferred_username, stored.person_sourcedid) == ("lea_m", "S42")


def test_in_english_the_notice_is_translated(app: Flask, moodle: TestPlatform) -> None:
    page = _queue(app, moodle, lang="en", preferred_username="lea_m")
    assert "This platform does not share names: Jalon shows each person’s login" in page


def test_wrongly_typed_and_empty_claims_fall_through_to_the_sourcedid(
    app: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    page = _queue(
        app, moodle, preferred_username="", **{CLAIM + "lis": {"person_sourcedid": "S42"}}
    )
    assert "Évaluer la copie de S42" in page
    assert "lis person_sourcedid" in page
    with clean_database.session() as session:
        stored = session.scalars(sa.select(LtiUser).where(LtiUser.sub == SUB)).one()
        assert stored.preferred_username is None


def test_nothing_shared_shows_a_pseudonym_and_says_why(
    app: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    page = _queue(app, moodle, preferred_username=["lea"], **{CLAIM + "lis": "S42"})
    assert "Évaluer la copie de Anonyme " in page
    assert SUB not in page
    assert "Jalon affiche un pseudonyme" in page
    with clean_database.session() as session:
        stored = session.scalars(sa.select(LtiUser).where(LtiUser.sub == SUB)).one()
        assert (stored.preferred_username, stored.person_sourcedid) == (None, None)
    # The copy and the class matrix use the same pseudonym.
    pseudonym = page.split("Évaluer la copie de ", 1)[1][: len("Anonyme ") + 6]
    browser = Browser(app.test_client())
    staff = landing_token(browser.launch(moodle, "instructor"))
    matrix = browser.get(f"/classe/?lt={staff}").get_data(as_text=True)
    assert pseudonym in matrix
    assert "Jalon affiche un pseudonyme" in matrix


@pytest.mark.parametrize(
    "roster", [InMemoryRoster([Member(SUB, parse([LIS + "Learner"]), name="Léa Martin")])]
)
def test_the_roster_names_whom_the_launch_did_not(app: Flask, moodle: TestPlatform) -> None:
    page = _queue(app, moodle)
    assert "Évaluer la copie de Léa Martin" in page
    assert "Jalon affiche ceux de sa liste des participants" in page
