"""The xAPI journal: what waits in the outbox, what the LRS took, and what it refused."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, format_timedelta

from lti_tool.auth import admin_required
from lti_tool.db import db_session, utcnow
from lti_tool.views.errors import wants_json
from xapi import outbox

blueprint = Blueprint("admin_xapi", __name__, url_prefix="/admin/xapi")
SHOWN = 50
# What the relay writes when the LRS redirected (xapi.lrs.refused).
REDIRECTED = "OUTBOUND_REDIRECT"


@dataclass(frozen=True)
class Row:
    """A statement as the journal displays it."""

    entry: outbox.Entry
    created: str
    pretty_json: str

    @property
    def is_redirected(self) -> bool:
        """Return whether the LRS last answered with a redirect (a configuration problem)."""
        return (self.entry.last_error or "").find(REDIRECTED) >= 0


@blueprint.get("/")
@admin_required
def journal() -> Response | str:
    """Show the outbox counts and the latest statements with their JSON."""
    wanted = request.args.get("statut")
    status = outbox.Status(wanted) if wanted in set(outbox.Status) else None
    session = db_session()
    summary = outbox.summary(session)
    entries = outbox.recent(session, limit=SHOWN, status=status)
    age = summary.oldest_pending_age(utcnow())
    lrs = current_app.config["JALON"].lrs
    if wants_json():
        return jsonify(
            pending=summary.pending,
            delivered=summary.delivered,
            dead=summary.dead,
            unreviewed_dead=summary.unreviewed_dead,
            oldest_pending_seconds=age.total_seconds() if age is not None else None,
            lrs_endpoint=lrs.endpoint if lrs else None,
            statements=[
                {
                    "id": e.statement_id,
                    "status": e.status.value,
                    "attempts": e.attempts,
                    "created_at": e.created_at.isoformat(),
                    "last_error": e.last_error,
                    "reviewed_at": e.reviewed_at.isoformat() if e.reviewed_at else None,
                    "statement": json.loads(e.body),
                }
                for e in entries
            ],
        )
    return render_template(
        "admin/xapi.html",
        summary=summary,
        oldest_age=format_timedelta(age, threshold=1) if age is not None else None,
        rows=[Row(e, format_datetime(e.created_at, "short"), _pretty(e.body)) for e in entries],
        retention_days=current_app.config["JALON"].retention_outbox_days,
        reviewed=request.args.get("examinees", type=int),
        status=status,
        statuses=list(outbox.Status),
        lrs_endpoint=lrs.endpoint if lrs else None,
        requeued=request.args.get("relances", type=int),
    )


@blueprint.post("/relancer")
@admin_required
def retry_dead() -> Response:
    """Queue every dead letter again; the relay sends them on its next pass."""
    count = outbox.retry_dead(db_session(), now=utcnow())
    return redirect(url_for(".journal", relances=count))


@blueprint.post("/examiner")
@admin_required
def review_dead() -> Response:
    """Acknowledge the dead letters the page showed; the purge may remove them after the retention.

    Only up to the newest dead letter the page knew of: one that died since stays unreviewed.
    """
    up_to = request.form.get("jusqu_a", type=int)
    if up_to is None:
        abort(400)
    count = outbox.mark_reviewed(db_session(), now=utcnow(), up_to_id=up_to)
    return redirect(url_for(".journal", examinees=count))


def _pretty(body: str) -> str:
    """Indent a statement for reading; show the stored text as it is if it is not JSON."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body
