"""A learner's "livret de compétences": what the certification jury reads, as one document.

It gathers, for one learner of one course, the learner's record (:mod:`record`): where they
stand on every competency, bloc and the certification, every published evaluation with
its criteria and decisions (overrides with their justification), and the evidence handed
in (each version, its files and links). Drafts, of work or of evaluations, never appear.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.matrix import class_learners
from lti_tool.evaluation.record import LearnerRecord, learner_record
from lti_tool.evaluation.record.records import EvaluationRecord
from lti_tool.models import LtiContext
from referentiel.model import Framework

# Table rows an evaluation may have and still be printed on one page: past it, its page
# breaks fall between rows (the paged layout would find it too long, at twice the cost).
ROWS_ON_A_PAGE = 16


@dataclass(frozen=True)
class Livret:
    """What the livret prints: the framework, the course and the learner's record."""

    framework: Framework
    course_title: str | None
    record: LearnerRecord

    @property
    def criterion_texts(self) -> dict[str, str]:
        """Return each criterion's text by code (evaluations name criteria by code)."""
        return {criterion.code: criterion.text for criterion in self.framework.criteria()}

    @property
    def statements(self) -> dict[str, str]:
        """Return each competency's statement by code."""
        return {c.code: c.statement for c in self.framework.competencies()}

    @staticmethod
    def fits_on_a_page(evaluation: EvaluationRecord) -> bool:
        """Return whether an evaluation is short enough to be kept on one page."""
        return len(evaluation.criteria) + len(evaluation.decisions) <= ROWS_ON_A_PAGE


def learner_livret(
    session: Session, context_id: int, learner_id: int, framework: Framework
) -> Livret | None:
    """Return a learner's livret in a course, or ``None`` if they are not a learner there.

    A learner of the course is who the class matrix lists: a non-staff member, or anyone
    who handed in work there.
    """
    if not class_learners(session, context_id, learner_id):
        return None
    title = session.scalar(sa.select(LtiContext.title).where(LtiContext.id == context_id))
    return Livret(framework, title, learner_record(session, context_id, learner_id, framework))
