"""The per-process registration cache: fast logins, and changes that take effect."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.config import ConfigError, Settings
from lti_tool.db import Database
from lti_tool.lti import services
from lti_tool.lti.tool_config import RegisteredPlatform, RegistrationCache
from lti_tool.models import Deployment, Platform
from lti_tool.registration import remove_deployment, remove_platform
from tests.lti_tool.lti.conftest import counts
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token
from tests.lti_tool.lti.test_rejections import _refused

ISS = "https://moodle.example.edu"
ONE = RegisteredPlatform(
    1, ISS, "client", "Moodle", "https://m/auth", "https://m/token", "https://m/certs",
    None, "moodle", frozenset({"1"}), "active",
)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("lti_tool.lti.tool_config.time.monotonic", clock)
    return clock


def test_an_entry_lives_for_its_time_to_live(clock: Clock) -> None:
    cache = RegistrationCache(10)
    cache.put(ISS, [ONE], cache.generation)
    assert cache.get(ISS) == [ONE]
    clock.now += 9.9
    assert cache.get(ISS) == [ONE]
    clock.now += 0.2
    assert cache.get(ISS) is None


def test_an_unknown_issuer_is_not_remembered() -> None:
    cache = RegistrationCache(10)
    cache.put(ISS, [], cache.generation)
    assert cache.get(ISS) is None


def test_a_time_to_live_of_zero_keeps_nothing() -> None:
    cache = RegistrationCache(0)
    cache.put(ISS, [ONE], cache.generation)
    assert cache.get(ISS) is None


def test_a_read_that_began_before_a_change_is_not_kept() -> None:
    cache = RegistrationCache(10)
    generation = cache.generation  # a read begins…
    RegistrationCache.clear_all()  # …a registration changes in this process…
    cache.put(ISS, [ONE], generation)  # …and what the read found is already old.
    assert cache.get(ISS) is None


def test_the_cache_holds_a_bounded_number_of_issuers() -> None:
    cache = RegistrationCache(10)
    for n in range(RegistrationCache.MAX_ISSUERS + 5):
        cache.put(f"https://lms{n}.example", [ONE], cache.generation)
    assert len(cache._entries) <= RegistrationCache.MAX_ISSUERS


# Through launches ------------------------------------------------------------------------


def _platform(database: Database, platform: TestPlatform) -> Platform:
    with database.session() as session:
        found = session.scalar(
            sa.select(Platform).filter_by(issuer=platform.issuer, client_id=platform.client_id)
        )
        assert found is not None
        session.expunge(found)
        return found


def test_a_login_reads_no_registration_once_cached(
    registered: Flask, browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    landing_token(browser.launch(moodle))
    statements: list[str] = []

    def note(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(clean_database.engine, "before_cursor_execute", note)
    try:
        assert browser.login(moodle).response.status_code == 302
    finally:
        sa.event.remove(clean_database.engine, "before_cursor_execute", note)
    assert statements == []


def test_a_platform_removed_in_this_process_is_refused_at_once(
    registered: Flask, browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    landing_token(browser.launch(moodle))  # the registration is now cached
    with clean_database.session() as session:
        platform = session.scalar(sa.select(Platform).filter_by(issuer=moodle.issuer))
        assert platform is not None
        remove_platform(session, platform)
    response = browser.login(moodle)
    _refused(response.response, "LTI_UNKNOWN_ISSUER")


def test_a_deployment_removed_in_this_process_is_refused_at_once(
    registered: Flask, browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    landing_token(browser.launch(moodle))
    login = browser.login(moodle)  # started while the deployment was there
    with clean_database.session() as session:
        platform = session.scalar(sa.select(Platform).filter_by(issuer=moodle.issuer))
        assert platform is not None
        remove_deployment(session, platform, moodle.deployment_id)
    before = counts(clean_database)
    token = moodle.sign(moodle.claims(login.nonce))
    _refused(browser.post_token(token, login.state), "LTI_UNKNOWN_DEPLOYMENT")
    _refused(browser.login(moodle).response, "LTI_UNKNOWN_DEPLOYMENT")
    assert counts(clean_database) == before


def test_a_change_made_by_another_process_is_seen_within_the_time_to_live(
    registered: Flask,
    browser: Browser,
    clean_database: Database,
    moodle: TestPlatform,
    clock: Clock,
) -> None:
    """Another process's change cannot reach this one's ORM events: only time does."""
    landing_token(browser.launch(moodle))
    platform = _platform(clean_database, moodle)
    with clean_database.engine.begin() as connection:  # as the CLI of another process would
        connection.execute(sa.delete(Deployment).where(Deployment.platform_id == platform.id))
        connection.execute(sa.delete(Platform).where(Platform.id == platform.id))
    ttl = registered.config["JALON"].registration_cache_seconds
    assert ttl == 10
    clock.now += ttl - 1
    assert browser.login(moodle).response.status_code == 302  # still remembered
    clock.now += 2
    _refused(browser.login(moodle).response, "LTI_UNKNOWN_ISSUER")


def test_a_new_registration_works_at_once(
    app: Flask, clean_database: Database, moodle: TestPlatform
) -> None:
    browser = Browser(app.test_client())
    _refused(browser.login(moodle).response, "LTI_UNKNOWN_ISSUER")
    with clean_database.session() as session:
        moodle.register(session)
    landing_token(browser.launch(moodle))


def test_each_app_has_its_own_cache(registered: Flask, settings: Settings) -> None:
    from lti_tool import create_app

    other = create_app(settings)
    with registered.app_context():
        first = services().registrations
    with other.app_context():
        second = services().registrations
    assert first is not second


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("30", 30), ("300", 300)])
def test_the_time_to_live_is_configured(text: str, seconds: int) -> None:
    environ = {"JALON_SECRET_KEY": "x" * 20, "JALON_REGISTRATION_CACHE_SECONDS": text}
    assert Settings.from_env(environ).registration_cache_seconds == seconds


@pytest.mark.parametrize("text", ["-1", "301", "ten", "1.5"])
def test_a_bad_time_to_live_is_refused(text: str) -> None:
    environ = {"JALON_SECRET_KEY": "x" * 20, "JALON_REGISTRATION_CACHE_SECONDS": text}
    with pytest.raises(ConfigError, match="JALON_REGISTRATION_CACHE_SECONDS"):
        Settings.from_env(environ)
