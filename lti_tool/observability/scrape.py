"""Where Prometheus reads the metrics: ``/metrics`` behind a bearer token, or a local port.

Without ``JALON_METRICS_TOKEN`` the app has no ``/metrics`` at all (404): the figures say
how busy a school is and are nobody else's business. ``jalon serve --metrics-port`` serves
them on 127.0.0.1 from gunicorn's master process instead, for a Prometheus on the host.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from lti_tool.db import Database
from lti_tool.observability.queues import QueueCollector

log = logging.getLogger(__name__)
blueprint = Blueprint("metrics", __name__)
QUEUES = "jalon.metrics_queues"


def init_app(app: Flask, database: Database) -> None:
    """Mount ``/metrics`` when a token is configured."""
    registry = CollectorRegistry()
    registry.register(QueueCollector(database.engine))
    app.extensions[QUEUES] = registry
    if app.config["JALON"].metrics_token:
        app.register_blueprint(blueprint)


def _authorized(token: str) -> bool:
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(sent.strip().encode(), token.encode())


@blueprint.get("/metrics")
def scrape() -> Response:
    """Answer Prometheus: every metric in its text format, for the bearer of the token."""
    if not _authorized(current_app.config["JALON"].metrics_token):
        return Response(
            "A bearer token is required.\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
            mimetype="text/plain",
        )
    # Not imported above: the master process of `jalon serve --metrics-port` imports this
    # module, and the metrics module would give it a value file as if it were a worker.
    from lti_tool.observability import metrics

    body = metrics.exposition(current_app.extensions[QUEUES])
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def serve_on_port(port: int, database_url: str) -> Any:
    """Serve the workers' metrics on 127.0.0.1:``port`` from this (master) process.

    The queues are read through a pool that keeps no connection between scrapes: gunicorn
    forks workers from this process, and a forked connection must not be shared.
    """
    from prometheus_client import start_http_server

    engine = sa.create_engine(database_url, poolclass=sa.NullPool, hide_parameters=True)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(QueueCollector(engine))
    log.info("metrics served on 127.0.0.1:%d", port)
    return start_http_server(port, addr="127.0.0.1", registry=registry)
