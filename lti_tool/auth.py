"""Who is acting: the Jalon administrator (a first-party session opened with a token).

Admin pages are used outside the LMS, in a top-level window, so an ordinary session
cookie (SameSite=Lax, HttpOnly, Secure behind HTTPS) is fine there. LTI users never depend
on it: they carry a signed session token instead.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

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

from lti_tool import csrf
from lti_tool.views.errors import wants_json

blueprint = Blueprint("admin_auth", __name__, url_prefix="/admin")
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
def login() -> Response | str | tuple[str, int]:
    """Open an admin session with the token from ``JALON_ADMIN_TOKEN``."""
    expected = current_app.config["JALON"].admin_token
    error = None
    if request.method == "POST":
        given = request.form.get("token", "")
        if expected and hmac.compare_digest(given.encode(), expected.encode()):
            session.clear()
            session["admin_nonce"] = secrets.token_urlsafe(16)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        error = (
            _("Jeton incorrect.")
            if expected
            else _("L’administration est fermée : JALON_ADMIN_TOKEN n’est pas défini.")
        )
    status = 401 if error else 200
    return render_template("admin/login.html", error=error, is_closed=not expected), status


@blueprint.post("/deconnexion")
def logout() -> Response:
    """Close the admin session."""
    session.clear()
    return redirect(url_for("admin_auth.login"))


def _safe_next(target: str | None) -> str:
    """Only follow a local path after sign-in, never another site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("referentiels.index")


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
        PERMANENT_SESSION_LIFETIME=8 * 3600,
    )
    app.register_blueprint(blueprint)

    @app.before_request
    def _load_admin() -> None:
        # Touch the session only when its cookie came: public pages stay cacheable.
        has_cookie = app.config["SESSION_COOKIE_NAME"] in request.cookies
        nonce = session.get("admin_nonce") if has_cookie else None
        g.is_admin = bool(nonce and settings.admin_token)
        if g.is_admin:
            csrf.set_principal(f"admin:{nonce}")
