"""Erasing one person: their rows and files go, in one transaction; the erasure is recorded.

What a certifier must keep stays, pseudonymised, when ``JALON_ERASURE_KEEP_DECISIONS`` says
so (the default): the published evaluations of the person's work (levels, decisions,
scores, how each was settled) and the progress derived from them (competencies, blocs,
certification). Their free texts (comments, justifications), the work itself, its files
and the civil identity kept for the accrochage file go. The person's row then keeps only a
pseudonym (issuer ``urn:jalon:erased``, ``sub`` ``erased-<erasure number>``); so it does if
they evaluated others, whose published evaluations are those learners' records.

Statements: those the LRS may hold (delivered, or being sent by a relay right now) are
voided through the outbox; those it never received (waiting, or refused for good) are
deleted, since sending them only to void them would hand the LRS what is being erased.

Nothing here commits. Files are deleted once the caller's transaction commits
(:func:`lti_tool.evaluation.files.delete_after_commit`); :func:`sweep_leftovers` removes
those a crash kept, after the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.files import SweepReport, delete_after_commit
from lti_tool.evaluation.models import (
    CompetencyDecision,
    Evaluation,
    EvaluationStatus,
    GradePassback,
    LearnerProgress,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    SubmissionVersion,
)
from lti_tool.evaluation.storage import FileStorage
from lti_tool.models import CacheEntry, LtiMembership, LtiUser
from lti_tool.privacy.erase_certification import erase_certification, is_candidate
from lti_tool.privacy.models import Erasure
from lti_tool.privacy.person import PSEUDONYM_ISSUER, person_statements
from lti_tool.registration import normalise_issuer
from xapi.outbox import Status, enqueue, outbox
from xapi.voiding import voiding


@dataclass(frozen=True)
class ErasureRequest:
    """How to erase: what to keep, who asked and through what, and Jalon's public URL."""

    keep_decisions: bool
    requested_by: str
    channel: str
    base_url: str
    secret_key: str


@dataclass(frozen=True)
class ErasureReport:
    """The erasure's record id, its counts, and the storage keys to delete after commit."""

    erasure_id: int
    counts: dict[str, int]
    storage_keys: frozenset[str]


def person_hash(secret_key: str, issuer: str, sub: str) -> str:
    """Return the keyed hash that lets the key's holder recognise an erased person."""
    message = json.dumps([issuer, sub]).encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def erase(
    session: Session,
    person: LtiUser,
    storage: FileStorage,
    request: ErasureRequest,
    now: dt.datetime,
) -> ErasureReport:
    """Delete or pseudonymise everything about ``person``; record the erasure; flush only."""
    counts: Counter[str] = Counter()
    _statements(session, person, request.base_url, now, counts)
    keys = _submissions(session, person, request.keep_decisions, counts)
    _as_evaluator(session, person, counts)
    _progress_and_grades(session, person, request.keep_decisions, counts)
    _memberships_and_cache(session, person, counts)
    erase_certification(session, person, request.keep_decisions, counts)
    erasure = Erasure(
        erased_at=now,
        issuer=person.issuer,
        person_hash=person_hash(request.secret_key, person.issuer, person.sub),
        requested_by=request.requested_by.strip()[:255],
        channel=request.channel,
        is_decisions_kept=request.keep_decisions,
    )
    session.add(erasure)
    session.flush()
    _person_row(session, person, erasure, counts)
    erasure.counts = dict(sorted(counts.items()))
    session.flush()
    delete_after_commit(session, storage, keys)
    return ErasureReport(erasure.id, dict(erasure.counts), frozenset(keys))


def _statements(
    session: Session, person: LtiUser, base_url: str, now: dt.datetime, counts: Counter[str]
) -> None:
    """Void the statements the LRS may hold; delete the others."""
    found = person_statements(session, person, lock=True)
    held = [
        s
        for s in found
        if s.status == Status.DELIVERED
        or (s.status == Status.PENDING and s.claimed_until is not None and s.claimed_until > now)
    ]
    session.execute(sa.delete(outbox).where(outbox.c.id.in_([s.row_id for s in found])))
    enqueue(session, [voiding(base_url, s.statement_id, now) for s in held], now=now)
    counts["statements_voided"] += len(held)
    counts["statements_deleted_unsent"] += len(found) - len(held)


def _submissions(
    session: Session, person: LtiUser, keep_decisions: bool, counts: Counter[str]
) -> set[str]:
    """Delete the person's work; keep published evaluations' bare skeleton if asked."""
    mine = sa.select(Submission.id).where(Submission.learner_id == person.id)
    versions = sa.select(SubmissionVersion.id).where(SubmissionVersion.submission_id.in_(mine))
    files = sa.select(SubmissionFile).where(SubmissionFile.version_id.in_(versions))
    keys = {f.storage_key for f in session.scalars(files)}
    counts["files"] += session.scalar(sa.select(sa.func.count()).select_from(files.subquery())) or 0
    published = sa.select(Evaluation).where(
        Evaluation.submission_id.in_(mine), Evaluation.status == EvaluationStatus.PUBLISHED
    )
    kept = list(session.scalars(published)) if keep_decisions else []
    kept_versions = {e.version_id for e in kept}
    kept_submissions = {e.submission_id for e in kept}
    gone = sa.delete(Evaluation).where(
        Evaluation.submission_id.in_(mine), Evaluation.id.not_in([e.id for e in kept])
    )
    counts["evaluations_deleted"] += session.execute(gone).rowcount  # type: ignore[attr-defined]
    session.execute(sa.delete(SubmissionFile).where(SubmissionFile.version_id.in_(versions)))
    counts["versions_deleted"] += session.execute(  # type: ignore[attr-defined]
        sa.delete(SubmissionVersion).where(
            SubmissionVersion.submission_id.in_(mine),
            SubmissionVersion.id.not_in(sorted(kept_versions)),
        )
    ).rowcount
    counts["submissions_deleted"] += session.execute(  # type: ignore[attr-defined]
        sa.delete(Submission).where(
            Submission.learner_id == person.id, Submission.id.not_in(sorted(kept_submissions))
        )
    ).rowcount
    if kept:
        # The work goes; the version stays only as what the decisions were about.
        session.execute(
            sa.update(SubmissionVersion)
            .where(SubmissionVersion.id.in_(sorted(kept_versions)))
            .values(text="", links=[])
        )
        # A resubmission awaiting evaluation went: nothing is left for an evaluator to open.
        session.execute(
            sa.update(Submission)
            .where(Submission.id.in_(sorted(kept_submissions)))
            .values(status=SubmissionStatus.EVALUATED)
        )
        ids = [e.id for e in kept]
        session.execute(sa.update(Evaluation).where(Evaluation.id.in_(ids)).values(comment=""))
        decisions = sa.update(CompetencyDecision).where(CompetencyDecision.evaluation_id.in_(ids))
        session.execute(decisions.values(comment=""))
        session.execute(
            decisions.where(CompetencyDecision.justification.is_not(None)).values(justification="")
        )
    counts["evaluations_kept"] += len(kept)
    counts["submissions_kept"] += len(kept_submissions)
    return keys


def _as_evaluator(session: Session, person: LtiUser, counts: Counter[str]) -> None:
    """Delete the person's unpublished evaluations of others; count the published ones."""
    drafts = sa.delete(Evaluation).where(
        Evaluation.evaluator_id == person.id, Evaluation.status != EvaluationStatus.PUBLISHED
    )
    counts["evaluator_drafts_deleted"] += session.execute(drafts).rowcount  # type: ignore[attr-defined]
    counts["evaluations_judged_kept"] += (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Evaluation)
            .join(Submission, Submission.id == Evaluation.submission_id)
            .where(Evaluation.evaluator_id == person.id, Submission.learner_id != person.id)
        )
        or 0
    )


def _progress_and_grades(
    session: Session, person: LtiUser, keep_decisions: bool, counts: Counter[str]
) -> None:
    """Delete grades for the LMS; delete progress unless decisions are kept."""
    grades = sa.delete(GradePassback).where(GradePassback.learner_id == person.id)
    counts["grades_deleted"] += session.execute(grades).rowcount  # type: ignore[attr-defined]
    progress = sa.select(sa.func.count()).where(LearnerProgress.learner_id == person.id)
    if keep_decisions:
        counts["progress_kept"] += session.scalar(progress) or 0
        return
    gone = sa.delete(LearnerProgress).where(LearnerProgress.learner_id == person.id)
    counts["progress_deleted"] += session.execute(gone).rowcount  # type: ignore[attr-defined]


def _memberships_and_cache(session: Session, person: LtiUser, counts: Counter[str]) -> None:
    """Delete the person's roles in courses, and launch data still cached in the database."""
    gone = sa.delete(LtiMembership).where(LtiMembership.user_id == person.id)
    counts["memberships_deleted"] += session.execute(gone).rowcount  # type: ignore[attr-defined]
    # Launch records (lti_tool.lti.session.record) are JSON with ASCII escapes.
    needle = json.dumps(person.sub)
    stale = []
    for key, value in session.execute(
        sa.select(CacheEntry.key, CacheEntry.value).where(
            CacheEntry.value.contains(needle, autoescape=True)
        )
    ):
        try:
            claims = json.loads(value).get("claims")
        except (ValueError, AttributeError):
            continue
        if (
            isinstance(claims, dict)
            and claims.get("sub") == person.sub
            and normalise_issuer(str(claims.get("iss", ""))) == person.issuer
        ):
            stale.append(key)
    if stale:
        session.execute(sa.delete(CacheEntry).where(CacheEntry.key.in_(stale)))
    counts["launch_data_deleted"] += len(stale)


def _person_row(session: Session, person: LtiUser, erasure: Erasure, counts: Counter[str]) -> None:
    """Delete the person's row, or keep it as a pseudonym if decisions still point to it."""
    referenced = session.scalar(
        sa.select(
            sa.exists().where(Submission.learner_id == person.id)
            | sa.exists().where(Evaluation.evaluator_id == person.id)
            | sa.exists().where(LearnerProgress.learner_id == person.id)
            | is_candidate(person)
        )
    )
    if not referenced:
        session.execute(sa.delete(LtiUser).where(LtiUser.id == person.id))
        counts["person_deleted"] = 1
        return
    session.execute(
        sa.update(LtiUser)
        .where(LtiUser.id == person.id)
        .values(
            issuer=PSEUDONYM_ISSUER,
            # Not a bare number: statements name a learner by their course's platform and
            # ``sub``, and Moodle's subs are numbers.
            sub=f"erased-{erasure.id}",
            name=None,
            given_name=None,
            family_name=None,
            email=None,
            preferred_username=None,
            person_sourcedid=None,
        )
    )
    counts["person_pseudonymised"] = 1


def sweep_leftovers(session: Session, storage: FileStorage, keys: frozenset[str]) -> SweepReport:
    """Remove the erased files still stored (a crash between commit and deletion).

    Run after the commit: a key some row names again (none should) is left alone.
    """
    named = set(
        session.scalars(
            sa.select(SubmissionFile.storage_key).where(SubmissionFile.storage_key.in_(keys))
        )
    )
    report = SweepReport()
    for entry in storage.entries():
        if entry.is_partial or entry.name not in keys or entry.name in named:
            continue
        storage.remove(entry)
        report.files += 1
        report.bytes += entry.size
    return report
