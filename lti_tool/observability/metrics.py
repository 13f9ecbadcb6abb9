"""Prometheus metrics: launches, request latency by route group, the database pool.

Counters and histograms are module-level, as prometheus-client wants them. Under ``jalon
serve`` each gunicorn worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (set
by the command before this module is imported) and a scrape sums them across workers. The
queues' gauges (statements, grades) are read from the database at scrape time by
:class:`~lti_tool.observability.queues.QueueCollector`, never on a request.

Labels are bounded: a request is counted under one of :data:`ROUTE_GROUPS`, chosen from its
endpoint's blueprint (never from the raw path); a refusal under a code of
:data:`lti_tool.lti.errors.REASONS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

from lti_tool.lti.errors import REASONS

ROUTE_GROUPS = ("lti", "learner", "evaluator", "admin", "api", "case", "static", "health", "other")
_BLUEPRINT_GROUPS = {
    "lti": "lti",
    "deep_linking": "lti",
    "lti_registration": "lti",
    "lti_install": "lti",
    "learner": "learner",
    "progress": "learner",
    "evaluator": "evaluator",
    "matrix": "evaluator",
    "admin_auth": "admin",
    "admin_index": "admin",
    "admin_platforms": "admin",
    "admin_xapi": "admin",
    "api": "api",
    # The published référentiels and vocabularies: CASE JSON and the IRIs' pages.
    "case_api": "case",
    "referentiels": "case",
    "activities": "case",
    "xapi_profile": "case",
    "site_files": "static",
    "health": "health",
    "metrics": "health",
}
# Which LTI step an endpoint is; only these are counted as launches.
LAUNCH_STEPS = {"lti.login": "login", "lti.launch": "launch"}

# The *_created series say when a process first counted: noise here, and absent from the
# workers' summed values anyway.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry()
LAUNCHES = Counter(
    "jalon_lti_launches",
    "LTI logins and launches by step, outcome (accepted, storage_check, refused, error) "
    "and refusal code.",
    ["step", "outcome", "code"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "jalon_http_request_duration_seconds",
    "Time from the request's first hook to its response, by route group and status class.",
    ["group", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
POOL_CHECKED_OUT = Gauge(
    "jalon_db_pool_checked_out",
    "Database connections in use, summed over the live processes.",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "jalon_db_pool_size",
    "Connections the processes' pools keep open (without overflow), summed.",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)

_groups: dict[str | None, str] = {}
# Labelled children, found once: ``labels()`` costs more than an observation.
_latency: dict[tuple[str, int], Any] = {}
_launches: dict[tuple[str, str, str], Any] = {}


def is_multiprocess() -> bool:
    """Return whether values go to files shared by workers (prometheus-client's choice)."""
    return values.ValueClass is not values.MutexValue


def route_group(endpoint: str | None) -> str:
    """Return the route group of an endpoint; a path that matched none is ``other``."""
    group = _groups.get(endpoint)
    if group is None:
        if endpoint == "static":
            group = "static"
        elif endpoint is None or "." not in endpoint:
            group = "other"
        else:
            group = _BLUEPRINT_GROUPS.get(endpoint.partition(".")[0], "other")
        _groups[endpoint] = group  # one entry per endpoint of the app: bounded
    return group


def observe(
    endpoint: str | None,
    status: int,
    seconds: float,
    refusal: str | None,
    headers: Iterable[tuple[str, str]],
) -> None:
    """Count one response: its latency, its status class, and a launch's outcome."""
    key = (route_group(endpoint), status // 100)
    child = _latency.get(key)
    if child is None:
        child = _latency[key] = LATENCY.labels(key[0], f"{key[1]}xx")
    child.observe(seconds)
    step = LAUNCH_STEPS.get(endpoint or "")
    if step is not None:
        _count_launch(step, status, refusal, headers)


def _count_launch(
    step: str, status: int, refusal: str | None, headers: Iterable[tuple[str, str]]
) -> None:
    if refusal is not None:
        outcome, code = "refused", refusal if refusal in REASONS else "other"
    elif status >= 400:
        outcome, code = "error", ""
    elif step == "launch" and status == 200 and _is_html(headers):
        # The page that reads the state from the platform's storage, then posts again (its
        # script's launch answers a JSON 200: accepted).
        outcome, code = "storage_check", ""
    else:
        outcome, code = "accepted", ""
    key = (step, outcome, code)
    child = _launches.get(key)
    if child is None:
        child = _launches[key] = LAUNCHES.labels(*key)
    child.inc()


def _is_html(headers: Iterable[tuple[str, str]]) -> bool:
    return any(
        name.lower() == "content-type" and value.startswith("text/html") for name, value in headers
    )


def _checked_out(*_args: Any) -> None:
    POOL_CHECKED_OUT.inc()


def _checked_in(*_args: Any) -> None:
    POOL_CHECKED_OUT.dec()


def watch_pool(engine: sa.Engine) -> None:
    """Follow the engine's pool: connections in use, and its size (once per engine)."""
    if sa.event.contains(engine, "checkout", _checked_out):
        return
    sa.event.listen(engine, "checkout", _checked_out)
    sa.event.listen(engine, "checkin", _checked_in)
    size = getattr(engine.pool, "size", None)
    if callable(size):
        POOL_SIZE.inc(size())


def exposition(extra: CollectorRegistry) -> bytes:
    """Return every metric in Prometheus' text format: the workers' and ``extra``'s."""
    if is_multiprocess():
        shared = CollectorRegistry()
        MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
        return generate_latest(shared) + generate_latest(extra)
    return generate_latest(REGISTRY) + generate_latest(extra)
