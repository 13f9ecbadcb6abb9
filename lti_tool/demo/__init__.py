"""The demo LMS (``jalon demo``): a small LTI 1.3 platform at ``/demo/``, beside Jalon.

It is built on lti1p3platform and is a separate system: its own tables in its own SQLite file
(``demo-lms.db``) and its own RSA key, both in the instance folder. It launches Jalon through
the real protocol — OIDC login, signed id_token, deep linking, AGS and NRPS with OAuth2
tokens — so a newcomer sees the whole flow on one machine and the integration tests exercise
what Moodle or Canvas would.
"""

from __future__ import annotations

from flask import Flask

from lti_tool.demo.context import DemoServices, DemoState
from lti_tool.demo.database import DATABASE_FILE, DemoDatabase
from lti_tool.demo.keys import HttpKeySets, InProcessKeySets, PlatformKeys
from lti_tool.demo.protocol import DemoTool, DemoUrls
from lti_tool.demo.seed import register_demo_platform, seed_demo

__all__ = [
    "DemoServices",
    "DemoTool",
    "InProcessKeySets",
    "init_app",
    "register_demo_platform",
]


def init_app(app: Flask, services: DemoServices | None = None) -> DemoState:
    """Mount the demo LMS on the app: create and seed its database, load its key."""
    from lti_tool.demo import endpoints, pages

    settings = app.config["JALON"]
    services = services or DemoServices()
    database = DemoDatabase(settings.instance_path / DATABASE_FILE)
    database.create_all()
    with database.session() as session:
        seed_demo(session)
    state = DemoState(
        urls=DemoUrls(settings.base_url),
        tool=services.tool or DemoTool.jalon(settings.base_url),
        keys=PlatformKeys(settings.instance_path),
        key_sets=services.key_sets or HttpKeySets(),
        database=database,
    )
    app.extensions["jalon.demo"] = state
    database.init_app(app)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(endpoints.blueprint)
    return state
