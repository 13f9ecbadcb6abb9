"""Rows of every kind the purge looks at, dated around a fixed ``NOW``.

Each helper inserts old and young rows of its kinds and returns their ids by what they
are, so a test says which must go and which must stay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.evaluation.models import (
    GradePassback,
    PassbackStatus,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    SubmissionVersion,
)
from lti_tool.evaluation.storage import FileStorage
from lti_tool.models import (
    AdminSession,
    CacheEntry,
    LtiMembership,
    RegistrationInvite,
)
from tests.lti_tool.evaluation import factories
from tests.xapi.samples import statement
from xapi import outbox
from xapi.outbox import Status

NOW = dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def outbox_rows(database: Database) -> dict[str, str]:
    """Insert statements delivered, dead (reviewed or not) and pending; return their ids."""
    shapes = {
        "delivered_31_days": (Status.DELIVERED, {"delivered_at": NOW - 31 * DAY}),
        "delivered_29_days": (Status.DELIVERED, {"delivered_at": NOW - 29 * DAY}),
        "dead_reviewed_31_days": (Status.DEAD, {"reviewed_at": NOW - 31 * DAY}),
        "dead_reviewed_29_days": (Status.DEAD, {"reviewed_at": NOW - 29 * DAY}),
        "dead_unreviewed": (Status.DEAD, {}),
        # Waiting for an LRS that was never configured, retried many times: it stays.
        "pending_old": (Status.PENDING, {"attempts": 40, "last_error": "HTTP 503"}),
    }
    ids = {}
    with database.session() as session:
        for name, (status, values) in shapes.items():
            record = statement()
            outbox.enqueue(session, [record], now=NOW - 400 * DAY)
            session.execute(
                sa.update(outbox.outbox)
                .where(outbox.outbox.c.statement_id == record.id)
                .values(status=status.value, **values)
            )
            ids[name] = record.id
    return ids


def _grade(
    session: Session,
    where: factories.Course,
    link_id: int,
    learner_id: int,
    status: PassbackStatus,
    *,
    sent_at: dt.datetime | None = None,
) -> int:
    evaluator = factories.person(session, where, "Prof", is_staff=True)
    work = session.scalars(
        sa.select(Submission).filter_by(resource_link_id=link_id, learner_id=learner_id)
    ).first() or factories.submission(session, where, link_id, learner_id, ["C1.1"])
    version = factories.hand_in(session, work, NOW - 500 * DAY)
    evaluation = factories.publish(session, version, evaluator, NOW - 500 * DAY, {"C1.1": 1.0})
    row = GradePassback(
        evaluation_id=evaluation.id,
        resource_link_id=link_id,
        learner_id=learner_id,
        score_given=1,
        score_maximum=1,
        scored_at=NOW - 500 * DAY,
        status=status,
        next_attempt_at=NOW - 400 * DAY,
        sent_at=sent_at,
        created_at=NOW - 400 * DAY,
    )
    session.add(row)
    session.flush()
    return row.id


def grade_rows(database: Database) -> dict[str, int]:
    """Insert grades sent, superseded, pending and refused; return their ids."""
    with database.session() as session:
        where = factories.course(session)
        link = factories.placement(session, where, "E1")
        lea, tom, ines = (factories.person(session, where, n) for n in ("Léa", "Tom", "Inès"))
        ids = {
            # Léa: an old grade superseded by one the LMS accepted 31 days ago.
            "superseded_by_sent": _grade(session, where, link, lea, PassbackStatus.SUPERSEDED),
            "sent_31_days": _grade(
                session, where, link, lea, PassbackStatus.SENT, sent_at=NOW - 31 * DAY
            ),
            # Tom: his grade was accepted 29 days ago.
            "sent_29_days": _grade(
                session, where, link, tom, PassbackStatus.SENT, sent_at=NOW - 29 * DAY
            ),
            # Inès: a superseded grade whose replacement never got through.
            "superseded_by_pending": _grade(session, where, link, ines, PassbackStatus.SUPERSEDED),
            "pending_newer": _grade(session, where, link, ines, PassbackStatus.PENDING),
        }
        other_link = factories.placement(session, where, "E2")
        ids["pending_old"] = _grade(session, where, other_link, tom, PassbackStatus.PENDING)
        ids["failed_old"] = _grade(session, where, other_link, lea, PassbackStatus.FAILED)
    return ids


def short_lived_rows(database: Database) -> dict[str, str | int]:
    """Insert cache entries, admin sessions and invitations, expired or not."""
    with database.session() as session:
        session.add_all(
            [
                CacheEntry(
                    key="nonce-expired", value="1", expires_at=NOW - dt.timedelta(seconds=1)
                ),
                CacheEntry(key="launch-live", value="{}", expires_at=NOW + dt.timedelta(hours=1)),
                AdminSession(id="a" * 64, created_at=NOW - DAY, expires_at=NOW - 1 * DAY / 2),
                AdminSession(
                    id="b" * 64, created_at=NOW - DAY, expires_at=NOW + DAY, ended_at=NOW - DAY
                ),
                AdminSession(id="c" * 64, created_at=NOW - DAY, expires_at=NOW + DAY),
            ]
        )
        platform_id = factories.course(session).platform_id
        invites = {
            "expired_invite": RegistrationInvite(
                token_hash="1" * 64, created_at=NOW - 8 * DAY, expires_at=NOW - DAY
            ),
            # Used, and its platform was removed since.
            "orphan_invite": RegistrationInvite(
                token_hash="2" * 64,
                created_at=NOW - 8 * DAY,
                expires_at=NOW - DAY,
                used_at=NOW - 7 * DAY,
            ),
            # Used by a platform still registered: it says how the platform was approved.
            "used_invite": RegistrationInvite(
                token_hash="3" * 64,
                created_at=NOW - 8 * DAY,
                expires_at=NOW - DAY,
                used_at=NOW - 7 * DAY,
                platform_id=platform_id,
            ),
            "live_invite": RegistrationInvite(
                token_hash="4" * 64, created_at=NOW - DAY, expires_at=NOW + DAY
            ),
        }
        session.add_all(invites.values())
        session.flush()
        return {
            "live_key": "launch-live",
            "live_session": "c" * 64,
            **{name: invite.id for name, invite in invites.items()},
        }


def stored_file(storage: FileStorage, content: bytes, name: str = "notes.pdf") -> SubmissionFile:
    """Store bytes and return a file row naming them (not yet attached)."""
    kept = storage.save(io.BytesIO(content), 1 << 20)
    return SubmissionFile(
        name=name,
        storage_key=kept.key,
        content_type="application/pdf",
        size=kept.size,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def draft(
    session: Session,
    where: factories.Course,
    link_id: int,
    learner_id: int,
    files: list[SubmissionFile],
    *,
    changed: dt.datetime,
) -> int:
    """Insert a submission never handed in, its one draft changed at ``changed``."""
    work = factories.submission(session, where, link_id, learner_id, ["C1.1"])
    work.versions.append(SubmissionVersion(number=1, text="début", is_draft=True, files=files))
    work.created_at = work.updated_at = changed
    session.flush()
    return work.id


def started_again(
    session: Session,
    where: factories.Course,
    link_id: int,
    learner_id: int,
    handed_in: SubmissionFile,
    added: SubmissionFile,
    *,
    changed: dt.datetime,
) -> tuple[int, int]:
    """Insert work handed in, then a new draft copying its file and adding one.

    Return the ids of the version handed in and of the draft.
    """
    work = factories.submission(session, where, link_id, learner_id, ["C1.1"])
    first = SubmissionVersion(number=1, text="remis", is_draft=False, submitted_at=changed)
    first.files.append(handed_in)
    copy = SubmissionFile(
        name=handed_in.name,
        storage_key=handed_in.storage_key,
        content_type=handed_in.content_type,
        size=handed_in.size,
        sha256=handed_in.sha256,
    )
    second = SubmissionVersion(number=2, text="suite", is_draft=True, files=[copy, added])
    work.versions += [first, second]
    work.status = SubmissionStatus.SUBMITTED
    work.created_at = work.updated_at = changed
    session.flush()
    return first.id, second.id


def membership_changed(session: Session, context_id: int, user_id: int, when: dt.datetime) -> None:
    """Date a learner's membership (their roles' last change)."""
    session.execute(
        sa.update(LtiMembership)
        .where(LtiMembership.context_id == context_id, LtiMembership.user_id == user_id)
        .values(updated_at=when)
    )


def learner_sub(session: Session, user_id: int) -> str:
    """Return a learner's LTI id."""
    from lti_tool.models import LtiUser

    user = session.get(LtiUser, user_id)
    assert user is not None
    return user.sub
