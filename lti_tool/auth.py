"""Who is acting: the Jalon administrator (a first-party session opened with a token).

Admin pages are used outside the LMS, in a top-level window, so an ordinary session
cookie (SameSite=Lax, HttpOnly, Secure behind HTTPS) is fine there. LTI users never depend
on it: they carry a signed session token instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import secrets
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from lti_tool import csrf, rate_limits
from lti_tool.db import db_session, utcnow
from lti_tool.models import AdminSession
from lti_tool.rate_limits import client_address
from lti_tool.views.errors import wants_json

blueprint = Blueprint("admin_auth", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def is_admin() -> bool:
    """Return whether the current request comes from a signed-in administrator."""
    return bool(g.get("is_admin", False))


def admin_required(view: F) -> F:
    """Let only a signed-in administrator through; others get the sign-in page or a 401."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_admin():
            if wants_json():
                abort(401, description=_("Authentification d’administrateur requise."))
            return redirect(url_for("admin_auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@blueprint.route("/connexion", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int, dict[str, str]]:
    """Open an admin session with the token from ``JALON_ADMIN_TOKEN``."""
    settings = current_app.config["JALON"]
    expected = settings.admin_token
    error = None
    status = 200
    headers: dict[str, str] = {}
    if request.method == "POST":
        wait = rate_limits.blocked(rate_limits.ADMIN_SIGN_IN_FAILURES) if expected else None
        given = request.form.get("token", "")
        if wait is not None:
            log.warning("admin sign-in refused: too many failures from %s", client_address())
            error = _(
                "Trop d’essais infructueux depuis votre adresse : réessayez dans %(minutes)d "
                "minutes.",
                minutes=max(1, -(-wait // 60)),
            )
            status, headers = 429, {"Retry-After": str(wait)}
        elif expected and hmac.compare_digest(given.encode(), expected.encode()):
            session.clear()
            session["admin_session"] = open_admin_session(
                db_session(), dt.timedelta(hours=settings.admin_session_hours)
            )
            session.permanent = True
            log.info("admin signed in from %s", client_address())
            return redirect(_safe_next(request.args.get("next")))
        else:
            if expected:
                rate_limits.count(rate_limits.ADMIN_SIGN_IN_FAILURES)
                # The address only: never what was typed.
                log.warning("admin sign-in failed from %s", client_address())
            error = (
                _("Jeton incorrect.")
                if expected
                else _("L’administration est fermée : JALON_ADMIN_TOKEN n’est pas défini.")
            )
            status = 401
    page = render_template("admin/login.html", error=error, is_closed=not expected)
    return page, status, headers


@blueprint.post("/deconnexion")
def logout() -> Response:
    """Close the admin session, on the server too: a copy of the cookie stops working."""
    secret = session.get("admin_session")
    if isinstance(secret, str):
        end_admin_session(db_session(), secret)
    session.clear()
    return redirect(url_for("admin_auth.login"))


def open_admin_session(db: Session, lifetime: dt.timedelta) -> str:
    """Record a new admin session; return the secret its cookie carries."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    # Sign-ins are rare: the sessions that are over anyway go now.
    db.execute(sa.delete(AdminSession).where(AdminSession.expires_at <= now))
    db.add(AdminSession(id=_session_id(secret), created_at=now, expires_at=now + lifetime))
    db.flush()
    return secret


def end_admin_session(db: Session, secret: str) -> None:
    """Mark the session of this cookie secret ended (if it is still open)."""
    db.execute(
        sa.update(AdminSession)
        .where(AdminSession.id == _session_id(secret), AdminSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def admin_session_id(db: Session, secret: object) -> str | None:
    """Return the id of the open, unexpired session a cookie secret names, else None."""
    if not isinstance(secret, str) or not secret:
        return None
    session_id = _session_id(secret)
    found = db.scalar(
        sa.select(AdminSession.id).where(
            AdminSession.id == session_id,
            AdminSession.ended_at.is_(None),
            AdminSession.expires_at > utcnow(),
        )
    )
    return session_id if found else None


def _session_id(secret: str) -> str:
    # The table keeps a hash: reading it gives no cookie that works.
    return hashlib.sha256(secret.encode()).hexdigest()


def _safe_next(target: str | None) -> str:
    """Only follow a local path after sign-in, never another site.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so a slash,
    a tab and ``/evil.example/`` would leave the site: anything but a plain absolute path
    (once or twice decoded) falls back to the admin home.
    """
    fallback = url_for("admin_index.index")
    if not target:
        return fallback
    decoded = unquote(target)
    for text in (target, decoded):
        if (
            not text.startswith("/")
            or text.startswith("//")
            or "\\" in text
            or any(c.isspace() or unicodedata.category(c) in {"Cc", "Cf"} for c in text)
        ):
            return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


class AdminSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, with its serializer built once per secret.

    Flask opens the session on every request and builds a new serializer each time; only
    the admin pages use the session, yet every LTI launch paid for it.
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Return the serializer Flask would build, for the app's secret and fallbacks."""
        if not app.secret_key:
            return None
        fallbacks = tuple(app.config.get("SECRET_KEY_FALLBACKS") or ())
        return self._serializer(app.secret_key, fallbacks)

    @functools.lru_cache(maxsize=8)  # noqa: B019 (one interface per app, kept as long)
    def _serializer(
        self, secret: str | bytes, fallbacks: tuple[str | bytes, ...]
    ) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            [*fallbacks, secret],  # itsdangerous takes the current key last
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )


def init_app(app: Flask) -> None:
    """Recognise the administrator on each request, before CSRF checks run."""
    settings = app.config["JALON"]
    app.session_interface = AdminSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="jalon_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=settings.admin_session_hours * 3600,
    )
    app.register_blueprint(blueprint)

    @app.before_request
    def _load_admin() -> None:
        # Touch the session only when its cookie came: public pages (and LTI launches)
        # stay cacheable and pay nothing. The cookie alone is not enough: its session must
        # be open on the server (not signed out, not past its absolute lifetime).
        g.is_admin = False
        has_cookie = app.config["SESSION_COOKIE_NAME"] in request.cookies
        if not has_cookie or not settings.admin_token:
            return
        session_id = admin_session_id(db_session(), session.get("admin_session"))
        if session_id is not None:
            g.is_admin = True
            csrf.set_principal(f"admin:{session_id}")
