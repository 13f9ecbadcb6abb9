"""Everything Jalon holds about one person, as a ZIP of JSON files and their handed-in files.

The right of access and the right to data portability (GDPR articles 15 and 20): the
archive is machine-readable (JSON, UTF-8, keys that do not change between versions, dates
in ISO 8601 UTC) and a ``README.txt`` in French and English says what each file holds.
Other people appear only by role: an evaluator's identity is theirs, not the learner's.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterable
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from lti_tool.evaluation.models import (
    Evaluation,
    GradePassback,
    LearnerProgress,
    Submission,
    SubmissionVersion,
)
from lti_tool.evaluation.storage import FileStorage
from lti_tool.models import LtiContext, LtiMembership, LtiResourceLink, LtiUser
from lti_tool.privacy.export_certification import identity_document
from lti_tool.privacy.person import person_statements
from lti_tool.privacy.readme import README

FORMAT = "jalon-learner-export/1"


def when(moment: dt.datetime | None) -> str | None:
    """Return an instant as ISO 8601 in UTC (``2026-12-06T14:20:00+00:00``), or None."""
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def documents(session: Session, person: LtiUser, now: dt.datetime) -> dict[str, Any]:
    """Return each JSON file of the export by its name in the archive."""
    submissions = _submissions(session, person)
    evaluations = session.scalars(
        sa.select(Evaluation)
        .join(Submission, Submission.id == Evaluation.submission_id)
        .where(Submission.learner_id == person.id)
        .options(selectinload(Evaluation.criteria), selectinload(Evaluation.competencies))
        .order_by(Evaluation.id)
    ).all()
    version_numbers = {v.id: v.number for s in submissions for v in s.versions}
    return {
        "person.json": _person(person, now),
        "courses.json": _courses(session, person),
        "submissions.json": [_submission(session, s) for s in submissions],
        "evaluations.json": [_evaluation(e, version_numbers) for e in evaluations],
        "decisions.json": [
            _decision(e, d) for e in evaluations if e.status == "published" for d in e.competencies
        ],
        "as_evaluator.json": _as_evaluator(session, person),
        "progress.json": _progress(session, person),
        "grades.json": _grades(session, person),
        "certification_identity.json": identity_document(session, person),
        "xapi_statements.json": [
            {
                "statement_id": s.statement_id,
                "status": s.status,
                "queued_at": when(s.created_at),
                "delivered_at": when(s.delivered_at),
                "statement": s.document,
            }
            for s in person_statements(session, person)
        ],
    }


def write_zip(
    session: Session, person: LtiUser, storage: FileStorage, out: BinaryIO, now: dt.datetime
) -> int:
    """Write the person's archive to ``out``; return how many files it holds."""
    docs = documents(session, person, now)
    stamp = now.astimezone(dt.UTC).timetuple()[:6]
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes) -> None:
            nonlocal count
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, zipfile.ZIP_DEFLATED)
            count += 1

        add("README.txt", README.encode())
        for submission in docs["submissions.json"]:
            for version in submission["versions"]:
                for item in version["files"]:
                    try:
                        add(item["path"], storage.read(item["storage_key"]))
                    except KeyError:
                        item["path"] = None  # the bytes are gone; the row says what they were
                    del item["storage_key"]
        for name, data in docs.items():
            text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            add(name, text.encode())
    return count


def _person(person: LtiUser, now: dt.datetime) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "exported_at": when(now),
        "issuer": person.issuer,
        "sub": person.sub,
        "name": person.name,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "email": person.email,
        "preferred_username": person.preferred_username,
        "person_sourcedid": person.person_sourcedid,
        "first_seen_at": when(person.created_at),
    }


def _course(context: LtiContext) -> dict[str, Any]:
    return {
        "deployment_id": context.deployment_id,
        "context_id": context.context_id,
        "label": context.label,
        "title": context.title,
    }


def _courses(session: Session, person: LtiUser) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(LtiMembership, LtiContext)
        .join(LtiContext, LtiContext.id == LtiMembership.context_id)
        .where(LtiMembership.user_id == person.id)
        .order_by(LtiMembership.id)
    ).all()
    return [
        {
            "course": _course(context),
            "roles": list(membership.roles),
            "is_staff": membership.is_staff,
            "last_launch_at": when(membership.updated_at),
        }
        for membership, context in rows
    ]


def _submissions(session: Session, person: LtiUser) -> list[Submission]:
    return list(
        session.scalars(
            sa.select(Submission)
            .where(Submission.learner_id == person.id)
            .options(selectinload(Submission.versions).selectinload(SubmissionVersion.files))
            .order_by(Submission.id)
        )
    )


def _submission(session: Session, submission: Submission) -> dict[str, Any]:
    context = session.get(LtiContext, submission.context_id)
    link = session.get(LtiResourceLink, submission.resource_link_id)
    return {
        "submission_id": submission.id,
        "course": _course(context) if context else None,
        "resource_link": {"id": link.resource_link_id, "title": link.title} if link else None,
        "framework_code": submission.framework_code,
        "framework_version": submission.framework_version,
        "epreuve_code": submission.epreuve_code,
        "competency_codes": list(submission.competency_codes),
        "status": submission.status,
        "created_at": when(submission.created_at),
        "updated_at": when(submission.updated_at),
        "submitted_at": when(submission.submitted_at),
        "versions": [
            {
                "number": version.number,
                "is_draft": version.is_draft,
                "text": version.text,
                "links": list(version.links),
                "created_at": when(version.created_at),
                "submitted_at": when(version.submitted_at),
                "files": [
                    {
                        "name": f.name,
                        "content_type": f.content_type,
                        "size": f.size,
                        "sha256": f.sha256,
                        "uploaded_at": when(f.created_at),
                        "path": f"files/{submission.id}/v{version.number}/{f.id}-{f.name}",
                        "storage_key": f.storage_key,
                    }
                    for f in version.files
                ],
            }
            for version in submission.versions
        ],
    }


def _evaluation(evaluation: Evaluation, version_numbers: dict[int, int]) -> dict[str, Any]:
    return {
        "evaluation_id": evaluation.id,
        "submission_id": evaluation.submission_id,
        "version": version_numbers.get(evaluation.version_id),
        "evaluator_role": evaluation.role,
        "status": evaluation.status,
        "comment": evaluation.comment,
        "score_given": evaluation.score_given,
        "score_maximum": evaluation.score_maximum,
        "created_at": when(evaluation.created_at),
        "updated_at": when(evaluation.updated_at),
        "published_at": when(evaluation.published_at),
        "criteria": [
            {
                "criterion_code": c.criterion_code,
                "competency_code": c.competency_code,
                "level": c.level,
                "is_met": c.is_met,
            }
            for c in evaluation.criteria
        ],
    }


def _decision(evaluation: Evaluation, decision: Any) -> dict[str, Any]:
    return {
        "evaluation_id": evaluation.id,
        "submission_id": evaluation.submission_id,
        "competency_code": decision.competency_code,
        "is_acquired": decision.is_acquired,
        "is_rule_acquired": decision.is_rule_acquired,
        "score": decision.score,
        "override": decision.override,
        "justification": decision.justification,
        "comment": decision.comment,
        "settlement": decision.settlement,
        "published_at": when(evaluation.published_at),
    }


def _as_evaluator(session: Session, person: LtiUser) -> dict[str, Any]:
    rows = session.execute(
        sa.select(Evaluation.role, Evaluation.status, sa.func.count())
        .where(Evaluation.evaluator_id == person.id)
        .group_by(Evaluation.role, Evaluation.status)
        .order_by(Evaluation.role, Evaluation.status)
    ).all()
    return {
        "has_evaluated": bool(rows),
        # Counts only: the learners they judged are those learners' data.
        "evaluations": [{"role": r, "status": s, "count": n} for r, s, n in rows],
    }


def _progress(session: Session, person: LtiUser) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(LearnerProgress, LtiContext)
        .join(LtiContext, LtiContext.id == LearnerProgress.context_id)
        .where(LearnerProgress.learner_id == person.id)
        .order_by(LearnerProgress.id)
    ).all()
    return [
        {
            "course": _course(context),
            "framework_code": p.framework_code,
            "kind": p.kind,
            "code": p.code,
            "status": p.status,
            "score": p.score,
            "attempts": p.attempts,
            "acquired_at": when(p.acquired_at),
            "updated_at": when(p.updated_at),
        }
        for p, context in rows
    ]


def _grades(session: Session, person: LtiUser) -> list[dict[str, Any]]:
    rows: Iterable[GradePassback] = session.scalars(
        sa.select(GradePassback)
        .where(GradePassback.learner_id == person.id)
        .order_by(GradePassback.id)
    )
    return [
        {
            "evaluation_id": g.evaluation_id,
            "score_given": g.score_given,
            "score_maximum": g.score_maximum,
            "comment": g.comment,
            "scored_at": when(g.scored_at),
            "status": g.status,
            "sent_at": when(g.sent_at),
        }
        for g in rows
    ]
