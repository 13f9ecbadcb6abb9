"""Shared fixtures: settings, a migrated database, the app and its client.

The suite runs on SQLite by default; set ``JALON_TEST_DATABASE_URL`` (as ``.ci/run``
does) to run the same tests against PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings

from lti_tool import create_app, migrations
from lti_tool.config import Settings
from lti_tool.db import Base, Database
from lti_tool.evaluation import models as _evaluation_models  # noqa: F401 (tables)
from lti_tool.privacy import models as _privacy_models  # noqa: F401 (tables)
from lti_tool.frameworks import install_bundled
from lti_tool.lti.tool_config import RegistrationCache
from tests.fake_dns import loopback_key_sets, public_dns
from xapi import outbox

# The Chromium, live server and axe-core fixtures of every page test.
pytest_plugins = ["tests.browser"]

# Property tests check properties, not speed: no per-example deadline, which on this shared
# 2-core machine failed examples that merely waited for the CPU (a timed assertion in all
# but name; benchmarks live in bench/).
hypothesis_settings.register_profile("jalon", deadline=None)
hypothesis_settings.load_profile("jalon")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BASE_URL = "https://jalon.test"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("JALON_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'jalon.db'}"
    else:
        migrations.downgrade(url, "base")
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def clean_database(database: Database) -> Iterator[Database]:
    """Give a migrated database and empty it afterwards."""
    yield database
    with database.engine.begin() as connection:
        for table in [*reversed(Base.metadata.sorted_tables), outbox.outbox]:
            connection.execute(sa.delete(table))
    # Emptied behind the ORM's back: no app of this process may remember a registration.
    RegistrationCache.clear_all()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        secret_key="test-secret-key-0123456789",
        database_url=database_url,
        base_url=BASE_URL,
        instance_path=tmp_path,
    )


@pytest.fixture
def app(settings: Settings, clean_database: Database) -> Flask:
    # No test LMS host resolves: a page that calls an LMS service (roster, gradebook
    # columns) gets OUTBOUND_ADDRESS at once, and no DNS query leaves the machine.
    app = create_app(
        settings,
        database=clean_database,
        jwks_fetcher=loopback_key_sets(),
        outbound_resolver=public_dns(),
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
