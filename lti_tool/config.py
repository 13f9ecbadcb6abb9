"""Settings, read once from ``JALON_*`` environment variables.

This module is the only code that reads ``os.environ``. A wrong value stops the
process at start-up with the variable's name, never later in a request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the app is configured with."""

    secret_key: str
    database_url: str
    base_url: str = "http://127.0.0.1:8000"
    instance_path: Path = field(default_factory=lambda: Path("instance").resolve())
    redis_url: str | None = None
    admin_token: str | None = None
    default_locale: str = "fr"
    is_demo: bool = False

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        demo: bool = False,
        serving: bool = True,
        default_base_url: str | None = None,
    ) -> Settings:
        """Build settings from the environment; ``demo`` fills in embedded defaults.

        A server needs ``JALON_SECRET_KEY`` outside the demo: one that invented its own key
        would log everyone out on each restart and disagree with its sibling workers.
        Commands that serve nothing (``serving=False``) use a throw-away key instead.
        """
        env = os.environ if environ is None else environ
        instance = Path(env.get("JALON_INSTANCE_PATH", "instance")).resolve()
        secret = env.get("JALON_SECRET_KEY", "")
        if not secret:
            if demo:
                secret = instance_secret(instance)
            elif serving:
                raise ConfigError("JALON_SECRET_KEY is required (a long random string)")
            else:
                secret = secrets.token_urlsafe(32)
        elif len(secret) < 16:
            raise ConfigError("JALON_SECRET_KEY must be at least 16 characters long")
        database_url = env.get("JALON_DATABASE_URL") or f"sqlite:///{instance / 'jalon.db'}"
        if "://" not in database_url:
            raise ConfigError("JALON_DATABASE_URL must be a SQLAlchemy URL such as sqlite:///…")
        base_url = env.get("JALON_BASE_URL", default_base_url or cls.base_url).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError("JALON_BASE_URL must be an absolute http(s) URL")
        locale = env.get("JALON_DEFAULT_LOCALE", cls.default_locale)
        if locale not in {"fr", "en"}:
            raise ConfigError("JALON_DEFAULT_LOCALE must be fr or en")
        return cls(
            secret_key=secret,
            database_url=database_url,
            base_url=base_url,
            instance_path=instance,
            redis_url=env.get("JALON_REDIS_URL") or None,
            admin_token=_admin_token(env, instance, demo),
            default_locale=locale,
            is_demo=demo,
        )


def instance_secret(instance: Path, name: str = "secret_key") -> str:
    """Return a demo secret, made once and kept in the instance folder."""
    path = instance / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key, encoding="utf-8")
    return key


def _admin_token(env: Mapping[str, str], instance: Path, demo: bool) -> str | None:
    """Return the token that opens the admin pages; none means they stay closed."""
    token = env.get("JALON_ADMIN_TOKEN", "")
    if token and len(token) < 24:
        raise ConfigError("JALON_ADMIN_TOKEN must be at least 24 characters long")
    if not token and demo:
        return instance_secret(instance, "admin_token")
    return token or None
