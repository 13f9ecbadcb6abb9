"""Open the evaluation of the latest version handed in, as its evaluator or its jury.

The first evaluator of a version is its *evaluator*; a different second one is its
*jury*, and a third is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import (
    Evaluation,
    EvaluationRole,
    EvaluationStatus,
    Submission,
    SubmissionVersion,
)
from lti_tool.frameworks import find_record, framework_of
from lti_tool.models import FrameworkRecord
from referentiel.model import Competency, Framework

REFUSALS = {
    "EVAL_NOTHING_HANDED_IN": _("Cette copie n’a pas encore été remise : rien à évaluer."),
    "EVAL_THIRD_EVALUATOR": _(
        "Cette version a déjà un évaluateur et un jury : une troisième évaluation n’est pas "
        "possible."
    ),
    "EVAL_PUBLISHED": _("Votre évaluation est publiée : elle est définitive."),
    "EVAL_STALE": _(
        "L’évaluation a été enregistrée entre-temps (dans un autre onglet ?) : rien n’a été "
        "écrasé. Relisez la grille ci-dessous et refaites vos modifications."
    ),
}


class GradingError(Exception):
    """An evaluation cannot be opened or changed; ``code`` names why (HTTP 409)."""

    status = 409

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        """Return the explanation shown to the evaluator."""
        return str(REFUSALS[self.code])


@dataclass(frozen=True)
class Opening:
    """The evaluation an evaluator works on (``None`` until their first save)."""

    submission: Submission
    version: SubmissionVersion
    evaluation: Evaluation | None
    role: EvaluationRole
    other: Evaluation | None  # the other evaluator's evaluation of this version, if any


def framework_for(session: Session, submission: Submission) -> Framework | None:
    """Return the framework version a submission was made under (else the current one)."""
    record = session.scalar(
        sa.select(FrameworkRecord).where(
            FrameworkRecord.code == submission.framework_code,
            FrameworkRecord.version == submission.framework_version,
        )
    ) or find_record(session, submission.framework_code)
    return framework_of(record) if record is not None else None


def targeted(framework: Framework, submission: Submission) -> tuple[Competency, ...]:
    """Return the competencies a submission targets that its framework knows."""
    found = []
    for code in submission.competency_codes:
        try:
            found.append(framework.competency(code))
        except KeyError:
            continue
    return tuple(found)


def latest_version(session: Session, submission_id: int) -> SubmissionVersion | None:
    """Return the latest version handed in, or ``None``."""
    return session.scalar(
        sa.select(SubmissionVersion)
        .where(SubmissionVersion.submission_id == submission_id, ~SubmissionVersion.is_draft)
        .order_by(SubmissionVersion.number.desc())
        .limit(1)
    )


def open_evaluation(
    session: Session, submission: Submission, evaluator_id: int, now: dt.datetime, *, create: bool
) -> Opening:
    """Return this evaluator's evaluation of the latest version, created when ``create``."""
    version = latest_version(session, submission.id)
    if version is None:
        raise GradingError("EVAL_NOTHING_HANDED_IN")
    evaluations = session.scalars(
        sa.select(Evaluation).where(Evaluation.version_id == version.id).order_by(Evaluation.id)
    ).all()
    mine = next((e for e in evaluations if e.evaluator_id == evaluator_id), None)
    others = [e for e in evaluations if e.evaluator_id != evaluator_id]
    if mine is None and len(others) >= 2:
        raise GradingError("EVAL_THIRD_EVALUATOR")
    role = (
        EvaluationRole(mine.role)
        if mine
        else (EvaluationRole.JURY if others else EvaluationRole.EVALUATOR)
    )
    if mine is None and create:
        mine = Evaluation(
            submission_id=submission.id,
            version_id=version.id,
            evaluator_id=evaluator_id,
            role=role,
            status=EvaluationStatus.DRAFT,
            revision=0,  # never saved: the grid was shown with revision 0
            comment="",
            created_at=now,
            updated_at=now,
        )
        session.add(mine)
        session.flush()
    return Opening(submission, version, mine, role, others[0] if others else None)
