"""Fixtures of the deployment tests: their own PostgreSQL database, Redis, the stack, an LMS.

These tests always run on PostgreSQL and Redis, in both passes of ``.ci/run`` (SQLite and
PostgreSQL): a deployment is what they test, and several app servers need both. They use a
database of their own, ``<the suite's database>_deploy`` (``test_deploy`` in CI), dropped
and created again before the stack starts (whose first step is ``jalon db upgrade``), so
they never touch the ``test`` database the rest of the suite empties as it goes.

Settings: ``JALON_TEST_DEPLOY_DATABASE_URL`` (the whole URL), ``JALON_TEST_REDIS_URL``,
``JALON_TEST_DEPLOY_PORT`` (first of the ports to use; free ports otherwise).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lti_tool.db import Database
from tests.deploy.lms import TestLms
from tests.deploy.stack import NGINX, Stack

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def missing(what: str) -> None:
    """Skip, naming what is missing; in CI, fail: CI must provide it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must provide it: .ci/run)")
    pytest.skip(what)


def deploy_database_url() -> str:
    """Return the URL of the deployment tests' own database (see the module's docstring)."""
    given = os.environ.get("JALON_TEST_DEPLOY_DATABASE_URL")
    if given:
        return given
    suite = sa.engine.make_url(os.environ.get("JALON_TEST_DATABASE_URL") or f"{PG_SERVER}test")
    if suite.get_backend_name() != "postgresql":
        suite = sa.engine.make_url(f"{PG_SERVER}test")
    return suite.set(database=f"{suite.database}_deploy").render_as_string(hide_password=False)


def new_database(url: str) -> None:
    """Drop the database of ``url`` if it exists, and create it (skip without PostgreSQL)."""
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    except sa.exc.OperationalError:
        missing(f"PostgreSQL is not reachable at {target.host}:{target.port}")
    finally:
        admin.dispose()


@pytest.fixture(scope="package")
def database_url() -> str:
    url = deploy_database_url()
    new_database(url)  # whatever an earlier run left
    return url


@pytest.fixture(scope="package")
def redis_url() -> Iterator[str]:
    redis = pytest.importorskip("redis")
    url = os.environ.get("JALON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url, socket_timeout=2.0)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        missing(f"Redis is not reachable at {url}")
    try:
        yield url
    finally:
        for key in client.scan_iter("jalon:*"):
            client.delete(key)
        client.close()


@pytest.fixture(scope="package")
def lms(stack: Stack) -> Iterator[TestLms]:
    """A Moodle on 127.0.0.1 (key set, token, gradebook), registered in Jalon's database."""
    with TestLms.running() as lms:
        database = Database(stack.database_url)
        with database.session() as session:
            lms.platform.register(session)
        database.engine.dispose()
        yield lms


def first_port(offset: int = 0) -> int | None:
    """Return the first port a stack may use (``JALON_TEST_DEPLOY_PORT`` + offset)."""
    given = os.environ.get("JALON_TEST_DEPLOY_PORT")
    return int(given) + offset if given else None


@pytest.fixture(scope="package")
def stack(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str
) -> Iterator[Stack]:
    """nginx with the shipped site in front of two ``jalon serve`` (1 worker × 4 threads)."""
    if NGINX is None:
        missing("nginx is not installed (Debian: apt-get install nginx)")
    folder: Path = tmp_path_factory.mktemp("stack")
    with Stack(
        folder,
        database_url=database_url,
        redis_url=redis_url,
        instances=2,
        workers=1,
        upload_max_mb=1,
        first_port=first_port(),
    ) as stack:
        yield stack
