"""The jury's decisions: per bloc and for the title, the minutes, and corrections.

While the session is open the jury may decide again: a new decision supersedes the
previous one for the same bloc (or the title), which stays in the record. Signing the
minutes makes every current decision final; after that only a correction changes one —
a new, dated, final decision naming the one it corrects. Each decision keeps a snapshot
of the evidence it was taken on.
"""

from __future__ import annotations

from lti_tool.certification.decisions.deliberation import (
    current_decisions,
    decide,
    history,
    in_force,
    session_decisions,
)
from lti_tool.certification.decisions.minutes import correct, sign_minutes, sign_problems

__all__ = [
    "correct",
    "current_decisions",
    "decide",
    "history",
    "in_force",
    "session_decisions",
    "sign_minutes",
    "sign_problems",
]
