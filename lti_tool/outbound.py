"""The outbound policy of an app: from its base URL, with the resolver tests may give."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lti_tool.config import Settings
from xapi.outbound import OutboundPolicy


def outbound_policy(app: Flask, **values: Any) -> OutboundPolicy:
    """Return the policy of every call the app makes on its own.

    Plain http to loopback is allowed only when the app itself is served on loopback (the
    demo). ``create_app(outbound_resolver=…)`` replaces DNS (tests name public hosts
    that exist only in process).
    """
    settings: Settings = app.config["JALON"]
    resolver = app.extensions.get("jalon.services", {}).get("outbound_resolver")
    if resolver is not None:
        values["resolver"] = resolver
    return OutboundPolicy.for_base_url(settings.base_url, **values)
