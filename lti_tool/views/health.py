"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify

from lti_tool.db import db_session

blueprint = Blueprint("health", __name__)
log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store"}


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int, dict[str, str]]:
    """Report whether the app can reach its database."""
    try:
        db_session().execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return jsonify(status="error", database="unreachable"), 503, NO_STORE
    return jsonify(status="ok", database="ok"), 200, NO_STORE


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int, dict[str, str]]:
    """Report whether this instance should get traffic: database, Redis, migrations at head."""
    from lti_tool.observability.readiness import Readiness, failing

    readiness: Readiness | None = current_app.extensions.get("jalon.readiness")
    if readiness is None:
        readiness = Readiness(
            current_app.extensions["jalon.db"].engine, current_app.extensions["jalon.lti"].redis
        )
        current_app.extensions["jalon.readiness"] = readiness
    checks = readiness.checks()
    failed = failing(checks)
    if failed:
        return jsonify(status="error", failing=failed, checks=checks), 503, NO_STORE
    return jsonify(status="ok", checks=checks), 200, NO_STORE
