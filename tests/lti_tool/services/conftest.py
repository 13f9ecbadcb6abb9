"""Fixtures of the AGS/NRPS client tests: Jalon and the demo LMS in one app, the épreuves
placed by deep linking, and Jalon's HTTP calls routed in process by a ``WsgiTransport``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.demo import DemoServices, InProcessKeySets, register_demo_platform
from lti_tool.demo.protocol import ALL_SCOPES, DemoTool
from lti_tool.demo.seed import place_epreuves
from lti_tool.frameworks import install_bundled
from lti_tool.lti import keys as tool_keys
from lti_tool.models import LtiResourceLink
from lti_tool.services import LmsContext, context_for_resource_link
from tests.fake_dns import public_dns
from tests.lti_tool.demo.conftest import demo_state, keys, platform_key
from tests.lti_tool.demo.harness import LEA, Browser, WsgiTransport
from tests.lti_tool.demo.test_end_to_end import _launch

__all__ = ["keys", "platform_key"]
JALON = "https://jalon.test"


@dataclass
class Lms:
    """The app, the transport that carries Jalon's calls, and the database."""

    app: Flask
    transport: WsgiTransport
    database: Database

    def token_requests(self) -> int:
        return sum(1 for _method, url in self.transport.calls if url.endswith("/demo/token"))

    def context(self, placement: int = 1) -> LmsContext:
        """Launch a placement as Léa (recording its services), and return its context."""
        _launch(Browser({"jalon.test": self.app}), placement, LEA)
        with self.app.app_context(), self.database.session() as session:
            link = session.scalars(
                sa.select(LtiResourceLink).where(LtiResourceLink.resource_link_id == str(placement))
            ).one()
            return context_for_resource_link(session, link)


def _lms(
    settings: Settings, database: Database, scopes: tuple[str, ...] = ALL_SCOPES
) -> Iterator[Lms]:
    transport = WsgiTransport()
    http = transport.session()
    in_process = InProcessKeySets()
    tool = DemoTool.jalon(settings.base_url, allowed_scopes=scopes)
    app = create_app(
        settings,
        database=database,
        demo=DemoServices(key_sets=in_process, tool=tool),
        jwks_fetcher=in_process,
        lms_http=http,
        outbound_resolver=public_dns("jalon.test"),
    )
    app.config["TESTING"] = True
    transport.apps["jalon.test"] = app
    with database.session() as session:
        install_bundled(session)
        register_demo_platform(session, settings.base_url)
        tool_keys.current(session)  # committed before any nested request reads /lti/jwks
    place_epreuves(app)
    yield Lms(app, transport, database)
    http.close()
    demo_state(app).database.engine.dispose()


@pytest.fixture
def lms(settings: Settings, clean_database: Database, platform_key: object) -> Iterator[Lms]:
    """The demo LMS granting every AGS and NRPS scope."""
    yield from _lms(settings, clean_database)


@pytest.fixture
def stingy_lms(settings: Settings, clean_database: Database, platform_key: object) -> Iterator[Lms]:
    """The demo LMS where the administrator left only the roster and reading columns on."""
    allowed = tuple(s for s in ALL_SCOPES if s.endswith(("readonly", "contextmembership.readonly")))
    yield from _lms(settings, clean_database, allowed)
