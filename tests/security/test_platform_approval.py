"""Item 3: a platform registered without an administrator waits for one before launching.

Dynamic Registration (``/lti/register`` is public) and the admin form store a *pending*
platform, whose logins and launches are refused with ``LTI_PLATFORM_PENDING`` and leave
nothing behind; an administrator activates it (admin page, ``jalon platform activate``),
or hands out a single-use, expiring invitation link (``jalon platform invite``) through
which the registration is active at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.cli.platforms import platform as platform_cli
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from lti_tool.models import LtiContext, LtiUser, Platform, PlatformStatus, RegistrationInvite
from lti_tool.registration import invite_token_hash
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.conftest import counts
from tests.lti_tool.lti.platforms import Browser, JwksServer, TestPlatform, jwks_server
from tests.lti_tool.lti.test_rejections import _refused
from tests.lti_tool.registration.conftest import csrf_token, loopback_http
from tests.lti_tool.registration.fake_platform import FakePlatform

TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)
PENDING = "LTI_PLATFORM_PENDING"


@pytest.fixture(scope="module")
def keys() -> Iterator[JwksServer]:
    with jwks_server() as server:
        yield server


@pytest.fixture
def lms(keys: JwksServer) -> TestPlatform:
    return TestPlatform(
        kind="moodle",
        issuer="https://moodle.approval.example.edu",
        client_id="ApPr0v4lCl1ent",
        deployment_id="1",
        server=keys,
        name="approval",
    )


@pytest.fixture
def fake_moodle() -> Iterator[FakePlatform]:
    with FakePlatform("moodle") as platform:
        yield platform


@pytest.fixture
def jalon_app(settings: Settings, clean_database: Database) -> Flask:
    app = create_app(
        dataclasses.replace(settings, admin_token=TOKEN),
        database=clean_database,
        registration_http=loopback_http(),
        jwks_fetcher=loopback_key_sets(),
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
    return app


@pytest.fixture
def admin(jalon_app: Flask) -> FlaskClient:
    client = jalon_app.test_client()
    page = client.get("/admin/connexion").get_data(as_text=True)
    response = client.post(
        "/admin/connexion", data={"token": TOKEN, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    return client


def _status(database: Database, issuer: str) -> str:
    with database.session() as session:
        return session.scalars(sa.select(Platform.status).where(Platform.issuer == issuer)).one()


def _set_status(database: Database, issuer: str, status: PlatformStatus) -> None:
    with database.session() as session:
        platform = session.scalars(sa.select(Platform).where(Platform.issuer == issuer)).one()
        platform.status = status


def _register_dynamically(
    client: FlaskClient, platform: FakePlatform, path: str = "/lti/register"
) -> tuple[int, str]:
    asked = {
        "openid_configuration": platform.configuration_url,
        "registration_token": platform.token,
    }
    page = client.get(path, query_string=asked)
    if page.status_code != 200:
        return page.status_code, page.get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)"', page.get_data(as_text=True))
    assert form, "the confirmation page has no form"
    action = form.group(1).replace("&amp;", "&")
    data = {**asked, "csrf_token": csrf_token(page.get_data(as_text=True))}
    done = client.post(action, data=data)
    return done.status_code, done.get_data(as_text=True)


def _as_launching_platform(fake: FakePlatform, keys: JwksServer) -> TestPlatform:
    """The platform a Dynamic Registration stored, as it starts a launch (login only)."""
    return TestPlatform(
        kind="moodle",
        issuer=fake.issuer,
        client_id=fake.client_id,
        deployment_id=fake.deployment_id,
        server=keys,
        name="fake",
    )


# --- pending platforms are refused ------------------------------------------------------


def test_item3_a_pending_platform_is_refused_at_login_and_nothing_is_written(
    jalon_app: Flask, clean_database: Database, lms: TestPlatform
) -> None:
    with clean_database.session() as session:
        lms.register(session).status = PlatformStatus.PENDING
    before = counts(clean_database)
    login = Browser(jalon_app.test_client()).login(lms)
    _refused(login.response, PENDING)
    assert login.response.status_code == 403
    page = login.response.get_data(as_text=True)
    assert "jalon platform activate" in page
    assert "Set-Cookie" not in login.response.headers
    assert counts(clean_database) == before


def test_item3_a_platform_set_pending_after_the_login_is_refused_at_launch(
    jalon_app: Flask, clean_database: Database, lms: TestPlatform
) -> None:
    with clean_database.session() as session:
        lms.register(session)
    browser = Browser(jalon_app.test_client())
    login = browser.login(lms)
    assert login.response.status_code == 302
    _set_status(clean_database, lms.issuer, PlatformStatus.PENDING)
    before = counts(clean_database)
    response = browser.post_token(lms.sign(lms.claims(login.nonce)), login.state)
    _refused(response, PENDING)
    assert counts(clean_database) == before
    json = browser.post(
        "/lti/launch",
        data={"id_token": lms.sign(lms.claims(login.nonce)), "state": login.state},
        headers={"Accept": "application/json"},
    )
    assert json.get_json()["error"]["code"] == PENDING


def test_item3_the_refusal_is_worded_in_english_too(
    jalon_app: Flask, clean_database: Database, lms: TestPlatform
) -> None:
    with clean_database.session() as session:
        lms.register(session).status = PlatformStatus.PENDING
    browser = Browser(jalon_app.test_client())
    response = browser.client.post(
        "/lti/login?lang=en", data=lms.login_params(), base_url="https://jalon.test"
    )
    page = response.get_data(as_text=True)
    assert "waiting for a Jalon administrator’s approval" in page
    assert "jalon platform activate" in page


# --- Dynamic Registration without an invitation: pending --------------------------------


def test_item3_dynamic_registration_stores_a_pending_platform(
    jalon_app: Flask, clean_database: Database, fake_moodle: FakePlatform, keys: JwksServer
) -> None:
    client = jalon_app.test_client()
    status, page = _register_dynamically(client, fake_moodle)
    assert status == 200, page
    assert PENDING in page
    assert _status(clean_database, fake_moodle.issuer) == "pending"
    login = Browser(client).login(_as_launching_platform(fake_moodle, keys))
    _refused(login.response, PENDING)


# --- activation -------------------------------------------------------------------------


def test_item3_admin_form_adds_pending_then_activate_lets_launches_through(
    admin: FlaskClient, jalon_app: Flask, clean_database: Database, lms: TestPlatform
) -> None:
    page = admin.get("/admin/plateformes/").get_data(as_text=True)
    added = admin.post(
        "/admin/plateformes/",
        data={
            "name": "Moodle à approuver",
            "issuer": lms.issuer,
            "client_id": lms.client_id,
            "auth_login_url": lms.auth_login_url,
            "auth_token_url": f"{lms.issuer}/mod/lti/token.php",
            "key_set_url": lms.jwks_url,
            "deployment_ids": lms.deployment_id,
            "csrf_token": csrf_token(page),
        },
    )
    assert added.status_code == 302
    assert _status(clean_database, lms.issuer) == "pending"
    browser = Browser(jalon_app.test_client())
    _refused(browser.login(lms).response, PENDING)

    listing = admin.get("/admin/plateformes/").get_data(as_text=True)
    action = re.search(r'action="(/admin/plateformes/\d+/activer)"', listing)
    assert action, "a pending platform has an activation form"
    assert "Activer Moodle à approuver" in listing
    # A POST without the form's CSRF token (another site's) activates nothing.
    assert admin.post(action.group(1)).status_code == 400
    assert _status(clean_database, lms.issuer) == "pending"
    # Nor does an anonymous one.
    anonymous = jalon_app.test_client().post(action.group(1), data={"csrf_token": "x"})
    assert anonymous.status_code in {302, 400}
    assert _status(clean_database, lms.issuer) == "pending"

    activated = admin.post(action.group(1), data={"csrf_token": csrf_token(listing)})
    assert activated.status_code == 302
    assert _status(clean_database, lms.issuer) == "active"
    listing = admin.get("/admin/plateformes/").get_data(as_text=True)
    assert "Plateforme « Moodle à approuver » activée" in listing
    assert "/activer" not in listing
    response = browser.launch(lms)
    assert response.status_code == 303, response.get_data(as_text=True)
    with clean_database.session() as session:
        platform = session.scalars(sa.select(Platform)).one()
        assert platform.activated_at is not None


@pytest.fixture
def jalon_cli(tmp_path: Path, database_url: str, clean_database: Database):  # type: ignore[no-untyped-def]
    runner = CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_BASE_URL": "https://jalon.test",
            "JALON_SECRET_KEY": "",
        }
    )

    def run(*args: str) -> Result:
        return runner.invoke(platform_cli, list(args))

    return run


def test_item3_cli_activate(  # type: ignore[no-untyped-def]
    jalon_app: Flask, clean_database: Database, lms: TestPlatform, jalon_cli
) -> None:
    with clean_database.session() as session:
        lms.register(session).status = PlatformStatus.PENDING
    browser = Browser(jalon_app.test_client())
    _refused(browser.login(lms).response, PENDING)
    assert jalon_cli("list").output.endswith("\tpending\n")

    who = ["--issuer", lms.issuer, "--client-id", lms.client_id]
    result = jalon_cli("activate", *who)
    assert result.exit_code == 0, result.output
    assert result.output == f"activated {lms.issuer} (client id {lms.client_id})\n"
    assert _status(clean_database, lms.issuer) == "active"
    # The command ran in this process, whose registration cache was emptied at once; a
    # server process sees it within JALON_REGISTRATION_CACHE_SECONDS.
    assert browser.launch(lms).status_code == 303
    again = jalon_cli("activate", *who)
    assert again.exit_code == 0
    assert again.output.startswith("already active:")
    unknown = jalon_cli("activate", "--issuer", lms.issuer, "--client-id", "nope")
    assert unknown.exit_code == 1
    assert "--client-id: no platform is registered" in unknown.output


# --- invitations ------------------------------------------------------------------------


def _invite(jalon_cli, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = jalon_cli("invite", *args)
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://jalon.test/lti/register/")
    return url.removeprefix("https://jalon.test")


def test_item3_an_invitation_registers_an_active_platform_once(  # type: ignore[no-untyped-def]
    jalon_app: Flask,
    clean_database: Database,
    fake_moodle: FakePlatform,
    keys: JwksServer,
    jalon_cli,
) -> None:
    path = _invite(jalon_cli, "--hours", "2", "--note", "Moodle de l’IUT")
    token = path.rsplit("/", 1)[1]
    with clean_database.session() as session:
        invite = session.scalars(sa.select(RegistrationInvite)).one()
        # Only a hash is kept; the link was shown once.
        assert invite.token_hash == invite_token_hash(token)
        assert token not in invite.token_hash
        assert invite.note == "Moodle de l’IUT"
        assert dt.timedelta(hours=2) - (invite.expires_at - invite.created_at) < dt.timedelta(
            seconds=5
        )

    client = jalon_app.test_client()
    status, page = _register_dynamically(client, fake_moodle, path)
    assert status == 200, page
    assert PENDING not in page
    assert _status(clean_database, fake_moodle.issuer) == "active"
    with clean_database.session() as session:
        invite = session.scalars(sa.select(RegistrationInvite)).one()
        platform = session.scalars(sa.select(Platform)).one()
        assert invite.used_at is not None
        assert invite.platform_id == platform.id
    login = Browser(client).login(_as_launching_platform(fake_moodle, keys))
    assert login.response.status_code == 302

    # The same link again (here by another platform): refused before anything is sent.
    with FakePlatform("moodle") as other:
        status, page = _register_dynamically(jalon_app.test_client(), other, path)
        assert status == 410
        assert "<code>invite_invalid</code>" in page
        assert other.requests == []


def test_item3_an_expired_invitation_is_refused(  # type: ignore[no-untyped-def]
    jalon_app: Flask, clean_database: Database, fake_moodle: FakePlatform, jalon_cli
) -> None:
    path = _invite(jalon_cli)
    with clean_database.session() as session:
        session.execute(
            sa.update(RegistrationInvite).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
    status, page = _register_dynamically(jalon_app.test_client(), fake_moodle, path)
    assert status == 410
    assert "expiré ou a déjà servi" in page
    assert fake_moodle.requests == []
    with clean_database.session() as session:
        assert session.scalars(sa.select(Platform)).all() == []


def test_item3_an_invitation_used_between_the_pages_is_refused_at_confirmation(  # type: ignore[no-untyped-def]
    jalon_app: Flask, clean_database: Database, fake_moodle: FakePlatform, jalon_cli
) -> None:
    path = _invite(jalon_cli)
    client = jalon_app.test_client()
    asked = {
        "openid_configuration": fake_moodle.configuration_url,
        "registration_token": fake_moodle.token,
    }
    page = client.get(path, query_string=asked).get_data(as_text=True)
    with clean_database.session() as session:
        session.execute(sa.update(RegistrationInvite).values(used_at=dt.datetime.now(dt.UTC)))
    done = client.post(path, data={**asked, "csrf_token": csrf_token(page)})
    assert done.status_code == 410
    # Nothing was posted to the platform's registration endpoint, nothing stored.
    assert all(method == "GET" for method, _path, _auth in fake_moodle.requests)
    with clean_database.session() as session:
        assert session.scalars(sa.select(Platform)).all() == []


def test_item3_a_failed_registration_leaves_the_invitation_usable(  # type: ignore[no-untyped-def]
    jalon_app: Flask, clean_database: Database, fake_moodle: FakePlatform, jalon_cli
) -> None:
    from tests.lti_tool.registration.fake_platform import Answer

    path = _invite(jalon_cli)
    fake_moodle.registration_answer = Answer(400, b"invalid_response_types", "text/plain")
    status, _page = _register_dynamically(jalon_app.test_client(), fake_moodle, path)
    assert status == 424
    with clean_database.session() as session:
        assert session.scalars(sa.select(RegistrationInvite.used_at)).one() is None
    fake_moodle.registration_answer = None
    status, page = _register_dynamically(jalon_app.test_client(), fake_moodle, path)
    assert status == 200, page
    assert _status(clean_database, fake_moodle.issuer) == "active"


def test_item3_a_made_up_invitation_is_refused(jalon_app: Flask, fake_moodle: FakePlatform) -> None:
    path = "/lti/register/Zm9yZ2VkLWludml0YXRpb24tdG9rZW4"
    status, page = _register_dynamically(jalon_app.test_client(), fake_moodle, path)
    assert status == 410
    assert "<code>invite_invalid</code>" in page
    assert fake_moodle.requests == []


def test_item3_invite_hours_are_bounded(jalon_cli) -> None:  # type: ignore[no-untyped-def]
    for hours in ("0", "169", "abc"):
        result = jalon_cli("invite", "--hours", hours)
        assert result.exit_code == 2
        assert "--hours" in result.output


def _second_client_of(database: Database, issuer: str) -> None:
    """An active platform of ``issuer`` with a course and two people, then a pending one."""
    with database.session() as session:
        session.add_all(
            [
                Platform(
                    issuer=issuer,
                    client_id="first",
                    name="First",
                    auth_login_url=f"{issuer}/login",
                    auth_token_url=f"{issuer}/token",
                    key_set_url=f"{issuer}/keys/first",
                    status=PlatformStatus.ACTIVE,
                ),
                Platform(
                    issuer=issuer,
                    client_id="second",
                    name="Second",
                    auth_login_url=f"{issuer}/login",
                    auth_token_url=f"{issuer}/token",
                    key_set_url="https://elsewhere.example/keys",
                    status=PlatformStatus.PENDING,
                ),
                LtiContext(issuer=issuer, deployment_id="1", context_id="course-v1:X"),
                LtiUser(issuer=issuer, sub="learner-1"),
                LtiUser(issuer=issuer, sub="learner-2"),
            ]
        )


def test_activating_a_second_client_of_a_known_issuer_warns_what_it_opens(
    admin: FlaskClient, clean_database: Database
) -> None:
    _second_client_of(clean_database, "https://lms.example.edu")
    page = admin.get("/admin/plateformes/").get_data(as_text=True)
    assert "Cet émetteur est déjà connu de Jalon : 1 cours et 2 personnes." in page
    assert "<code>https://lms.example.edu/keys/first</code>" in page  # to compare with
    assert page.count('class="warning"') == 1  # the active one gets none


def test_the_cli_activates_a_second_client_of_a_known_issuer_only_when_told_it_is_the_same_lms(  # type: ignore[no-untyped-def]
    clean_database: Database, jalon_cli
) -> None:
    issuer = "https://lms.example.edu"
    _second_client_of(clean_database, issuer)
    refused = jalon_cli("activate", "--issuer", issuer, "--client-id", "second")
    assert refused.exit_code == 1
    assert "1 course(s) and 2 person(s)" in refused.output
    assert "https://elsewhere.example/keys" in refused.output
    assert "--same-lms" in refused.output
    with clean_database.session() as session:
        status = session.scalars(sa.select(Platform.status).where(Platform.client_id == "second"))
        assert status.one() == PlatformStatus.PENDING
    done = jalon_cli("activate", "--issuer", issuer, "--client-id", "second", "--same-lms")
    assert done.exit_code == 0, done.output
    with clean_database.session() as session:
        status = session.scalars(sa.select(Platform.status).where(Platform.client_id == "second"))
        assert status.one() == PlatformStatus.ACTIVE
