"""Log lines as JSON objects, and the request id that ties a request's lines together.

With ``JALON_LOG_FORMAT=json`` every line (the app's, gunicorn's access and error logs, the
relay's and the grade sender's) is one JSON object: ``time``, ``level``, ``logger``,
``message``, ``request_id``. The text format stays as it was. What goes into a message is
unchanged: the rules of docs/security.md (no personal data, no secret) hold for both.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-Id"
# The id of the request this thread is serving; None outside a request (relay, CLI).
current_request_id: ContextVar[str | None] = ContextVar("jalon_request_id", default=None)
# What a proxy may send: nginx's $request_id (32 hex digits), a UUID, a trace-like token.
# Anything else (too long, spaces, quotes, control characters) is replaced, never logged.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def request_id_from(header: str | None) -> str:
    """Return the proxy's request id when it is well-formed, else a new one."""
    if header and _VALID_ID.fullmatch(header):
        return header
    return os.urandom(16).hex()


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON; the message is already free of secrets."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON object on one line."""
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Set the root logger up for the ``jalon`` command, in text or JSON."""
    if log_format == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level, format=TEXT_FORMAT)
