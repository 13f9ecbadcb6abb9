"""After the launch: the signed session token, roles on every page, no third-party cookie."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time

import pytest
import sqlalchemy as sa
from flask import Flask, render_template_string
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from lti_tool import create_app
from lti_tool.config import ConfigError, Settings
from lti_tool.db import Database
from lti_tool.lti.session import SALT, learner_required, staff_required
from lti_tool.models import CacheEntry
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

FORM = "<form method=post>{{ csrf_field() }}{{ lti_field() }}<button>ok</button></form>"


@pytest.fixture
def probed(registered: Flask) -> Flask:
    """The app with a staff-only and a learner-only page, as issue 4 will add them."""

    @registered.route("/lti/essai/evaluation", methods=["GET", "POST"])
    @staff_required
    def staff_probe() -> str:
        return (
            "grade saved"
            if registered.config["TESTING"] and _is_post()
            else (render_template_string(FORM))
        )

    @registered.route("/lti/essai/depot", methods=["GET", "POST"])
    @learner_required
    def learner_probe() -> str:
        return "work submitted" if _is_post() else render_template_string(FORM)

    return registered


def _is_post() -> bool:
    from flask import request

    return request.method == "POST"


def _form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="([^"]+)" value="([^"]+)"', html))


def _aged_token(app: Flask, launch_token: str, age: float) -> str:
    """Re-sign a token's launch id as if it had been issued ``age`` seconds ago."""

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age)

    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT, signer=Past)
    launch_id = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT).loads(launch_token)
    return serializer.dumps(launch_id)


def test_learner_never_reaches_a_staff_url(probed: Flask, moodle: TestPlatform) -> None:
    learner = Browser(probed.test_client())
    token = landing_token(learner.launch(moodle, "learner"))
    page = learner.get(f"/lti/essai/evaluation?lt={token}")
    assert page.status_code == 403
    assert "LTI_ROLE_FORBIDDEN" in page.get_data(as_text=True)
    # A POST with a valid form token of the learner's own session is refused too.
    depot = learner.get(f"/lti/essai/depot?lt={token}").get_data(as_text=True)
    response = learner.post("/lti/essai/evaluation", data=_form_fields(depot))
    assert response.status_code == 403
    assert "LTI_ROLE_FORBIDDEN" in response.get_data(as_text=True)
    assert "grade saved" not in response.get_data(as_text=True)


def test_instructor_reaches_the_staff_url_but_not_the_learner_one(
    probed: Flask, canvas: TestPlatform
) -> None:
    instructor = Browser(probed.test_client())
    token = landing_token(instructor.launch(canvas, "instructor"))
    form = instructor.get(f"/lti/essai/evaluation?lt={token}").get_data(as_text=True)
    response = instructor.post("/lti/essai/evaluation", data=_form_fields(form))
    assert response.get_data(as_text=True) == "grade saved"
    assert instructor.get(f"/lti/essai/depot?lt={token}").status_code == 403


def test_a_form_token_of_another_launch_is_refused(
    probed: Flask, moodle: TestPlatform, canvas: TestPlatform
) -> None:
    first = Browser(probed.test_client())
    second = Browser(probed.test_client())
    first_token = landing_token(first.launch(moodle, "instructor"))
    second_token = landing_token(second.launch(canvas, "instructor"))
    stolen = _form_fields(
        first.get(f"/lti/essai/evaluation?lt={first_token}").get_data(as_text=True)
    )
    stolen["lt"] = second_token  # the CSRF token is bound to the first launch
    response = second.post("/lti/essai/evaluation", data=stolen)
    assert response.status_code == 400


def test_pages_need_the_session_token(probed: Flask, moodle: TestPlatform) -> None:
    browser = Browser(probed.test_client())
    token = landing_token(browser.launch(moodle))
    for url in ("/lti/accueil", f"/lti/accueil?lt={token[:-2]}xx", "/lti/essai/depot"):
        response = browser.get(url)
        assert response.status_code == 401, url
        assert "LTI_SESSION_EXPIRED" in response.get_data(as_text=True)


def test_no_cookie_is_needed_after_the_launch(probed: Flask, moodle: TestPlatform) -> None:
    """An iframe whose cookies are blocked: only the token in the URL carries the session."""
    browser = Browser(probed.test_client())
    response = browser.launch(moodle)
    token = landing_token(response)
    cookieless = Browser(probed.test_client(use_cookies=False))
    landing = cookieless.get(f"/lti/activite?lt={token}")
    assert landing.status_code == 200
    assert "Set-Cookie" not in landing.headers
    depot = cookieless.get(f"/lti/essai/depot?lt={token}").get_data(as_text=True)
    assert cookieless.post("/lti/essai/depot", data=_form_fields(depot)).status_code == 200


def test_cookies_do_not_grow_with_launches(probed: Flask, moodle: TestPlatform) -> None:
    """pylti1p3's session storage passes 4 KB after ~20 launches; here the jar stays empty."""
    browser = Browser(probed.test_client())
    for _ in range(25):
        landing_token(browser.launch(moodle))
    jar = browser.client._cookies  # the test client's cookie jar
    assert sum(len(c.value) + len(c.key) for c in jar.values()) == 0


def test_expired_session(probed: Flask, moodle: TestPlatform) -> None:
    browser = Browser(probed.test_client())
    token = landing_token(browser.launch(moodle))
    old = _aged_token(probed, token, 2 * 3600 + 5)
    response = browser.get(f"/lti/activite?lt={old}")
    assert response.status_code == 401
    assert "LTI_SESSION_EXPIRED" in response.get_data(as_text=True)


def test_session_slides(probed: Flask, moodle: TestPlatform, clean_database: Database) -> None:
    browser = Browser(probed.test_client())
    token = landing_token(browser.launch(moodle))
    with clean_database.session() as session:
        before = session.scalar(
            sa.select(CacheEntry.expires_at).where(CacheEntry.key.like("launch:%"))
        )
    recent = browser.get(f"/lti/activite?lt={token}").get_data(as_text=True)
    assert f"lt={token}" in recent  # young token: kept as is
    aged = _aged_token(probed, token, 30 * 60)
    html = browser.get(f"/lti/activite?lt={aged}").get_data(as_text=True)
    fresh = re.search(r"[?&]lt=([^\"&]+)", html)
    assert fresh is not None
    assert fresh.group(1) != aged
    serializer = URLSafeTimedSerializer(probed.config["SECRET_KEY"], salt=SALT)
    _, issued = serializer.loads(fresh.group(1), return_timestamp=True)
    assert time.time() - issued.timestamp() < 5  # re-issued now
    assert browser.get(f"/lti/activite?lt={fresh.group(1)}").status_code == 200
    with clean_database.session() as session:
        after = session.scalar(
            sa.select(CacheEntry.expires_at).where(CacheEntry.key.like("launch:%"))
        )
    assert before is not None
    assert after is not None
    assert after > before


def test_launch_data_gone_means_session_gone(
    probed: Flask, moodle: TestPlatform, clean_database: Database
) -> None:
    browser = Browser(probed.test_client())
    token = landing_token(browser.launch(moodle))
    with clean_database.session() as session:
        session.execute(
            sa.update(CacheEntry)
            .where(CacheEntry.key.like("launch:%"))
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert browser.get(f"/lti/activite?lt={token}").status_code == 401


def test_locale_follows_the_launch(probed: Flask, moodle: TestPlatform) -> None:
    browser = Browser(probed.test_client())

    def english(claims: dict[str, object]) -> None:
        presentation = claims["https://purl.imsglobal.org/spec/lti/claim/launch_presentation"]
        assert isinstance(presentation, dict)
        presentation["locale"] = "en-GB"

    token = landing_token(browser.launch(moodle, change=english))
    html = browser.get(f"/lti/activite?lt={token}", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in html
    assert "Your role in this course" in html
    # The language switch keeps the session.
    assert f'href="?lang=fr&amp;lt={token}"' in html


def test_launch_data_is_stored_server_side_under_a_short_id(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = landing_token(browser.launch(moodle))
    assert len(token) < 80
    with clean_database.session() as session:
        keys = list(
            session.scalars(sa.select(CacheEntry.key).where(CacheEntry.key.like("launch:%")))
        )
    assert len(keys) == 1
    assert len(keys[0]) == len("launch:") + 16


def _landing_link_token(html: str) -> str:
    found = re.search(r"[?&]lt=([^\"&]+)", html)
    assert found is not None
    return found.group(1)


def test_item8_refreshing_never_carries_a_session_past_a_working_day(
    probed: Flask, moodle: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Active all day, the session still ends 10 hours after the launch (the default)."""
    browser = Browser(probed.test_client())
    token = landing_token(browser.launch(moodle))
    launched = time.time()
    clock = [launched]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    for minutes in range(50, 10 * 60, 50):  # a visit every 50 minutes: never idle for 2 hours
        clock[0] = launched + minutes * 60
        page = browser.get(f"/lti/activite?lt={token}")
        assert page.status_code == 200, minutes
        fresh = _landing_link_token(page.get_data(as_text=True))
        assert fresh != token  # each visit slid the token
        token = fresh
    depot = browser.get(f"/lti/essai/depot?lt={token}").get_data(as_text=True)
    clock[0] = launched + 10 * 3600 + 60  # 10 minutes after the last visit, past the day
    response = browser.get(f"/lti/activite?lt={token}")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "LTI_SESSION_EXPIRED" in html
    assert "Rouvrez l’activité depuis la plateforme" in html
    # The form of a page opened just before is refused too: its token named the session.
    late = browser.post("/lti/essai/depot", data=_form_fields(depot))
    assert late.status_code == 400
    assert "work submitted" not in late.get_data(as_text=True)


def test_item8_the_limit_follows_the_setting(
    settings: Settings,
    clean_database: Database,
    moodle: TestPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(
        dataclasses.replace(settings, session_max_hours=2),
        database=clean_database,
        jwks_fetcher=loopback_key_sets(),
    )
    with clean_database.session() as session:
        moodle.register(session)
    browser = Browser(app.test_client())
    english = browser.launch(moodle, change=_english)
    token = landing_token(english)
    launched = time.time()
    monkeypatch.setattr(time, "time", lambda: launched + 100 * 60)
    token = _landing_link_token(browser.get(f"/lti/activite?lt={token}").get_data(as_text=True))
    assert browser.get(f"/lti/activite?lt={token}").status_code == 200
    monkeypatch.setattr(time, "time", lambda: launched + 2 * 3600 + 5)
    # The session is gone, so its locale with it: the browser's language speaks.
    response = browser.get(f"/lti/activite?lt={token}", headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert "Open the activity again from the platform" in response.get_data(as_text=True)


def _english(claims: dict[str, object]) -> None:
    presentation = claims["https://purl.imsglobal.org/spec/lti/claim/launch_presentation"]
    assert isinstance(presentation, dict)
    presentation["locale"] = "en-GB"


@pytest.mark.parametrize("value", ["0", "25", "ten", "-1", "1.5"])
def test_item8_session_max_hours_is_checked(value: str) -> None:
    with pytest.raises(ConfigError, match="JALON_SESSION_MAX_HOURS"):
        Settings.from_env({"JALON_SECRET_KEY": "x" * 20, "JALON_SESSION_MAX_HOURS": value})
    assert Settings.from_env({"JALON_SECRET_KEY": "x" * 20}).session_max_hours == 10
    assert (
        Settings.from_env(
            {"JALON_SECRET_KEY": "x" * 20, "JALON_SESSION_MAX_HOURS": "24"}
        ).session_max_hours
        == 24
    )
