"""Metrics, JSON log lines with request ids, and readiness (docs/observability.md).

:func:`init_app` installs one hook before and one after every request: they time it, count
it under its route group, and give it a request id. Their cost is measured by
``bench/observability.py``. Nothing here imports prometheus-client at import time.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from lti_tool.db import Database
from lti_tool.observability.logs import REQUEST_ID_HEADER, current_request_id, request_id_from


def init_app(app: Flask, database: Database) -> None:
    """Install the request hooks (first, so they see all the others) and ``/metrics``."""
    # Imported here, not above: `jalon serve` sets prometheus-client's multiprocess folder
    # before anything imports it, and the `jalon` command imports this package's logs.
    from lti_tool.observability import metrics, scrape

    metrics.watch_pool(database.engine)
    scrape.init_app(app, database)

    @app.before_request
    def _start() -> None:
        g.jalon_started = time.perf_counter()
        rid = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.jalon_request_id = rid
        g.jalon_request_id_token = current_request_id.set(rid)

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.get("jalon_started")
        if started is not None:
            response.headers[REQUEST_ID_HEADER] = g.jalon_request_id
            metrics.observe(
                request.endpoint,
                response.status_code,
                time.perf_counter() - started,
                g.get(metrics.REFUSAL_ATTRIBUTE),
                response.mimetype,
            )
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        token = g.pop("jalon_request_id_token", None)
        if token is not None:
            current_request_id.reset(token)
