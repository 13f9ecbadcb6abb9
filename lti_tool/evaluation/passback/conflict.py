"""A score the LMS refused as not newer (409, 400): tell whether it holds that grade already.

Moodle's ``scores.php`` keeps only a score strictly newer than the one it holds, compared
in whole seconds, and answers 409 otherwise; Open edX (lti-consumer-xblock) keeps only a
strictly later timestamp too, and answers 400. A score posted again because its first answer
was lost (a timeout, a 5xx after the write, a worker that died) is refused so, although the
LMS holds it. Then Jalon reads the learner's result (AGS results service,
``…/results?user_id=``):

* the score it holds, as a fraction of its maximum, is the one sent within ``TOLERANCE``:
  the grade is held (SENT, logged "already held by the LMS");
* another score (or none): the grade is posted once more with a timestamp strictly newer in
  whole seconds — now, and at least one second after the refused one;
* the platform did not grant ``result.readonly``: posted once more one second after the
  refused timestamp — newer than its own lost copy, not newer than a grade typed in the
  LMS since.

A second 409 is ``LMS_SCORE_OUTDATED``: the grade stays pending, tried again later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from lti_tool.services import GradeService, LineItem, LmsContext, LmsServiceError, Result, Score
from lti_tool.services.ags import CONFLICT

logger = logging.getLogger(__name__)

# How far the LMS's result may be from the score sent and still be it, as a fraction of the
# maximum: Moodle keeps a grade rescaled to its column's maximum, with five decimals.
TOLERANCE = 1e-4


class Held:
    """The outcome of a post refused as not newer while the LMS held that very score."""


HELD = Held()


def settle_conflict(
    ags: GradeService,
    context: LmsContext,
    column: LineItem,
    score: Score,
    *,
    now: dt.datetime,
    grade_id: int,
    still_pending: Callable[[], bool],
) -> Held | None:
    """Return ``HELD`` if the LMS holds ``score``; else post it once more, newer.

    Raise the refusal of the results service (other than a scope not granted: a
    temporary one is tried again later) or of the second post; ``LMS_SCORE_OUTDATED``
    without posting when the grade was replaced meanwhile (``still_pending`` is false):
    a newer timestamp would put it over its replacement.
    """
    refused = _whole_second(score.timestamp)
    try:
        results = ags.results(context, column, score.user_id)
    except LmsServiceError as error:
        if error.code != "LMS_SCOPE_NOT_GRANTED":
            raise
        logger.info(
            "Grade %d: refused as not newer, no result.readonly scope: posting it once more "
            "one second later",
            grade_id,
        )
        timestamp = refused + dt.timedelta(seconds=1)
    else:
        # The platform may ignore the user_id filter: only the learner's own result counts.
        mine = [result for result in results if result.user_id == score.user_id]
        if mine and same_score(mine[-1], score, column):
            logger.info(
                "Grade %d already held by the LMS (refused as not newer, its result read)", grade_id
            )
            return HELD
        logger.info(
            "Grade %d: refused as not newer, the LMS holds another score: posting it newer",
            grade_id,
        )
        timestamp = max(_whole_second(now), refused + dt.timedelta(seconds=1))
    if not still_pending():
        raise LmsServiceError("LMS_SCORE_OUTDATED", status=CONFLICT)
    ags.post_score(context, column, dataclasses.replace(score, timestamp=timestamp))
    return None


def same_score(result: Result, score: Score, column: LineItem) -> bool:
    """Tell whether the LMS's result is the score sent, each as a fraction of its maximum.

    The LMS rescales a score to its column's maximum (Moodle: ``resultScore`` out of the
    grade item's maximum, ``resultMaximum``).
    """
    if result.result_score is None or score.score_given is None or not score.score_maximum:
        return result.result_score is None and score.score_given is None
    maximum = result.result_maximum or column.score_maximum or score.score_maximum
    held = result.result_score / maximum
    sent = score.score_given / score.score_maximum
    return abs(held - sent) <= TOLERANCE


def _whole_second(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)
