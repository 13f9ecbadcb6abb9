"""CSRF protection that needs no cookie.

A token is an HMAC of the app's secret, the *principal* the page was served to and the
token's age. The principal is whatever authenticates the form's sender: the admin session,
or (inside the LMS iframe, where cookies may be blocked) the signed LTI session token that
the form carries anyway. So a form posted from another site, which holds neither, fails.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request
from flask_babel import gettext as _
from markupsafe import Markup

FIELD = "csrf_token"
MAX_AGE = 8 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
F = TypeVar("F", bound=Callable[..., Any])


def exempt(view: F) -> F:
    """Mark a view whose POSTs are authenticated otherwise (LTI messages, API keys)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def set_principal(principal: str) -> None:
    """Bind this request's tokens to who is acting (called by authentication)."""
    g.csrf_principal = principal


def _principal() -> str:
    return str(g.get("csrf_principal", "anonymous"))


def _sign(principal: str, issued: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{principal}|{issued}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def generate() -> str:
    """Return a token for the current principal."""
    issued = int(time.time())
    return f"{issued}.{_sign(_principal(), issued)}"


def is_valid(token: str | None) -> bool:
    """Check a token against the current principal and its age."""
    if not token or "." not in token:
        return False
    issued_text, signature = token.split(".", 1)
    if not issued_text.isdigit():
        return False
    issued = int(issued_text)
    if not 0 <= time.time() - issued <= MAX_AGE:
        return False
    return hmac.compare_digest(signature, _sign(_principal(), issued))


def field() -> Markup:
    """Return the hidden input every form includes."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, generate())


def init_app(app: Flask) -> None:
    """Refuse unsafe requests without a valid token, after authentication has run."""
    app.jinja_env.globals["csrf_field"] = field

    @app.before_request
    def _check() -> None:
        if request.method in SAFE_METHODS:
            return
        view = app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, "csrf_exempt", False):
            return
        token = request.form.get(FIELD) or request.headers.get("X-CSRF-Token")
        if not is_valid(token):
            abort(
                400,
                description=_(
                    "Le formulaire a expiré ou ne vient pas de Jalon : rechargez la page."
                ),
            )
