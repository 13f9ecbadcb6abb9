"""Grading: open the evaluation of a version handed in, save its grid, publish it.

An evaluator judges the latest version a learner handed in. The first evaluator of a
version is its *evaluator*; a different second one is its *jury*, and a third is refused.
A draft may be saved as often as wanted; each save bumps the evaluation's revision, so a
grid posted from an older page is refused instead of overwriting newer work. Publishing
is final and happens in one transaction: the decisions and how they were settled, the
submission's status, the learner's progress rows, the xAPI statements and the grade that
waits for the LMS. Rows are written in bulk so that a 44-criterion grid costs a dozen
statements.
"""

from __future__ import annotations

from lti_tool.evaluation.grading.drafts import (
    Decision,
    decide,
    save,
)
from lti_tool.evaluation.grading.opening import (
    REFUSALS,
    GradingError,
    Opening,
    framework_for,
    latest_version,
    open_evaluation,
    targeted,
)
from lti_tool.evaluation.grading.publishing import (
    PASSBACK_COMMENT_MAX,
    Publication,
    publish,
)

__all__ = [
    "PASSBACK_COMMENT_MAX",
    "REFUSALS",
    "Decision",
    "GradingError",
    "Opening",
    "Publication",
    "decide",
    "framework_for",
    "latest_version",
    "open_evaluation",
    "publish",
    "save",
    "targeted",
]
