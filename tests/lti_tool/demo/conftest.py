"""Fixtures of the demo LMS tests: the demo beside a pylti1p3 tool, or beside Jalon itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.demo import DemoServices, InProcessKeySets, register_demo_platform
from lti_tool.demo.context import DemoState
from lti_tool.demo.gradebook import create_line_item
from lti_tool.demo.keys import KEY_FILE, HttpKeySets, KeyPair
from lti_tool.demo.models import Course, Placement
from lti_tool.frameworks import install_bundled
from tests.lti_tool.demo.harness import JALON, TOOL, Browser, PyltiTool, WsgiTransport


def demo_state(app: Flask) -> DemoState:
    state: DemoState = app.extensions["jalon.demo"]
    return state


def place(
    app: Flask,
    *,
    title: str = "E1 — Étude de cas",
    url: str | None = None,
    custom: dict[str, str] | None = None,
    score_maximum: float | None = 20,
    target: str = "window",
) -> int:
    """Put a resource link (and its column) in the demo course, as deep linking would."""
    state = demo_state(app)
    with state.database.session() as session:
        course = session.scalar(sa.select(Course).order_by(Course.id))
        assert course is not None
        placement = Placement(
            course_id=course.id,
            title=title,
            url=url or state.tool.launch_url,
            custom=custom or {},
            document_target=target,
        )
        session.add(placement)
        session.flush()
        if score_maximum is not None:
            create_line_item(
                session,
                course,
                {"label": title, "scoreMaximum": score_maximum},
                placement=placement,
            )
        return placement.id


@pytest.fixture(scope="session")
def keys() -> tuple[KeyPair, KeyPair]:
    """An RSA key for the platform and one for the tool: making one costs ~150 ms."""
    return KeyPair.generate(), KeyPair.generate()


@pytest.fixture
def platform_key(settings: Settings, keys: tuple[KeyPair, KeyPair]) -> KeyPair:
    """Put the demo platform's key in the instance folder, where the demo keeps it."""
    path = settings.instance_path / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(keys[0].private_pem, encoding="ascii")
    return keys[0]


@pytest.fixture
def transport() -> WsgiTransport:
    return WsgiTransport()


@pytest.fixture
def tool(transport: WsgiTransport, keys: tuple[KeyPair, KeyPair]) -> Iterator[PyltiTool]:
    session = transport.session()
    yield PyltiTool(session, key=keys[1])
    session.close()


def _dispose(app: Flask) -> None:
    demo_state(app).database.engine.dispose()


@pytest.fixture
def lms(
    settings: Settings,
    clean_database: Database,
    transport: WsgiTransport,
    tool: PyltiTool,
    platform_key: KeyPair,
) -> Iterator[Flask]:
    """The demo LMS (in a Jalon app) with the pylti1p3 tool registered."""
    services = DemoServices(key_sets=HttpKeySets(tool.session), tool=tool.registration)
    app = create_app(settings, database=clean_database, demo=services)
    app.config["TESTING"] = True
    tool.trust(demo_state(app).keys.jwks())
    transport.apps.update({"jalon.test": app, "tool.test": tool.app})
    yield app
    _dispose(app)


@pytest.fixture
def browser(lms: Flask, tool: PyltiTool) -> Browser:
    return Browser({"jalon.test": lms, "tool.test": tool.app})


@pytest.fixture
def jalon_demo(
    settings: Settings, clean_database: Database, platform_key: KeyPair
) -> Iterator[Flask]:
    """Jalon and the demo LMS in one app, as `jalon demo` serves them, minus the socket."""
    in_process = InProcessKeySets()
    app = create_app(
        settings,
        database=clean_database,
        demo=DemoServices(key_sets=in_process),
        jwks_fetcher=in_process,
    )
    app.config["TESTING"] = True
    with clean_database.session() as session:
        install_bundled(session)
        register_demo_platform(session, settings.base_url)
    yield app
    _dispose(app)


def auth_params(**overrides: Any) -> dict[str, str]:
    """Return an OIDC authorization request as a tool sends it (override any field)."""
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": "jalon-demo",
        "redirect_uri": f"{TOOL}/launch",
        "state": "state-123",
        "nonce": "nonce-123",
        "login_hint": "2",
        "lti_message_hint": "",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


__all__ = ["JALON", "auth_params", "demo_state", "place"]
