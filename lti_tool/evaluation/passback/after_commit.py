"""On the page that publishes: one quick attempt at the grade once the request commits."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.evaluation.passback.delivery import send_now
from lti_tool.services import GradeService, lms_services
from lti_tool.services.ags import HttpGrades
from lti_tool.services.client import ServiceClient
from xapi.columns import utcnow

logger = logging.getLogger(__name__)

# The publishing page waits this long at most (connect, read) before leaving it to later.
NOW_TIMEOUT = (2.0, 5.0)


def _hurried(ags: GradeService) -> GradeService:
    """Return the AGS client with short timeouts (an in-memory one as it is)."""
    if not isinstance(ags, HttpGrades):
        return ags
    client = ags.client
    # The same connections, headers and policy; every call cut short.
    return HttpGrades(ServiceClient(client.http.with_timeouts(*NOW_TIMEOUT), client.tokens))


def send_after_commit(session: Session, evaluation_id: int) -> None:
    """Post an evaluation's grade once, right after ``session`` commits (the request's).

    Call it in the view that publishes, before returning: the commit at the request
    boundary then triggers one quick attempt, so the next page can already say whether
    the LMS accepted the grade. If the transaction rolls back nothing is sent; if the
    attempt fails the background deliveries take over.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    database: Database = app.extensions["jalon.db"]
    ags = _hurried(lms_services().ags)

    def _send(_session: Session) -> None:
        try:
            with app.app_context():
                send_now(database.sessions, evaluation_id, utcnow(), ags)
        except Exception:
            # The grade is committed and pending: never turn a publication into an error.
            logger.exception("Immediate grade delivery failed; the background will retry")

    sa.event.listen(session, "after_commit", _send, once=True)
