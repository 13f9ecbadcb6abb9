"""An issuer typed with a trailing slash is normalised; a refusal names the issuer."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from werkzeug.test import TestResponse

from lti_tool.cli import main
from lti_tool.db import Database
from lti_tool.models import Platform
from lti_tool.registration import PlatformFields, normalise_issuer, validate_platform
from tests.lti_tool.lti.platforms import Browser, JwksServer, TestPlatform, landing_token


@pytest.fixture
def moodle_in_a_folder(key_server: JwksServer) -> TestPlatform:
    """A Moodle served from a folder: its issuer (wwwroot) has a path."""
    return TestPlatform(
        kind="moodle",
        issuer="https://example.edu/moodle",
        client_id="F0ld3rM00dle",
        deployment_id="1",
        server=key_server,
        name="moodle-folder",
    )


def _add(tmp_path: Path, database_url: str, platform: TestPlatform, issuer: str) -> str:
    result = CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_BASE_URL": "https://jalon.test",
            "JALON_SECRET_KEY": "",
        }
    ).invoke(
        main,
        [
            "platform", "add",
            "--issuer", issuer,
            "--client-id", platform.client_id,
            "--auth-login-url", platform.auth_login_url,
            "--auth-token-url", f"{platform.issuer}/mod/lti/token.php",
            "--jwks-url", platform.jwks_url,
            "--deployment-id", platform.deployment_id,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def _refused(response: TestResponse, code: str) -> str:
    html = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, html
    assert f'<code class="code">{code}</code>' in html, html
    return html


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://moodle.example.edu/", "https://moodle.example.edu"),
        ("  https://moodle.example.edu/ ", "https://moodle.example.edu"),
        ("https://example.edu/moodle/", "https://example.edu/moodle"),
        ("https://example.edu/moodle", "https://example.edu/moodle"),
        ("https://canvas.instructure.com", "https://canvas.instructure.com"),
    ],
)
def test_item1_issuer_is_normalised(typed: str, stored: str) -> None:
    assert normalise_issuer(typed) == stored
    fields = PlatformFields(
        issuer=typed,
        client_id="c",
        auth_login_url="https://lms.example.edu/auth",
        auth_token_url="https://lms.example.edu/token",
        key_set_url="https://lms.example.edu/jwks",
    )
    assert validate_platform(fields).issuer == stored


@pytest.mark.parametrize("fixture", ["moodle", "moodle_in_a_folder"])
def test_item1_platform_add_with_a_trailing_slash_then_launches_land(
    request: pytest.FixtureRequest,
    app: Flask,
    clean_database: Database,
    database_url: str,
    tmp_path: Path,
    fixture: str,
) -> None:
    platform: TestPlatform = request.getfixturevalue(fixture)
    output = _add(tmp_path, database_url, platform, platform.issuer + "/")
    assert f"registered {platform.issuer} " in output
    with clean_database.session() as session:
        assert session.scalars(sa.select(Platform.issuer)).all() == [platform.issuer]
    browser = Browser(app.test_client())
    token = landing_token(browser.launch(platform, "learner"))
    assert browser.get("/lti/activite", query_string={"lt": token}).status_code == 200
    # The same issuer typed again, with or without the slash, is the same registration.
    again = CliRunner(
        env={"JALON_DATABASE_URL": database_url, "JALON_INSTANCE_PATH": str(tmp_path)}
    ).invoke(
        main,
        ["platform", "remove", "--issuer", platform.issuer + "/", "--client-id",
         platform.client_id],
    )  # fmt: skip
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize("stage", ["login", "launch"])
def test_item1_issuer_differing_by_a_slash_is_refused_naming_both(
    app: Flask, clean_database: Database, moodle: TestPlatform, stage: str
) -> None:
    """A registration stored with the slash (before normalisation), a platform without."""
    sent = moodle.issuer
    moodle.issuer = sent + "/"
    with clean_database.session() as session:
        moodle.register(session)
    moodle.issuer = sent
    browser = Browser(app.test_client())
    if stage == "login":
        response = browser.login(moodle).response
    else:
        # The login named the registered issuer; the token carries the one without slash.
        login = browser.login(moodle, iss=sent + "/")
        assert login.response.status_code == 302, login.response.get_data(as_text=True)
        response = browser.post_token(moodle.sign(moodle.claims(login.nonce)), login.state)
    html = _refused(response, "LTI_ISSUER_TRAILING_SLASH")
    assert f"<code>{sent} ≠ {sent}/</code>" in html


def test_item1_unknown_issuer_refusal_names_the_issuer(
    app: Flask, clean_database: Database, moodle: TestPlatform
) -> None:
    browser = Browser(app.test_client())
    html = _refused(browser.login(moodle).response, "LTI_UNKNOWN_ISSUER")
    assert f"<code>{moodle.issuer}</code>" in html


def test_item1_token_issuer_mismatch_names_both(
    app: Flask, clean_database: Database, moodle: TestPlatform, canvas: TestPlatform
) -> None:
    with clean_database.session() as session:
        moodle.register(session)
        canvas.register(session)
    browser = Browser(app.test_client())
    login = browser.login(moodle)
    claims = moodle.claims(login.nonce)
    claims["iss"] = canvas.issuer
    html = _refused(browser.post_token(moodle.sign(claims), login.state), "LTI_ISSUER_MISMATCH")
    assert f"<code>{canvas.issuer} ≠ {moodle.issuer}</code>" in html
