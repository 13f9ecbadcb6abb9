"""LTI 1.3: tool keys, the hardened launch, the session that follows it, and roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from lti_tool.config import Settings
from lti_tool.lti.jwks import HttpJwksFetcher, PlatformKeys
from lti_tool.lti.storage import DatabaseStore, LtiStore, RedisStore
from lti_tool.lti.tool_config import RegistrationCache
from lti_tool.outbound import outbound_policy
from xapi.outbound import OutboundHttp


@dataclass
class LtiServices:
    """What the LTI endpoints share within one app: platform keys, registrations, the store."""

    settings: Settings
    platform_keys: PlatformKeys
    redis: Any | None = None
    registrations: RegistrationCache = field(init=False)

    def __post_init__(self) -> None:
        self.registrations = RegistrationCache(self.settings.registration_cache_seconds)

    def store(self) -> LtiStore:
        """Return Redis when configured, else the ``lti_cache`` table in the request's session."""
        if self.redis is not None:
            return RedisStore(self.redis)
        from lti_tool.db import db_session

        return DatabaseStore(db_session())


def services() -> LtiServices:
    """Return the current app's LTI services."""
    lti: LtiServices = current_app.extensions["jalon.lti"]
    return lti


def init_app(app: Flask) -> None:
    """Set up the LTI services and the session token (before CSRF checks are installed).

    Services may be given to ``create_app``: ``jwks_fetcher`` (a :class:`JwksFetcher`)
    and ``redis`` (a Redis client); otherwise JWKS are fetched over HTTP under the outbound
    policy and Redis is used when ``JALON_REDIS_URL`` is set.
    """
    from lti_tool.lti import session

    settings: Settings = app.config["JALON"]
    given = app.extensions.get("jalon.services", {})
    redis_client = given.get("redis")
    if redis_client is None and settings.redis_url:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=2.0)
    app.extensions["jalon.lti"] = LtiServices(
        settings=settings,
        platform_keys=PlatformKeys(
            given.get("jwks_fetcher") or HttpJwksFetcher(OutboundHttp(outbound_policy(app)))
        ),
        redis=redis_client,
    )
    session.init_app(app)
