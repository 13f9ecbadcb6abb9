"""A learner's own badges on "Ma progression": listed, downloaded, their e-mail chosen."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.certification.models import Candidate
from lti_tool.certification.ob3.baking import unbake_png
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.models import LtiUser
from tests.database_rows import every_row
from tests.lti_tool.certification.issue_support import credentials
from tests.lti_tool.certification.test_issue_pages import issue_session, stored
from tests.lti_tool.lti import conftest as lti
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

key_server, moodle, canvas, registered = lti.key_server, lti.moodle, lti.canvas, lti.registered


@pytest.fixture
def lms(registered: Flask) -> Browser:
    return Browser(registered.test_client())


@pytest.fixture
def learner(
    lms: Browser, moodle: TestPlatform, clean_database: Database, settings: Settings
) -> dict[str, Any]:
    """Moodle's learner, launched, with credentials; another learner with theirs."""
    token = landing_token(lms.launch(moodle))
    with clean_database.session() as db:
        me = db.scalar(sa.select(LtiUser.id).where(LtiUser.sub == "42"))
    assert me is not None
    mine = issue_session(clean_database, settings, learner_ids=(me,))
    theirs = issue_session(clean_database, settings, learners=1)
    return {"token": token, "id": me, "mine": mine, "theirs": theirs}


def test_my_certifications_lists_mine_only(lms: Browser, learner: dict[str, Any]) -> None:
    response = lms.get("/progression", query_string={"lt": learner["token"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Mes certifications" in html
    for public in learner["mine"]:
        assert f"/progression/certifications/{public}.json" in html
    for public in learner["theirs"]:
        assert public not in html


def test_a_learner_downloads_json_and_baked_png_of_their_own(
    lms: Browser, learner: dict[str, Any], clean_database: Database
) -> None:
    public = learner["mine"][0]
    expected = stored(clean_database, public).document
    response = lms.get(
        f"/progression/certifications/{public}.json", query_string={"lt": learner["token"]}
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True) == expected
    png = lms.get(
        f"/progression/certifications/{public}.png", query_string={"lt": learner["token"]}
    )
    assert png.status_code == 200
    assert png.content_type == "image/png"
    assert unbake_png(png.get_data()) == expected


def test_another_learners_credential_is_a_404(lms: Browser, learner: dict[str, Any]) -> None:
    theirs = learner["theirs"][0]
    for extension in ("json", "png"):
        response = lms.get(
            f"/progression/certifications/{theirs}.{extension}",
            query_string={"lt": learner["token"]},
        )
        assert response.status_code == 404
    assert lms.get(f"/progression/certifications/{theirs}.json").status_code == 401


def test_choosing_an_email_reissues_my_badges(
    lms: Browser, registered: Flask, learner: dict[str, Any], clean_database: Database
) -> None:
    token = learner["token"]
    form = lms.get("/progression/certifications/adresse", query_string={"lt": token})
    assert form.status_code == 200
    assert 'name="badge_email"' in form.get_data(as_text=True)
    page = lms.get("/progression", query_string={"lt": token}).get_data(as_text=True)
    csrf_value = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf_value is not None
    bad = lms.post(
        "/progression/certifications/adresse",
        data={"lt": token, "csrf_token": csrf_value[1], "badge_email": "pas une adresse"},
    )
    assert bad.status_code == 400
    assert re.search(
        r"<li><a href=\"#champ-badge_email\">Adresse électronique : ce n’est pas",
        bad.get_data(as_text=True),
    )
    good = lms.post(
        "/progression/certifications/adresse",
        data={"lt": token, "csrf_token": csrf_value[1], "badge_email": "Lea.Perso@Example.org"},
    )
    assert good.status_code == 303
    shown = lms.get(good.headers["Location"]).get_data(as_text=True)
    assert "5 badge(s) délivré(s) de nouveau" in shown
    with clean_database.session() as db:
        candidate = db.scalar(sa.select(Candidate).where(Candidate.learner_id == learner["id"]))
        assert candidate is not None
        assert candidate.badge_email == "lea.perso@example.org"
        mine = [c for c in credentials(db) if c.learner_id == learner["id"]]
        assert sum(c.revoked_at is None for c in mine) == 5
        assert {c.revocation_reason for c in mine if c.revoked_at} == {"remplacé"}
        theirs = [c for c in credentials(db) if c.learner_id != learner["id"]]
        assert all(c.revoked_at is None for c in theirs)


def test_the_email_form_needs_csrf(
    lms: Browser, learner: dict[str, Any], clean_database: Database
) -> None:
    before = every_row(clean_database)
    response = lms.post(
        "/progression/certifications/adresse",
        data={"lt": learner["token"], "badge_email": "x@example.org"},
    )
    assert response.status_code == 400
    assert every_row(clean_database) == before
