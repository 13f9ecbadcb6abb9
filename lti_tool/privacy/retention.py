"""Drafts of learners gone from their course: what "gone" means, and their purge.

A draft is work a learner never handed in: a submission still ``draft``, or the new version
a learner started after handing one in. Versions handed in are the evidence of an
evaluation and stay (erasing them is ``jalon learner erase``'s).

LTI tells Jalon when someone arrives, never when they leave, and Jalon does not write at
every launch. What it knows of a learner in a course is the last change to their draft
(``submissions.updated_at``), the last change of their roles there
(``lti_memberships.updated_at``), and the course's roster when the LMS offers it (NRPS). A
learner is *gone* from a course when:

1. neither their draft nor their membership changed for ``JALON_RETENTION_DRAFT_DAYS``
   (or they have no membership left there); and
2. the LMS's roster, read at purge time, does not list them as an active member. When the
   course offers no roster (no placement with a memberships URL, or the scope not granted),
   the first condition alone decides; when the LMS fails to answer, the course is skipped
   and its drafts wait for the next purge: an outage never counts as a departure.

The draft's rows go in one transaction per course, the conditions checked again by the
deletes themselves (a learner who came back meanwhile keeps their draft); the bytes of its
files go once that transaction commits, unless a version handed in still names them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.evaluation.files import delete_after_commit
from lti_tool.evaluation.models import (
    Evaluation,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    SubmissionVersion,
)
from lti_tool.evaluation.storage import FileStorage
from lti_tool.models import LtiMembership, LtiResourceLink, LtiUser

NOT_OFFERED = "LMS_SERVICE_NOT_OFFERED"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class RosterUnavailable(Exception):  # noqa: N818 (an LMS's answer, not a bug)
    """The LMS did not give the roster this time; ``code`` is its ``LMS_*`` reason."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class RosterReader(Protocol):
    """Read a course's active members' LTI ids (``sub``); None when it offers no roster."""

    def __call__(self, session: Session, context_id: int) -> frozenset[str] | None:
        """Return the ids, None, or raise :class:`RosterUnavailable`."""
        ...


def no_roster(session: Session, context_id: int) -> frozenset[str] | None:
    """Read no roster: the inactivity condition alone decides (a Jalon without an LMS)."""
    return None


def lms_roster(app: Flask) -> RosterReader:
    """Return a reader of the rosters through the app's NRPS client."""
    from lti_tool.services import LmsServiceError, context_for_resource_link, lms_services

    def read(session: Session, context_id: int) -> frozenset[str] | None:
        link = session.scalars(
            sa.select(LtiResourceLink)
            .where(
                LtiResourceLink.context_id == context_id,
                LtiResourceLink.memberships_url.is_not(None),
            )
            .order_by(LtiResourceLink.updated_at.desc(), LtiResourceLink.id.desc())
            .limit(1)
        ).first()
        if link is None:
            return None
        with app.app_context():
            try:
                roster = lms_services().nrps.members(context_for_resource_link(session, link))
            except LmsServiceError as exc:
                if exc.code == NOT_OFFERED:
                    return None
                raise RosterUnavailable(exc.code) from exc
        return frozenset(m.user_id for m in roster.members if m.status == "Active")

    return read


@dataclass
class DraftsPurged:
    """What the drafts purge removed (or would remove)."""

    drafts: int = 0
    files: int = 0
    courses_skipped: int = 0


@dataclass(frozen=True)
class _Draft:
    submission_id: int
    version_id: int | None  # None: the submission was never handed in, it goes whole
    sub: str


def _idle(cutoff: dt.datetime) -> sa.ColumnElement[bool]:
    """Return the condition that neither the draft nor its learner's membership changed."""
    membership = (
        sa.select(LtiMembership.updated_at)
        .where(
            LtiMembership.context_id == Submission.context_id,
            LtiMembership.user_id == Submission.learner_id,
        )
        .scalar_subquery()
    )
    return (Submission.updated_at <= cutoff) & (sa.func.coalesce(membership, EPOCH) <= cutoff)


def _unjudged_version() -> sa.ColumnElement[bool]:
    return ~sa.exists().where(Evaluation.version_id == SubmissionVersion.id)


def _unjudged_submission() -> sa.ColumnElement[bool]:
    return ~sa.exists().where(Evaluation.submission_id == Submission.id)


def _candidates(session: Session, cutoff: dt.datetime) -> dict[int, list[_Draft]]:
    """Return the idle drafts by course: whole draft submissions, then draft versions."""
    by_course: dict[int, list[_Draft]] = defaultdict(list)
    never_handed_in = (
        sa.select(Submission.context_id, Submission.id, LtiUser.sub)
        .join(LtiUser, LtiUser.id == Submission.learner_id)
        .where(Submission.status == SubmissionStatus.DRAFT, _idle(cutoff), _unjudged_submission())
    )
    for context_id, submission_id, sub in session.execute(never_handed_in):
        by_course[context_id].append(_Draft(submission_id, None, sub))
    started_again = (
        sa.select(Submission.context_id, Submission.id, SubmissionVersion.id, LtiUser.sub)
        .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
        .join(LtiUser, LtiUser.id == Submission.learner_id)
        .where(
            Submission.status != SubmissionStatus.DRAFT,
            SubmissionVersion.is_draft.is_(True),
            _idle(cutoff),
            _unjudged_version(),
        )
    )
    for context_id, submission_id, version_id, sub in session.execute(started_again):
        by_course[context_id].append(_Draft(submission_id, version_id, sub))
    return by_course


def _remove(
    session: Session, drafts: list[_Draft], cutoff: dt.datetime, storage: FileStorage
) -> DraftsPurged:
    """Delete drafts whose conditions still hold; their bytes go after the commit."""
    whole = [d.submission_id for d in drafts if d.version_id is None]
    versions = [d.version_id for d in drafts if d.version_id is not None]
    # Re-checked here: a learner who came back since the candidates were read keeps theirs.
    whole = list(
        session.scalars(
            sa.select(Submission.id)
            .where(
                Submission.id.in_(whole),
                Submission.status == SubmissionStatus.DRAFT,
                _idle(cutoff),
                _unjudged_submission(),
            )
            .with_for_update()
        )
    )
    versions = list(
        session.scalars(
            sa.select(SubmissionVersion.id)
            .join(Submission, Submission.id == SubmissionVersion.submission_id)
            .where(
                SubmissionVersion.id.in_(versions),
                SubmissionVersion.is_draft.is_(True),
                _idle(cutoff),
                _unjudged_version(),
            )
            .with_for_update(of=Submission)
        )
    )
    version_ids = versions + list(
        session.scalars(
            sa.select(SubmissionVersion.id).where(SubmissionVersion.submission_id.in_(whole))
        )
    )
    if versions:
        # A form drawn before the purge names a draft that is gone: it is now stale.
        session.execute(
            sa.update(Submission)
            .where(
                Submission.id.in_(
                    sa.select(SubmissionVersion.submission_id).where(
                        SubmissionVersion.id.in_(versions)
                    )
                )
            )
            .values(revision=Submission.revision + 1)
        )
    files = sa.select(SubmissionFile.storage_key).where(SubmissionFile.version_id.in_(version_ids))
    keys = set(session.scalars(files))
    removed_files = session.execute(
        sa.delete(SubmissionFile).where(SubmissionFile.version_id.in_(version_ids))
    ).rowcount  # type: ignore[attr-defined]
    session.execute(sa.delete(SubmissionVersion).where(SubmissionVersion.id.in_(version_ids)))
    session.execute(sa.delete(Submission).where(Submission.id.in_(whole)))
    session.flush()
    delete_after_commit(session, storage, keys)
    return DraftsPurged(drafts=len(whole) + len(versions), files=int(removed_files))


def purge_drafts(
    sessions: sessionmaker[Session],
    cutoff: dt.datetime,
    storage: FileStorage,
    roster: RosterReader,
    *,
    dry_run: bool = False,
    renew: Callable[[], None] = lambda: None,
) -> DraftsPurged:
    """Remove (or count) the drafts of learners gone from their course since ``cutoff``."""
    total = DraftsPurged()
    with sessions() as session:
        by_course = _candidates(session, cutoff)
    for context_id, drafts in sorted(by_course.items()):
        renew()
        try:
            # A transaction of its own: the first service call may make the tool's key.
            with sessions.begin() as session:
                present = roster(session, context_id)
        except RosterUnavailable:
            total.courses_skipped += 1
            continue
        gone = [d for d in drafts if present is None or d.sub not in present]
        if not gone:
            continue
        if dry_run:
            total.drafts += len(gone)
            total.files += _count_files(sessions, gone)
            continue
        with sessions.begin() as session:
            done = _remove(session, gone, cutoff, storage)
        total.drafts += done.drafts
        total.files += done.files
    return total


def _count_files(sessions: sessionmaker[Session], drafts: list[_Draft]) -> int:
    """Return how many file rows removing these drafts would remove."""
    versions = [d.version_id for d in drafts if d.version_id is not None]
    whole = [d.submission_id for d in drafts if d.version_id is None]
    with sessions() as session:
        return int(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(SubmissionFile)
                .join(SubmissionVersion, SubmissionVersion.id == SubmissionFile.version_id)
                .where(
                    SubmissionVersion.id.in_(versions) | SubmissionVersion.submission_id.in_(whole)
                )
            )
            or 0
        )
