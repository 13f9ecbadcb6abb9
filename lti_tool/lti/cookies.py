"""The state cookie: the attributes that let it live in a cross-site iframe, and its end.

The login runs in the platform's iframe, so the cookie it leaves is a third-party cookie.
Over HTTPS it is ``SameSite=None; Secure`` (sent back with the platform's cross-site form
post) and ``Partitioned`` (CHIPS): a browser that blocks third-party cookies still keeps a
partitioned one, in a jar of its own for this platform's site, and sends it back to the
launch within the same iframe. pylti1p3 2.0.0's ``FlaskCookieService`` sets no
``Partitioned``; :class:`StateCookies` sets the cookie with these attributes instead.

Over plain HTTP (``jalon demo`` on the loopback, where the demo LMS and Jalon share one
origin) the cookie keeps what it always had: ``HttpOnly; Path=/``, with the browser's
default SameSite. ``Secure`` and ``SameSite=None`` would make some browsers drop it there,
and ``Partitioned`` implies ``Secure``.

A cookie is deleted by setting it again with the same attributes; a partitioned one is
deleted only by a ``Set-Cookie`` that says ``Partitioned`` too (:func:`delete`).
"""

from __future__ import annotations

from typing import Any

from pylti1p3.contrib.flask import FlaskCookieService
from werkzeug.sansio.response import Response


def attributes(secure: bool) -> dict[str, Any]:
    """Return the attributes of the state cookie, over HTTPS or over plain HTTP."""
    if secure:
        return {
            "path": "/",
            "httponly": True,
            "secure": True,
            "samesite": "None",
            "partitioned": True,
        }
    return {"path": "/", "httponly": True}


class StateCookies(FlaskCookieService):
    """pylti1p3's cookie jar, writing its cookies with :func:`attributes`."""

    def update_response(self, response: Response) -> None:
        """Add the cookies set during the login to the response."""
        secure = bool(self._request.is_secure())
        for key, data in self._cookie_data_to_set.items():
            response.set_cookie(key, data["value"], max_age=data["exp"], **attributes(secure))


def delete(response: Response, name: str, secure: bool) -> None:
    """Delete the state cookie ``name``, with the attributes it was set with."""
    response.delete_cookie(name, **attributes(secure))
