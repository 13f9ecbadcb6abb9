"""A learner's record in one course: progress, criteria, evaluations and evidence.

The record reads what publication already wrote: the materialized ``learner_progress``
rows (never recomputed here) and the published evaluations with their decisions and
criterion levels. It is the one read model behind "Ma progression", the staff view of a
learner, the PDF livret and the JSON API, and it costs the same handful of queries
however many evaluations the learner has.
"""

from __future__ import annotations

from lti_tool.evaluation.record.queries import learner_record
from lti_tool.evaluation.record.records import (
    BlocRecord,
    CompetencyRecord,
    CriterionRecord,
    CriterionResultRecord,
    DecisionRecord,
    EvaluationRecord,
    EvidenceRecord,
    FileRecord,
    LearnerRecord,
    PlacedEpreuve,
)

__all__ = [
    "BlocRecord",
    "CompetencyRecord",
    "CriterionRecord",
    "CriterionResultRecord",
    "DecisionRecord",
    "EvaluationRecord",
    "EvidenceRecord",
    "FileRecord",
    "LearnerRecord",
    "PlacedEpreuve",
    "learner_record",
]
