"""On the page that publishes: one quick attempt at the grade once the request commits."""

from __future__ import annotations

import logging
from typing import Any

import requests
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


class _Hurried(requests.Session):
    """The app's HTTP session (same connections and headers), every call cut short."""

    def __init__(self, http: requests.Session) -> None:
        super().__init__()
        self.adapters = http.adapters
        self.headers = http.headers

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = NOW_TIMEOUT
        return super().request(method, url, *args, **kwargs)


def _hurried(ags: GradeService) -> GradeService:
    """Return the AGS client with short timeouts (an in-memory one as it is)."""
    if not isinstance(ags, HttpGrades):
        return ags
    client = ags.client
    return HttpGrades(ServiceClient(_Hurried(client.http), client.tokens))


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
