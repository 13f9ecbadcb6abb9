"""What the demo LMS is made of in a running app, and how a test swaps parts of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from lti_tool.db import utcnow
from lti_tool.demo.database import DemoDatabase, demo_session
from lti_tool.demo.keys import KeySetProvider, PlatformKeys
from lti_tool.demo.models import UsedAssertion
from lti_tool.demo.platform import DemoPlatform
from lti_tool.demo.protocol import DemoTool, DemoUrls


@dataclass(frozen=True)
class DemoServices:
    """Parts of the demo a caller may choose (``create_app(settings, demo=DemoServices())``).

    ``key_sets``: where the tool's public keys come from (default: HTTP; in one process
    without a server, :class:`~lti_tool.demo.keys.InProcessKeySets`). ``tool``: the tool the
    demo launches (default: this Jalon, at its fixed ``/lti/…`` URLs).
    """

    key_sets: KeySetProvider | None = None
    tool: DemoTool | None = None


@dataclass(frozen=True)
class DemoState:
    """The demo platform of one app: URLs, registration of the tool, keys, database."""

    urls: DemoUrls
    tool: DemoTool
    keys: PlatformKeys
    key_sets: KeySetProvider
    database: DemoDatabase


def demo_state() -> DemoState:
    """Return the demo platform of the current app."""
    state: DemoState = current_app.extensions["jalon.demo"]
    return state


def make_platform() -> DemoPlatform:
    """Build lti1p3platform's platform configuration for this request."""
    state = demo_state()
    return DemoPlatform(
        urls=state.urls,
        tool=state.tool,
        keys=state.keys,
        key_sets=state.key_sets,
        consume_jti=consume_jti,
    )


def consume_jti(jti: str, expires: int) -> bool:
    """Record a client assertion's ``jti``; False when it was already used (a replay)."""
    session = demo_session()
    now = utcnow()
    session.execute(sa.delete(UsedAssertion).where(UsedAssertion.expires_at < now))
    if session.get(UsedAssertion, jti) is not None:
        return False
    expires_at = max(dt.datetime.fromtimestamp(expires, dt.UTC), now) + dt.timedelta(minutes=5)
    session.add(UsedAssertion(jti=jti, expires_at=expires_at))
    session.flush()
    return True
