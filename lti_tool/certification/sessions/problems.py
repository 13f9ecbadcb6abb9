"""What a refused change says: each problem with the field it concerns, and why.

Pages word a problem in the reader's language from its reason code; the CLI prints
:attr:`Problem.message`, in English.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lti_tool.storable import is_storable

EXAM_MODES = ("EN_PRESENTIEL", "A_DISTANCE", "MIXTE")  # cpf:modalitePassage
POSTAL_CODE = re.compile(r"[0-9]{5}")
# The columns' lengths: a longer value is refused, never cut.
MAX_LENGTH = {
    "title": 300,
    "place": 300,
    "full_name": 255,
    "quality": 300,
    "decided_by": 255,
    "signed_by": 255,
}

REASONS = {
    "required": "this field is required",
    "too_long": "longer than {limit} characters",
    "unstorable": "holds a control character that cannot be stored",
    "not_postal_code": "a postal code is 5 digits, not {value!r}",
    "bad_exam_mode": "must be one of EN_PRESENTIEL, A_DISTANCE, MIXTE, not {value!r}",
    "end_before_start": "the end ({value}) is before the start",
    "bad_role": "must be one of president, member, professional, not {value!r}",
    "not_current": "{value} is not the current version of an imported référentiel",
    "signed": "the minutes are signed: the session can no longer change",
    "not_signed": "the minutes are not signed yet: change the decision instead",
    "not_in_session": "{value} does not belong to this session",
    "not_a_learner": "this person is not a learner of the course",
    "already_candidate": "this learner is already a candidate of the session",
    "not_using_framework": "this course does not use the session's référentiel",
    "no_learners": "this course has no learner to add",
    "unknown_bloc": "the référentiel has no bloc {value!r}",
    "not_the_title": "the title's code is {value!r}",
    "bad_scope": "must be bloc or title, not {value!r}",
    "reasons_required": "a decision 'not validated' says why",
    "against_proposal": "Jalon does not find {value} acquired: say why the bloc is validated",
    "blocs_not_validated": "the title needs every bloc validated; not validated: {value}",
    "title_validated": "the title {value} is validated: correct the title first",
    "superseded": "this decision was corrected since: correct the current one",
    "correction_reasons": "a correction says why",
    "no_president": "the jury has no president",
    "several_presidents": "the jury has more than one president",
    "no_professional": "the jury has no professional of the field",
    "no_candidates": "the session has no candidate",
    "missing_decision": "no decision on {value}",
    # Reading input (pages, CLI) before a domain function runs.
    "bad_date": "not a date (YYYY-MM-DD): {value!r}",
    "unknown_framework": "no imported référentiel {value!r}",
    "unknown_course": "no course {value!r}",
    "unknown_candidate": "no candidate {value} in this session",
    "bad_decision": "say validated or not validated",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong: the field (or the candidate) it concerns, and why."""

    field: str
    reason: str
    value: str = ""

    @property
    def message(self) -> str:
        """Say what is wrong, in English (the CLI; pages word it in the reader's language)."""
        limit = MAX_LENGTH.get(self.field, 0)
        return REASONS[self.reason].format(limit=limit, value=self.value)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class JuryError(ValueError):
    """A change was refused; ``problems`` lists every reason, field by field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def text_problems(fields: dict[str, str], *, required: Sequence[str] = ()) -> list[Problem]:
    """Return what is wrong with free-text fields: missing, too long, unstorable."""
    problems = []
    for name, value in fields.items():
        if name in required and not value.strip():
            problems.append(Problem(name, "required"))
        elif len(value) > MAX_LENGTH.get(name, 10_000):
            problems.append(Problem(name, "too_long"))
        elif not is_storable(value):
            problems.append(Problem(name, "unstorable"))
    return problems
