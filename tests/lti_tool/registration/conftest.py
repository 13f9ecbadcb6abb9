"""Fixtures of the registration tests: fake platforms, an admin app, stored rows."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.dynamic_registration import OutboundPlatformHttp
from lti_tool.frameworks import install_bundled
from lti_tool.models import Platform
from tests.fake_dns import LOOPBACK
from tests.lti_tool.registration.fake_platform import FakePlatform
from xapi.outbound import OutboundHttp

ADMIN_TOKEN = "admin-token-0123456789-abcdef"  # noqa: S105 (a test value)


@pytest.fixture
def moodle() -> Iterator[FakePlatform]:
    with FakePlatform("moodle") as platform:
        yield platform


@pytest.fixture
def canvas() -> Iterator[FakePlatform]:
    with FakePlatform("canvas") as platform:
        yield platform


def loopback_http() -> OutboundPlatformHttp:
    """The real transport, allowed to reach the fake platforms served on 127.0.0.1.

    The apps of these tests have a public base URL (https://jalon.test), under which Jalon
    refuses private addresses; the fake platforms only exist on loopback, so these tests use
    the policy of a Jalon served on loopback (the demo's).
    """
    return OutboundPlatformHttp(OutboundHttp(LOOPBACK))


@pytest.fixture
def app(settings: Settings, clean_database: Database) -> Flask:
    app = create_app(settings, database=clean_database, registration_http=loopback_http())
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
    return app


@pytest.fixture
def admin_app(settings: Settings, clean_database: Database) -> Flask:
    app = create_app(
        dataclasses.replace(settings, admin_token=ADMIN_TOKEN),
        database=clean_database,
        registration_http=loopback_http(),
    )
    app.config["TESTING"] = True
    return app


@pytest.fixture
def admin(admin_app: Flask) -> FlaskClient:
    """A client signed in as the Jalon administrator."""
    client = admin_app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    signed_in = client.post(
        "/admin/connexion", data={"token": ADMIN_TOKEN, "csrf_token": csrf_token(form)}
    )
    assert signed_in.status_code == 302
    return client


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no form with a CSRF field"
    return match.group(1)


def stored(database: Database) -> list[tuple[str, str, list[str]]]:
    """Return every stored platform as (issuer, client id, deployment ids)."""
    with database.session() as session:
        platforms = session.scalars(sa.select(Platform).order_by(Platform.id))
        return [
            (p.issuer, p.client_id, [d.deployment_id for d in p.deployments]) for p in platforms
        ]
