"""Who is using the demo LMS ("choose who you are": no password), and signed message hints.

The chosen user is kept in a signed cookie of the demo's own (first-party, ``SameSite=Lax``),
apart from Jalon's admin session. The ``lti_message_hint`` sent to the tool is signed too, so
``/demo/auth`` can trust what it names (user, course, placement or deep-linking request)
without server-side state.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE = "jalon_demo_user"
COOKIE_MAX_AGE = 8 * 3600
HINT_MAX_AGE = 600


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def current_user_id() -> int | None:
    """Return the id of the user chosen in this browser, if any."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        user_id = _serializer("jalon-demo-user").loads(value, max_age=COOKIE_MAX_AGE)
    except BadSignature:
        return None
    return user_id if isinstance(user_id, int) else None


def remember_user(response: Response, user_id: int) -> None:
    """Keep the chosen user in this browser."""
    response.set_cookie(
        COOKIE,
        _serializer("jalon-demo-user").dumps(user_id),
        max_age=COOKIE_MAX_AGE,
        path="/demo",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )


def sign_hint(payload: dict[str, Any]) -> str:
    """Sign the ``lti_message_hint`` of a launch."""
    return str(_serializer("jalon-demo-message-hint").dumps(payload))


def read_hint(hint: str) -> dict[str, Any] | None:
    """Return a hint this platform signed in the last minutes, or None."""
    try:
        payload = _serializer("jalon-demo-message-hint").loads(hint, max_age=HINT_MAX_AGE)
    except BadSignature:
        return None
    return payload if isinstance(payload, dict) else None
