"""Request lines in gunicorn's logs, with every query value a secret could hide in removed.

Links inside the LMS carry the session token (``lt``); registration and invitation links
carry their own tokens. A log line keeps the method, the path and the names of the query
parameters; only the values of a short safelist survive.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

# Query parameters whose values say nothing about anyone and help reading a log.
SAFE_PARAMETERS = frozenset({"lang", "format"})
HIDDEN = "[hidden]"
# A name=value pair of a query string inside any text (request line, referrer, message).
_PAIR = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;\s?#'\"]*)=(?P<value>[^&;\s#'\"]*)")
# Paths that carry a secret of their own: an administrator's invitation link.
_SECRET_PATH = re.compile(r"(?P<lead>/lti/register/)[^/?#\s'\"]+")
# The id the reverse proxy gave the request (nginx's $request_id, deploy/nginx/jalon.conf):
# no secret, and it ties this line to the proxy's. Anything but a short token shows as "-".
REQUEST_ID = "{x-request-id}i"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# gunicorn's default line, then the request id.
FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}i)s'


def redact(text: str) -> str:
    """Return ``text`` with secrets hidden: query values off the safelist, invitation tokens."""
    if "/lti/register/" in text:
        text = _SECRET_PATH.sub(lambda match: f"{match['lead']}{HIDDEN}", text)

    def _pair(match: re.Match[str]) -> str:
        value = match["value"] if match["name"] in SAFE_PARAMETERS else HIDDEN
        return f"{match['lead']}{match['name']}={value}"

    return _PAIR.sub(_pair, text) if "=" in text else text


class _RedactingFilter(logging.Filter):
    """Hide query values in gunicorn's own messages ("Error handling request /…?lt=…")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, whose access and error lines never show a query secret."""

    def setup(self, cfg: Any) -> None:
        """Set gunicorn's handlers up, then filter what its error log writes."""
        super().setup(cfg)
        self.error_log.addFilter(_RedactingFilter())

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        """Return only the request's plain atoms and request id: no other header or cookie."""
        everything = super().atoms(resp, req, environ, request_time)
        atoms = {name: value for name, value in everything.items() if not name.startswith("{")}
        request_id = everything.get(REQUEST_ID)
        if isinstance(request_id, str) and _REQUEST_ID.fullmatch(request_id):
            atoms[REQUEST_ID] = request_id
        for name in ("r", "f", "U"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        if atoms.get("q"):
            atoms["q"] = redact(f"?{atoms['q']}")[1:]
        atoms["u"] = "-"  # a Basic-auth user name is nobody's business in a log
        return atoms
