"""The administration's home page: where each admin page is, and what waits there.

A newcomer who types ``/admin/`` finds the pages Jalon has (platforms, xAPI journal,
référentiels, installation) with what needs their attention: platforms waiting for
approval, statements waiting for the LRS or refused by it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template

from lti_tool.auth import admin_required
from lti_tool.db import db_session
from lti_tool.models import FrameworkRecord, Platform, PlatformStatus
from xapi import outbox

blueprint = Blueprint("admin_index", __name__, url_prefix="/admin")


@blueprint.get("/")
@admin_required
def index() -> str:
    """List the admin pages with their counts."""
    session = db_session()
    counts = sa.select(Platform.status, sa.func.count()).group_by(Platform.status)
    by_status: dict[str, int] = dict(session.execute(counts).all())
    frameworks = session.scalar(sa.select(sa.func.count(sa.distinct(FrameworkRecord.code))))
    return render_template(
        "admin/index.html",
        active=by_status.get(PlatformStatus.ACTIVE.value, 0),
        pending=by_status.get(PlatformStatus.PENDING.value, 0),
        statements=outbox.summary(session),
        has_lrs=current_app.config["JALON"].lrs is not None,
        frameworks=frameworks or 0,
    )
