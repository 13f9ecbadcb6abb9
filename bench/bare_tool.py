"""The baseline of the launch benchmarks: a minimal Flask tool on pylti1p3 alone.

It is the tool pylti1p3's README shows, with caches: the platform's key set given inline
(no fetch), launch data in a cache — a dict in process, Redis when several gunicorn
workers share the launches, as Jalon's do. ``/page`` is the trivial page after a launch:
the launch read back from the cache (``FlaskMessageLaunch.from_cache``) and a line of HTML.

Under gunicorn: ``gunicorn 'bare_tool:from_env()'`` with ``--pythonpath`` naming this folder
and the checkout, and ``BENCH_BARE_*`` set (:func:`from_env`).
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from flask import Flask, redirect, request
from markupsafe import escape
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.tool_config import ToolConfDict

from bench.lms import CLIENT_ID


class DictCache:
    """The launch data cache of one process."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        self.data[key] = value


class RedisCache:
    """The launch data cache shared by the workers: Redis, values as JSON."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)

    def get(self, key: str) -> Any:
        value = self.redis.get(f"bare:{key}")
        return None if value is None else json.loads(value)

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        self.redis.set(f"bare:{key}", json.dumps(value), ex=exp or 7200)


def bare_pylti1p3_app(
    issuer: str, jwk: dict[str, Any], tool_url: str, cache: DictCache | RedisCache
) -> Flask:
    """Return the bare tool for one platform, its launches answered at ``tool_url``."""
    conf = ToolConfDict(
        {
            issuer: {
                "client_id": CLIENT_ID,
                "auth_login_url": f"{issuer}/mod/lti/auth.php",
                "auth_token_url": f"{issuer}/mod/lti/token.php",
                "key_set": {"keys": [jwk]},  # the platform keys, cached
                "deployment_ids": ["1"],
            }
        }
    )
    app = Flask("bare_pylti1p3")
    app.secret_key = secrets.token_hex(16)

    def storage() -> FlaskCacheDataStorage:
        return FlaskCacheDataStorage(cache)

    @app.post("/login")
    def login() -> Any:
        oidc = FlaskOIDCLogin(FlaskRequest(), conf, launch_data_storage=storage())
        return oidc.redirect(tool_url + "/launch")

    @app.post("/launch")
    def launch() -> Any:
        message = FlaskMessageLaunch(FlaskRequest(), conf, launch_data_storage=storage())
        message.get_launch_data()
        return redirect(f"/page?launch_id={message.get_launch_id()}")

    @app.get("/page")
    def page() -> Any:
        launch_id = request.args.get("launch_id", "")
        message = FlaskMessageLaunch.from_cache(
            launch_id, FlaskRequest(), conf, launch_data_storage=storage()
        )
        claims = message.get_launch_data()
        return f"<!doctype html><title>Bench</title><p>Bonjour {escape(claims.get('name'))}</p>"

    return app


def from_env() -> Flask:
    """Return the bare tool that ``BENCH_BARE_ISSUER``, ``_JWK``, ``_URL`` and ``_REDIS`` set."""
    cache = RedisCache(os.environ["BENCH_BARE_REDIS"])
    jwk = json.loads(os.environ["BENCH_BARE_JWK"])
    return bare_pylti1p3_app(
        os.environ["BENCH_BARE_ISSUER"], jwk, os.environ["BENCH_BARE_URL"], cache
    )
