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

from lti_tool.instance import private_file
from xapi.outbound import is_loopback_host


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class LrsSettings:
    """The LRS's xAPI endpoint and its Basic-auth credentials (the password never shown)."""

    endpoint: str
    username: str
    password: str = field(repr=False)


# File name extensions a learner may hand in by default: documents, slides, sheets,
# images, audio and video, archives of a project. Never HTML or scripts.
DEFAULT_UPLOAD_TYPES = frozenset(
    {
        "pdf", "odt", "ods", "odp", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv",
        "md", "png", "jpg", "jpeg", "gif", "webp", "mp3", "mp4", "webm", "zip",
    }
)  # fmt: skip
# Types that a browser would run as active content when opened from Jalon's origin.
UNSAFE_UPLOAD_TYPES = frozenset({"html", "htm", "xhtml", "svg", "js", "mjs", "xml", "php", "exe"})


@dataclass(frozen=True)
class CertifierSettings:
    """Who delivers the certification: the credentials' issuer and the accrochage sender."""

    name: str = "Organisme certificateur"
    url: str | None = None
    email: str | None = None
    # The Caisse des Dépôts' identifiers of the certifier (accrochage: 8 characters, 1–20).
    id_client: str | None = None
    id_contrat: str | None = None
    # Days a holder's civil identity is kept after their session is signed.
    identity_retention_days: int = 365


@dataclass(frozen=True)
class Settings:
    """Everything the app is configured with."""

    secret_key: str
    database_url: str
    base_url: str = "http://127.0.0.1:8000"
    instance_path: Path = field(default_factory=lambda: Path("instance").resolve())
    redis_url: str | None = None
    # How long a retired tool key stays published at /lti/jwks (JALON_KEY_GRACE_DAYS).
    key_grace_days: int = 7
    # How long a process may reuse a registration it read (JALON_REGISTRATION_CACHE_SECONDS).
    registration_cache_seconds: int = 10
    # The longest a launch's session lasts, however active (JALON_SESSION_MAX_HOURS).
    session_max_hours: int = 10
    admin_token: str | None = None
    # Absolute lifetime of an admin session, whatever the activity (JALON_ADMIN_SESSION_HOURS).
    admin_session_hours: int = 8
    default_locale: str = "fr"
    is_demo: bool = False
    # Where xAPI statements go (JALON_LRS_*); without it they wait in the outbox.
    lrs: LrsSettings | None = None
    xapi_batch_size: int = 500
    # What learners may upload (JALON_UPLOAD_MAX_MB, JALON_UPLOAD_TYPES), and how many bytes
    # a learner's work at one placement may keep on disk, all versions (JALON_UPLOAD_QUOTA_MB).
    upload_max_bytes: int = 20 * 1024 * 1024
    upload_types: frozenset[str] = DEFAULT_UPLOAD_TYPES
    upload_quota_bytes: int = 100 * 1024 * 1024
    # How long the purge keeps what was delivered (statements, grades) and dead letters an
    # administrator reviewed (JALON_RETENTION_OUTBOX_DAYS), and the drafts of learners gone
    # from their course (JALON_RETENTION_DRAFT_DAYS). See lti_tool.privacy.purge.
    retention_outbox_days: int = 30
    retention_draft_days: int = 180
    # Whether erasing a person keeps, pseudonymised, the decisions of published evaluations
    # and the progress derived from them (JALON_ERASURE_KEEP_DECISIONS): a certifier must.
    erasure_keep_decisions: bool = True
    # The bearer token that opens /metrics (JALON_METRICS_TOKEN); without it /metrics is 404.
    metrics_token: str | None = field(default=None, repr=False)
    # "text" (the default) or "json": one JSON object per log line (JALON_LOG_FORMAT).
    log_format: str = "text"
    # The certifier (JALON_CERTIFIER_*) and how long holder identities are kept
    # (JALON_RETENTION_IDENTITY_DAYS). See lti_tool.certification.
    certifier: CertifierSettings = field(default_factory=CertifierSettings)

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
            key_grace_days=_whole(env, "JALON_KEY_GRACE_DAYS", 7, 1, 365, "days"),
            registration_cache_seconds=_whole(
                env, "JALON_REGISTRATION_CACHE_SECONDS", 10, 0, 300, "seconds"
            ),
            session_max_hours=_whole(env, "JALON_SESSION_MAX_HOURS", 10, 1, 24, "hours"),
            admin_token=_admin_token(env, instance, demo),
            admin_session_hours=_whole(env, "JALON_ADMIN_SESSION_HOURS", 8, 1, 72, "hours"),
            default_locale=locale,
            is_demo=demo,
            lrs=_lrs(env, base_url),
            xapi_batch_size=_whole(env, "JALON_XAPI_BATCH_SIZE", 500, 1, 5000),
            upload_max_bytes=_upload_max_bytes(env),
            upload_types=_upload_types(env),
            upload_quota_bytes=_upload_quota_bytes(env),
            retention_outbox_days=_whole(env, "JALON_RETENTION_OUTBOX_DAYS", 30, 1, 3650, "days"),
            retention_draft_days=_whole(env, "JALON_RETENTION_DRAFT_DAYS", 180, 1, 3650, "days"),
            erasure_keep_decisions=_erasure_keep_decisions(env),
            metrics_token=_metrics_token(env),
            log_format=log_format(env),
            certifier=_certifier(env),
        )


def instance_secret(instance: Path, name: str = "secret_key") -> str:
    """Return a demo secret, made once and kept in the instance folder."""
    path = instance / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    private_file(path)
    path.write_text(key, encoding="utf-8")
    return key


def _whole(
    env: Mapping[str, str], name: str, default: int, low: int, high: int, unit: str = ""
) -> int:
    """Return the whole number ``name`` holds, from ``low`` to ``high`` (ASCII digits only)."""
    text = env.get(name, str(default)).strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        of = f" of {unit}" if unit else ""
        raise ConfigError(f"{name} must be a whole number{of} from {low} to {high}")
    return int(text)


def _admin_token(env: Mapping[str, str], instance: Path, demo: bool) -> str | None:
    """Return the token that opens the admin pages; none means they stay closed."""
    token = env.get("JALON_ADMIN_TOKEN", "")
    if token and len(token) < 24:
        raise ConfigError("JALON_ADMIN_TOKEN must be at least 24 characters long")
    if not token and demo:
        return instance_secret(instance, "admin_token")
    return token or None


def _lrs(env: Mapping[str, str], base_url: str) -> LrsSettings | None:
    """Return the LRS settings, or None when no LRS is configured (statements wait).

    Plain http only for a Jalon served on loopback (the demo), as for every outbound call.
    """
    endpoint = env.get("JALON_LRS_ENDPOINT", "").strip()
    username = env.get("JALON_LRS_USERNAME", "")
    password = env.get("JALON_LRS_PASSWORD", "")
    if not endpoint:
        if username or password:
            raise ConfigError("JALON_LRS_USERNAME and JALON_LRS_PASSWORD need JALON_LRS_ENDPOINT")
        return None
    # The messages never repeat the URL: a mistaken one may hold a password.
    try:
        parts = urlsplit(endpoint)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            "JALON_LRS_ENDPOINT must be the LRS's absolute http(s) xAPI URL, "
            "such as https://lrs.example.org/xAPI/"
        )
    if parts.scheme == "http" and not is_loopback_host(urlsplit(base_url).hostname):
        raise ConfigError(
            "JALON_LRS_ENDPOINT must use https (plain http only when JALON_BASE_URL is a "
            "loopback address, as in the demo)"
        )
    if "@" in parts.netloc:
        raise ConfigError(
            "JALON_LRS_ENDPOINT must not hold credentials: "
            "use JALON_LRS_USERNAME and JALON_LRS_PASSWORD"
        )
    if parts.query or parts.fragment:
        raise ConfigError("JALON_LRS_ENDPOINT must not have a query or a fragment")
    if not username or ":" in username:
        raise ConfigError(
            "JALON_LRS_USERNAME is required with JALON_LRS_ENDPOINT (Basic auth, without ':')"
        )
    if not password:
        raise ConfigError("JALON_LRS_PASSWORD is required with JALON_LRS_ENDPOINT")
    return LrsSettings(endpoint=endpoint, username=username, password=password)


def _upload_max_bytes(env: Mapping[str, str]) -> int:
    """Return the largest file a learner may upload, from a size in megabytes."""
    return _whole(env, "JALON_UPLOAD_MAX_MB", 20, 1, 2048, "megabytes") * 1024 * 1024


def _upload_quota_bytes(env: Mapping[str, str]) -> int:
    """Return the bytes a learner's work at one placement may keep, from megabytes.

    At least one file of the largest size must fit, else no file of that size ever could.
    """
    largest = _upload_max_bytes(env) // (1024 * 1024)
    text = env.get("JALON_UPLOAD_QUOTA_MB", str(max(100, largest))).strip()
    if not (text.isascii() and text.isdigit()) or not largest <= int(text) <= 102_400:
        raise ConfigError(
            "JALON_UPLOAD_QUOTA_MB must be a whole number of megabytes from "
            f"JALON_UPLOAD_MAX_MB ({largest}) to 102400"
        )
    return int(text) * 1024 * 1024


def _upload_types(env: Mapping[str, str]) -> frozenset[str]:
    """Return the file name extensions learners may upload (comma-separated, no dots)."""
    text = env.get("JALON_UPLOAD_TYPES", "").strip()
    if not text:
        return DEFAULT_UPLOAD_TYPES
    types = frozenset(part.strip().lower().lstrip(".") for part in text.split(",") if part.strip())
    unsafe = sorted(types & UNSAFE_UPLOAD_TYPES)
    if unsafe:
        raise ConfigError(
            "JALON_UPLOAD_TYPES must not allow types a browser runs: " + ", ".join(unsafe)
        )
    if not types or any(not part.isalnum() for part in types):
        raise ConfigError("JALON_UPLOAD_TYPES must list extensions such as pdf,docx,png")
    return types


def _erasure_keep_decisions(env: Mapping[str, str]) -> bool:
    """Return whether an erasure keeps published decisions, pseudonymised (default: yes)."""
    text = env.get("JALON_ERASURE_KEEP_DECISIONS", "true").strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError("JALON_ERASURE_KEEP_DECISIONS must be true or false")


def _metrics_token(env: Mapping[str, str]) -> str | None:
    """Return the bearer token a Prometheus server sends to read /metrics, if any."""
    token = env.get("JALON_METRICS_TOKEN", "")
    if token and (len(token) < 24 or not token.isprintable() or " " in token):
        raise ConfigError(
            "JALON_METRICS_TOKEN must be at least 24 printable characters, without spaces"
        )
    return token or None


def log_format(environ: Mapping[str, str] | None = None) -> str:
    """Return how log lines are written: ``text`` or ``json`` (JALON_LOG_FORMAT).

    Public: ``jalon`` sets logging up before any command builds its settings.
    """
    env = os.environ if environ is None else environ
    text = env.get("JALON_LOG_FORMAT", "text").strip().lower()
    if text not in {"text", "json"}:
        raise ConfigError("JALON_LOG_FORMAT must be text or json")
    return text


def _certifier(env: Mapping[str, str]) -> CertifierSettings:
    """Return the certifier's identity; its Caisse des Dépôts identifiers are checked here."""
    id_client = env.get("JALON_CERTIFIER_ID_CLIENT", "").strip() or None
    if id_client is not None and len(id_client) != 8:
        raise ConfigError("JALON_CERTIFIER_ID_CLIENT must be exactly 8 characters")
    id_contrat = env.get("JALON_CERTIFIER_ID_CONTRAT", "").strip() or None
    if id_contrat is not None and len(id_contrat) > 20:
        raise ConfigError("JALON_CERTIFIER_ID_CONTRAT must be 1 to 20 characters")
    url = env.get("JALON_CERTIFIER_URL", "").strip() or None
    if url is not None and urlsplit(url).scheme not in {"http", "https"}:
        raise ConfigError("JALON_CERTIFIER_URL must be an absolute http(s) URL")
    email = env.get("JALON_CERTIFIER_EMAIL", "").strip() or None
    if email is not None and "@" not in email:
        raise ConfigError("JALON_CERTIFIER_EMAIL must be an e-mail address")
    return CertifierSettings(
        name=env.get("JALON_CERTIFIER_NAME", "").strip() or CertifierSettings.name,
        url=url,
        email=email,
        id_client=id_client,
        id_contrat=id_contrat,
        identity_retention_days=_whole(env, "JALON_RETENTION_IDENTITY_DAYS", 365, 1, 3650, "days"),
    )
