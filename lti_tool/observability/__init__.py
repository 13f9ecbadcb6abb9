"""Metrics, JSON log lines with request ids, and readiness (docs/observability.md).

:func:`init_app` wraps the app in a small WSGI middleware rather than Flask hooks: it reads
the request id from the environ, times the whole request and counts it, without touching
Flask's context proxies (three hooks cost ~10 times as much; ``bench/observability.py``).
Nothing here imports prometheus-client at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from lti_tool.db import Database
from lti_tool.observability.logs import REQUEST_ID_HEADER, current_request_id, request_id_from

# Where a refused launch leaves its reason code for the count (lti_tool/lti/views.py).
REFUSAL_KEY = "jalon.launch_refusal"
_ENVIRON_ID = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")


def init_app(app: Flask, database: Database) -> None:
    """Wrap the app in the middleware and mount ``/metrics`` (with a token configured)."""
    # Imported here, not above: `jalon serve` sets prometheus-client's multiprocess folder
    # before anything imports it, and the `jalon` command imports this package's logs.
    from lti_tool.observability import metrics, scrape

    metrics.watch_pool(database.engine)
    scrape.init_app(app, database)
    app.wsgi_app = Observed(app.wsgi_app, metrics.observe)  # type: ignore[method-assign]


class Observed:
    """Give a request its id (echoed, and in its log lines), time it and count it."""

    def __init__(self, app: Any, observe: Callable[..., None]) -> None:
        self.app = app
        self.observe = observe

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Run the request between the id's setting and its count."""
        started = time.perf_counter()
        rid = request_id_from(environ.get(_ENVIRON_ID))
        token = current_request_id.set(rid)
        status_code, headers_sent, endpoint = 500, [], None

        def _start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            nonlocal status_code, headers_sent, endpoint
            headers.append((REQUEST_ID_HEADER, rid))
            status_code, headers_sent = int(status[:3]), headers
            # Read now: Flask forgets the request (and its URL rule) once it has answered.
            rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
            endpoint = rule.endpoint if rule is not None else None
            return start_response(status, headers, *exc)

        try:
            return self.app(environ, _start_response)  # type: ignore[no-any-return]
        finally:
            elapsed = time.perf_counter() - started
            self.observe(endpoint, status_code, elapsed, environ.get(REFUSAL_KEY), headers_sent)
            current_request_id.reset(token)
