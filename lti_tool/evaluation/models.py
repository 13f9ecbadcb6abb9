"""Tables of evaluation: submissions and their versions, evaluations, progress, grades.

A learner has one submission per placement (resource link); each time they hand it in, the
version is frozen and kept, and a resubmission starts a new version. An evaluation judges
one version, criterion by criterion, with a decision per competency; a second evaluator
(jury) may judge the same version, and the settled decision records how it was reached.
Progress is materialized per learner and course in ``learner_progress``, updated in the
transaction that publishes an evaluation, so pages and the class matrix only read it.
Grades for the LMS wait in ``grade_passbacks`` until the LMS accepts them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, created_at, utcnow


class SubmissionStatus(StrEnum):
    """Where a learner's work stands."""

    DRAFT = "draft"  # started, never handed in
    SUBMITTED = "submitted"  # handed in, awaiting an evaluation
    EVALUATED = "evaluated"  # its latest version has a published evaluation


class EvaluationRole(StrEnum):
    """Who judged: the first evaluator, or a second one acting as jury."""

    EVALUATOR = "evaluator"
    JURY = "jury"


class EvaluationStatus(StrEnum):
    """A draft is seen by its evaluator only; a published evaluation counts."""

    DRAFT = "draft"
    PUBLISHED = "published"


class Settlement(StrEnum):
    """How a version's decision on a competency was reached."""

    SINGLE = "single"  # one evaluation
    AGREED = "agreed"  # evaluator and jury agree
    JURY = "jury"  # they disagree: the jury is sovereign


class ProgressKind(StrEnum):
    """What a progress row is about."""

    COMPETENCY = "competency"
    BLOC = "bloc"
    CERTIFICATION = "certification"


class PassbackStatus(StrEnum):
    """Where a grade for the LMS stands."""

    PENDING = "pending"  # not yet accepted; retried with backoff
    SENT = "sent"  # the LMS accepted it
    FAILED = "failed"  # the LMS refused it for good (e.g. no AGS scope); shown to staff
    SUPERSEDED = "superseded"  # a newer grade for the same learner and placement replaced it


class CourseSettings(Base):
    """How progress is computed in one LMS course."""

    __tablename__ = "course_settings"

    context_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_contexts.id", ondelete="CASCADE"), primary_key=True
    )
    # referentiel.rules.Method values: latest, highest, average, weighted_average, ...
    method: Mapped[str] = mapped_column(sa.String(30), default="latest")
    method_parameter: Mapped[int | None]
    # Whether a teaching assistant (without the Learner role) may evaluate in this course.
    teaching_assistants_evaluate: Mapped[bool] = mapped_column(
        default=True, server_default=sa.true()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlacementSource(StrEnum):
    """How Jalon learned that an épreuve sits in a course."""

    DEEP_LINKING = "deep_linking"  # the deep-linking response Jalon signed
    LINE_ITEM = "line_item"  # a gradebook column whose resourceId names the épreuve


class EpreuvePlacement(Base):
    """An épreuve Jalon placed in a course, known before anyone launches it.

    The launched links (``lti_resource_links``) tell the same thing only once someone opened
    them; this row is written with the signed deep-linking response, so "Ma progression"
    names every épreuve of the course from the start.
    """

    __tablename__ = "placements"

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_contexts.id", ondelete="CASCADE"), index=True
    )
    framework_code: Mapped[str] = mapped_column(sa.String(100))
    epreuve_code: Mapped[str] = mapped_column(sa.String(50))
    # The competency codes the placement judges (the épreuve's, or those the instructor kept).
    competencies: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The custom parameters of the resource link returned to the platform.
    custom: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    source: Mapped[str] = mapped_column(sa.String(20), default=PlacementSource.DEEP_LINKING)
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Submission(Base):
    """A learner's work for one placed épreuve."""

    __tablename__ = "submissions"
    __table_args__ = (
        sa.UniqueConstraint(
            "resource_link_id", "learner_id", name="uq_submissions_resource_link_id"
        ),
        sa.Index("ix_submissions_context_status", "context_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_contexts.id", ondelete="CASCADE"))
    resource_link_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_resource_links.id", ondelete="CASCADE")
    )
    learner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_users.id", ondelete="CASCADE"), index=True
    )
    # The LTI deployment the learner came through (xAPI context), as the launch named it.
    deployment_id: Mapped[str] = mapped_column(sa.String(255))
    framework_code: Mapped[str] = mapped_column(sa.String(100))
    framework_version: Mapped[str] = mapped_column(sa.String(50))
    epreuve_code: Mapped[str | None] = mapped_column(sa.String(50))
    # The competencies the placement targets (the épreuve's, or fewer if narrowed).
    competency_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(20), default=SubmissionStatus.DRAFT)
    # Bumped by every change; a form posted with an older revision is stale.
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    versions: Mapped[list[SubmissionVersion]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        order_by="SubmissionVersion.number",
    )


class SubmissionVersion(Base):
    """One version of a submission: the draft being written, or a version handed in."""

    __tablename__ = "submission_versions"
    __table_args__ = (
        sa.UniqueConstraint("submission_id", "number", name="uq_submission_versions_submission_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text, default="")
    links: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    is_draft: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    submission: Mapped[Submission] = relationship(back_populates="versions")
    files: Mapped[list[SubmissionFile]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="SubmissionFile.id"
    )


class SubmissionFile(Base):
    """A file attached to a version; stored under a random key, never under its own name."""

    __tablename__ = "submission_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submission_versions.id", ondelete="CASCADE"), index=True
    )
    # The name shown to people (cleaned); the storage key is what names the bytes.
    name: Mapped[str] = mapped_column(sa.String(255))
    storage_key: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[created_at]

    version: Mapped[SubmissionVersion] = relationship(back_populates="files")


class Evaluation(Base):
    """One evaluator's judgement of one version of a submission."""

    __tablename__ = "evaluations"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "evaluator_id", name="uq_evaluations_version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submission_versions.id", ondelete="CASCADE")
    )
    evaluator_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(20), default=EvaluationRole.EVALUATOR)
    status: Mapped[str] = mapped_column(sa.String(20), default=EvaluationStatus.DRAFT)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    # Bumped by every save; a grid posted with an older revision is stale.
    revision: Mapped[int] = mapped_column(default=1)
    # The grade for the LMS: criteria met out of criteria judged.
    score_given: Mapped[float | None]
    score_maximum: Mapped[float | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    criteria: Mapped[list[CriterionResult]] = relationship(
        cascade="all, delete-orphan", order_by="CriterionResult.criterion_code"
    )
    competencies: Mapped[list[CompetencyDecision]] = relationship(
        cascade="all, delete-orphan", order_by="CompetencyDecision.competency_code"
    )


class CriterionResult(Base):
    """The level one evaluation gave one criterion."""

    __tablename__ = "evaluation_criteria"

    evaluation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evaluations.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_code: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    competency_code: Mapped[str] = mapped_column(sa.String(50))
    level: Mapped[str] = mapped_column(sa.String(50))  # a code of the framework's scale
    is_met: Mapped[bool]


class CompetencyDecision(Base):
    """One evaluation's decision on one competency, with its comment and any override."""

    __tablename__ = "evaluation_competencies"

    evaluation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evaluations.id", ondelete="CASCADE"), primary_key=True
    )
    competency_code: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    # Share of its criteria met, in [0, 1]; with an override, 1 or 0 (referentiel.rules.attempt)
    score: Mapped[float]
    is_rule_acquired: Mapped[bool]  # what the framework's rule decides
    # The evaluator's decision when it departs from the rule, with its mandatory reason.
    override: Mapped[bool | None]
    justification: Mapped[str | None] = mapped_column(sa.Text)
    is_acquired: Mapped[bool]  # the decision: the override if any, else the rule
    # Set on publication: how this version's decision was reached (single, agreed, jury).
    settlement: Mapped[str | None] = mapped_column(sa.String(20))


class LearnerProgress(Base):
    """A learner's standing in one course on a competency, a bloc or the certification.

    Rows are rewritten by the publication of an evaluation, in its transaction. For the
    certification, ``code`` is the framework's code.
    """

    __tablename__ = "learner_progress"
    __table_args__ = (
        sa.UniqueConstraint(
            "context_id",
            "learner_id",
            "framework_code",
            "kind",
            "code",
            name="uq_learner_progress_context_id",
        ),
        sa.Index("ix_learner_progress_context_framework", "context_id", "framework_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_contexts.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_users.id", ondelete="CASCADE"), index=True
    )
    framework_code: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(20))
    code: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(20))  # referentiel.rules.Status values
    score: Mapped[float | None]
    attempts: Mapped[int] = mapped_column(default=0)
    acquired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # On the certification row only: the status of every competency and bloc evaluated,
    # ``{"competency": {code: status}, "bloc": {code: status}}`` (absent: not evaluated),
    # so the class matrix reads one row per learner instead of ~50.
    statuses: Mapped[dict[str, dict[str, str]] | None] = mapped_column(sa.JSON)


class GradePassback(Base):
    """A score for the LMS gradebook, kept until the LMS accepts it."""

    __tablename__ = "grade_passbacks"
    __table_args__ = (sa.Index("ix_grade_passbacks_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evaluations.id", ondelete="CASCADE"), index=True
    )
    resource_link_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_resource_links.id", ondelete="CASCADE")
    )
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_users.id", ondelete="CASCADE"))
    score_given: Mapped[float]
    score_maximum: Mapped[float]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    activity_progress: Mapped[str] = mapped_column(sa.String(20), default="Completed")
    grading_progress: Mapped[str] = mapped_column(sa.String(20), default="FullyGraded")
    # The score's own time (AGS ``timestamp``): the LMS ignores one older than what it holds.
    scored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(20), default=PassbackStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.String(100))  # an LMS_* reason code
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]
