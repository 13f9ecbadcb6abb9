"""Rows of the evaluation tables, inserted directly: a course, people, work and judgements.

Domain tests build what a launch, a submission and a publication would have written,
without going through the pages, so each test states exactly the rows it needs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.evaluation import progress
from lti_tool.evaluation.models import (
    CompetencyDecision,
    CriterionResult,
    Evaluation,
    EvaluationRole,
    EvaluationStatus,
    Settlement,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    SubmissionVersion,
)
from lti_tool.models import LtiContext, LtiMembership, LtiResourceLink, LtiUser, Platform
from referentiel.model import Framework

FRAMEWORK = "community-manager-n6"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    """Return a time ``minutes`` after T0."""
    return T0 + dt.timedelta(minutes=minutes)


@dataclass(frozen=True)
class Course:
    """A course of a platform, as launches recorded it."""

    platform_id: int
    context_id: int


def course(session: Session, title: str = "Community Manager 2026") -> Course:
    """Insert a platform and one of its courses."""
    suffix = uuid.uuid4().hex[:8]
    platform = Platform(
        issuer=f"https://lms-{suffix}.example.edu",
        client_id=f"client-{suffix}",
        name=f"LMS {suffix}",
        auth_login_url="https://lms.example.edu/auth",
        auth_token_url="https://lms.example.edu/token",
        key_set_url="https://lms.example.edu/jwks",
    )
    session.add(platform)
    session.flush()
    context = LtiContext(
        issuer=platform.issuer, deployment_id="1", context_id=f"ctx-{suffix}", title=title
    )
    session.add(context)
    session.flush()
    return Course(platform.id, context.id)


def course_of(session: Session, context: LtiContext) -> Course:
    """Return a course launches recorded, with the first platform of its issuer."""
    platform = session.scalars(
        sa.select(Platform.id).where(Platform.issuer == context.issuer).order_by(Platform.id)
    ).first()
    assert platform is not None
    return Course(platform, context.id)


def person(session: Session, where: Course, name: str, *, is_staff: bool = False) -> int:
    """Insert a user who launched from the course; return their id."""
    issuer = session.get(LtiContext, where.context_id).issuer  # type: ignore[union-attr]
    user = LtiUser(issuer=issuer, sub=uuid.uuid4().hex, name=name)
    session.add(user)
    session.flush()
    role = "Instructor" if is_staff else "Learner"
    session.add(
        LtiMembership(
            context_id=where.context_id,
            user_id=user.id,
            roles=[f"http://purl.imsglobal.org/vocab/lis/v2/membership#{role}"],
            is_staff=is_staff,
        )
    )
    session.flush()
    return user.id


def placement(
    session: Session,
    where: Course,
    epreuve: str,
    *,
    framework: str = FRAMEWORK,
    competencies: str | None = None,
    title: str | None = None,
) -> int:
    """Insert a resource link placing an épreuve in the course; return its id."""
    custom = {"framework": framework, "epreuve": epreuve}
    if competencies is not None:
        custom["competencies"] = competencies
    link = LtiResourceLink(
        platform_id=where.platform_id,
        context_id=where.context_id,
        resource_link_id=uuid.uuid4().hex,
        title=title or f"Épreuve {epreuve}",
        custom=custom,
    )
    session.add(link)
    session.flush()
    return link.id


def submission(
    session: Session,
    where: Course,
    link_id: int,
    learner_id: int,
    competency_codes: Iterable[str],
    *,
    framework: str = FRAMEWORK,
    epreuve: str | None = "E1",
) -> Submission:
    """Insert a learner's submission for a placement (no version yet)."""
    row = Submission(
        context_id=where.context_id,
        resource_link_id=link_id,
        learner_id=learner_id,
        deployment_id="1",
        framework_code=framework,
        framework_version="1",
        epreuve_code=epreuve,
        competency_codes=list(competency_codes),
        status=SubmissionStatus.DRAFT,
    )
    session.add(row)
    session.flush()
    return row


def hand_in(
    session: Session,
    work: Submission,
    when: dt.datetime,
    *,
    text: str = "",
    links: Iterable[str] = (),
    files: Iterable[str] = (),
) -> SubmissionVersion:
    """Insert the next version of a submission, handed in at ``when``."""
    number = 1 + max((v.number for v in work.versions), default=0)
    version = SubmissionVersion(
        submission_id=work.id,
        number=number,
        text=text,
        links=list(links),
        is_draft=False,
        submitted_at=when,
    )
    for name in files:
        version.files.append(
            SubmissionFile(
                name=name,
                storage_key=uuid.uuid4().hex,
                content_type="application/pdf",
                size=1024,
                sha256="0" * 64,
            )
        )
    work.versions.append(version)
    work.status, work.submitted_at = SubmissionStatus.SUBMITTED, when
    session.flush()
    return version


def publish(
    session: Session,
    version: SubmissionVersion,
    evaluator_id: int,
    when: dt.datetime,
    scores: Mapping[str, float],
    *,
    role: EvaluationRole = EvaluationRole.EVALUATOR,
    overrides: Mapping[str, bool] | None = None,
    criteria: Mapping[str, tuple[str, bool]] | None = None,
    comment: str = "",
    settlement: Settlement = Settlement.SINGLE,
) -> Evaluation:
    """Insert a published evaluation: a score per competency, and levels per criterion.

    A competency is acquired by the rule when its share of criteria met is 1; an override
    replaces that decision and its score, as grading does.
    ``criteria`` maps a criterion code to its level code and whether it is met (the
    competency is the part of the code before the last ``-``).
    """
    overrides = overrides or {}
    evaluation = Evaluation(
        submission_id=version.submission_id,
        version_id=version.id,
        evaluator_id=evaluator_id,
        role=role,
        status=EvaluationStatus.PUBLISHED,
        comment=comment,
        published_at=when,
        score_given=sum(scores.values()),
        score_maximum=float(len(scores)),
    )
    for code, share in scores.items():
        rule = share >= 1.0
        override = overrides.get(code)
        # As grading stores it (referentiel.rules.attempt): an override scores 1 or 0.
        score = share if override is None else float(override)
        evaluation.competencies.append(
            CompetencyDecision(
                competency_code=code,
                comment=f"Commentaire sur {code}",
                score=score,
                is_rule_acquired=rule,
                override=override,
                justification=None if override is None else f"Justification pour {code}",
                is_acquired=rule if override is None else override,
                settlement=settlement,
            )
        )
    for criterion_code, (level, is_met) in (criteria or {}).items():
        evaluation.criteria.append(
            CriterionResult(
                criterion_code=criterion_code,
                competency_code=criterion_code.rsplit("-", 1)[0],
                level=level,
                is_met=is_met,
            )
        )
    session.add(evaluation)
    version.submission.status = SubmissionStatus.EVALUATED
    session.flush()
    return evaluation


def evaluated_e3(
    database: Database,
    framework: Framework,
    where: Course,
    link_id: int,
    learner_id: int,
    *,
    comment: str,
    share: float = 1.0,
    files: Iterable[str] = (),
) -> int:
    """Publish one evaluation of E3 for a learner, update their progress; return its id."""
    with database.session() as session:
        evaluator = person(session, where, "Paul Durand", is_staff=True)
        competencies = framework.epreuve("E3").competencies
        work = submission(session, where, link_id, learner_id, competencies, epreuve="E3")
        version = hand_in(session, work, at(0), files=files)
        evaluation = publish(
            session,
            version,
            evaluator,
            at(10),
            {"C2.1": share, "C2.2": 0.5},
            criteria={"C2.1-1": ("atteint", True)},
            comment=comment,
        )
        progress.update(session, framework, where.context_id, learner_id, at(20))
        return evaluation.id
