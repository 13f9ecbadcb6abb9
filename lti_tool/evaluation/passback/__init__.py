"""Grades for the LMS: send pending passbacks through AGS, with retries that lose none.

Publishing an evaluation writes a PENDING ``GradePassback`` in its transaction;
:mod:`~lti_tool.evaluation.passback.delivery` delivers it (claim, post, mark, with
backoff; a 409 settled by :mod:`~lti_tool.evaluation.passback.conflict`),
:mod:`~lti_tool.evaluation.passback.after_commit` tries it once as soon as the
publishing request commits, and :mod:`~lti_tool.evaluation.passback.state` tells where
grades stand.
"""

from __future__ import annotations

from lti_tool.evaluation.passback.after_commit import (
    NOW_TIMEOUT,
    send_after_commit,
)
from lti_tool.evaluation.passback.conflict import TOLERANCE
from lti_tool.evaluation.passback.delivery import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    BATCH,
    LEASE,
    TEMPORARY_CODES,
    TEMPORARY_STATUSES,
    DeliveryReport,
    backoff,
    deliver_all_pending,
    deliver_due,
    is_temporary,
    send_now,
)
from lti_tool.evaluation.passback.state import (
    PassbackState,
    retry_failed,
    status_of,
    summary,
)

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "BATCH",
    "LEASE",
    "NOW_TIMEOUT",
    "TEMPORARY_CODES",
    "TEMPORARY_STATUSES",
    "TOLERANCE",
    "DeliveryReport",
    "PassbackState",
    "backoff",
    "deliver_all_pending",
    "deliver_due",
    "is_temporary",
    "retry_failed",
    "send_after_commit",
    "send_now",
    "status_of",
    "summary",
]
