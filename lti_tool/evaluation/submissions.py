"""A learner's work for a placed épreuve: a draft to write, versions handed in.

A submission has at most one mutable draft, the highest version while ``is_draft``.
Handing it in freezes that version; changing the work afterwards starts a new draft that
copies the last version (its text, links and file rows, which point to the same stored
bytes), so every version handed in stays as it was. Once the work is evaluated it is
closed. Every change bumps ``Submission.revision`` with a conditional update, so a form
posted from an older page, or racing another tab, is refused instead of overwriting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from lti_tool.evaluation import statements
from lti_tool.evaluation.files import (
    StoredFile,
    Upload,
    UploadRules,
    delete_after_commit,
    discard,
    discard_on_rollback,
    store_all,
    stored_bytes,
)
from lti_tool.evaluation.models import (
    Evaluation,
    EvaluationStatus,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    SubmissionVersion,
)
from lti_tool.evaluation.placement import Placement
from lti_tool.evaluation.storage import FileStorage
from xapi.columns import utcnow

MAX_FILES = 10


@dataclass(frozen=True)
class Seat:
    """A learner at one placement, as the launch session names them."""

    context_id: int
    learner_id: int
    resource_link_id: int
    deployment_id: str


@dataclass(frozen=True)
class DraftChange:
    """What a learner's form sets: the text, the links, files to remove and to add."""

    text: str
    links: tuple[str, ...] = ()
    removed_file_ids: frozenset[int] = frozenset()
    uploads: tuple[Upload, ...] = ()


class SubmissionRefused(Exception):  # noqa: N818 (a refusal, like LaunchRejected)
    """A change the submission does not accept; ``field`` names the form field at fault."""

    status = 400
    field: str | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field or self.field


class StaleSubmission(SubmissionRefused):
    """The form was made for an older revision: someone changed the submission since."""

    status = 409


class SubmissionClosed(SubmissionRefused):
    """The work has been evaluated: it can no longer change."""

    status = 409


# Built once: building the clauses and the loader options cost more than running them.
_FIND = (
    sa.select(Submission)
    .where(
        Submission.resource_link_id == sa.bindparam("resource_link_id"),
        Submission.learner_id == sa.bindparam("learner_id"),
        Submission.context_id == sa.bindparam("context_id"),
    )
    .options(selectinload(Submission.versions).selectinload(SubmissionVersion.files))
)


def find(session: Session, seat: Seat) -> Submission | None:
    """Return the learner's submission at a placement, if they started one."""
    parameters = {
        "resource_link_id": seat.resource_link_id,
        "learner_id": seat.learner_id,
        "context_id": seat.context_id,
    }
    return session.scalar(_FIND, parameters)


def get_or_create(session: Session, seat: Seat, placement: Placement) -> Submission:
    """Return the learner's submission, creating it (at revision 0) on their first change.

    Two first changes may race (two tabs): the insert does nothing when the row exists, so
    the loser reads the winner's row, whose revision then makes its form stale.
    """
    submission = find(session, seat)
    if submission is not None:
        return submission
    assert placement.framework is not None  # noqa: S101 (callers check is_evaluable)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(Submission)
        .values(
            context_id=seat.context_id,
            resource_link_id=seat.resource_link_id,
            learner_id=seat.learner_id,
            deployment_id=seat.deployment_id,
            framework_code=placement.framework.code,
            framework_version=placement.version or placement.framework.identity.version,
            epreuve_code=placement.epreuve.code if placement.epreuve else None,
            competency_codes=[competency.code for competency in placement.competencies],
            status=SubmissionStatus.DRAFT,
            revision=0,  # a page shown before the submission existed carries 0
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["resource_link_id", "learner_id"])
    )
    submission = find(session, seat)
    if submission is None:  # pragma: no cover (deleted in between)
        raise RuntimeError("the submission upsert found no row")
    return submission


def revision_of(submission: Submission | None) -> int:
    """Return the revision a form about this submission carries (0 before it exists)."""
    return submission.revision if submission is not None else 0


def draft_of(submission: Submission) -> SubmissionVersion | None:
    """Return the mutable draft, if any: the highest version while it is a draft."""
    if submission.versions and submission.versions[-1].is_draft:
        return submission.versions[-1]
    return None


def kept_bytes(submission: Submission | None) -> int:
    """Return the bytes the learner's work keeps on disk: each stored file once, all versions."""
    if submission is None:
        return 0
    return stored_bytes(file for version in submission.versions for file in version.files)


def handed_in(submission: Submission | None) -> list[SubmissionVersion]:
    """Return the versions handed in, the latest first."""
    if submission is None:
        return []
    return [version for version in reversed(submission.versions) if not version.is_draft]


def _claim(session: Session, submission: Submission, revision: int, now: dt.datetime) -> None:
    """Bump the revision if it is still the one the form carried; refuse otherwise."""
    if submission.status == SubmissionStatus.EVALUATED:
        raise SubmissionClosed(
            _("Ce travail a été évalué : il ne peut plus être modifié ni remis à nouveau.")
        )
    result = session.execute(
        sa.update(Submission)
        .where(Submission.id == submission.id, Submission.revision == revision)
        .values(revision=revision + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleSubmission(
            _(
                "Votre travail a été modifié entre-temps (dans un autre onglet ou une autre "
                "fenêtre) : rien n’a été enregistré. Rechargez la page pour voir la dernière "
                "version, puis refaites vos changements."
            )
        )
    submission.revision = revision + 1
    submission.updated_at = now


def _open_draft(
    session: Session, submission: Submission, removed: frozenset[int]
) -> SubmissionVersion:
    """Return the draft without the removed files, starting one from the last version if need be.

    The page lists the files of the draft, or of the last version handed in when there is no
    draft yet: ``removed`` holds ids of that version's rows, so they are left out of the copy.
    """
    draft = draft_of(submission)
    if draft is not None:
        draft.files = [file for file in draft.files if file.id not in removed]
        return draft
    last = submission.versions[-1] if submission.versions else None
    draft = SubmissionVersion(
        number=last.number + 1 if last else 1,
        text=last.text if last else "",
        links=list(last.links) if last else [],
        is_draft=True,
        files=[
            SubmissionFile(
                name=file.name,
                storage_key=file.storage_key,
                content_type=file.content_type,
                size=file.size,
                sha256=file.sha256,
            )
            for file in (last.files if last else [])
            if file.id not in removed
        ],
    )
    submission.versions.append(draft)
    return draft


def save_draft(
    session: Session,
    submission: Submission,
    revision: int,
    change: DraftChange,
    storage: FileStorage,
    rules: UploadRules,
    now: dt.datetime,
) -> SubmissionVersion:
    """Write the form into the draft; store its new files, or none if one is refused.

    The learner's quota counts the bytes their work at this placement keeps once the files
    to remove are gone. Bytes no row names any more are deleted when the transaction
    commits; new bytes are deleted if it rolls back.
    """
    _claim(session, submission, revision, now)
    existing = draft_of(submission)
    before = {file.storage_key for file in existing.files} if existing else set()
    draft = _open_draft(session, submission, change.removed_file_ids)
    if len(draft.files) + len(change.uploads) > MAX_FILES:
        raise SubmissionRefused(
            _("Joignez au plus %(num)d fichiers à une version.", num=MAX_FILES), "files"
        )
    stored: list[StoredFile] = store_all(storage, change.uploads, rules, kept_bytes(submission))
    discard_on_rollback(session, storage, (file.stored.key for file in stored))
    try:
        draft.text = change.text
        draft.links = list(change.links)
        draft.files += [
            SubmissionFile(
                name=file.name,
                storage_key=file.stored.key,
                content_type=file.content_type,
                size=file.stored.size,
                sha256=file.stored.sha256,
            )
            for file in stored
        ]
        session.flush()
    except BaseException:
        discard(storage, (file.stored.key for file in stored))
        raise
    delete_after_commit(session, storage, before - {file.storage_key for file in draft.files})
    return draft


def hand_in(
    session: Session,
    submission: Submission,
    revision: int,
    placement: Placement,
    base_url: str,
    now: dt.datetime,
    language: str | None = None,
) -> SubmissionVersion:
    """Freeze the draft as a version handed in, and queue its *submitted* statement."""
    assert placement.framework is not None  # noqa: S101 (callers check is_evaluable)
    _claim(session, submission, revision, now)
    draft = draft_of(submission)
    if draft is None or not (draft.text.strip() or draft.links or draft.files):
        raise SubmissionRefused(
            _("Il n’y a rien à remettre : écrivez un texte, ajoutez un lien ou un fichier."),
            "text",
        )
    draft.is_draft = False
    draft.submitted_at = now
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at = now
    session.flush()
    statements.record_submitted(
        session, submission, draft.number, placement.framework, base_url, now, language
    )
    return draft


def published_evaluations(session: Session, submission: Submission | None) -> list[Evaluation]:
    """Return the published evaluations of a submission, latest version first (never drafts)."""
    if submission is None:
        return []
    return list(
        session.scalars(
            sa.select(Evaluation)
            .join(SubmissionVersion, SubmissionVersion.id == Evaluation.version_id)
            .where(
                Evaluation.submission_id == submission.id,
                Evaluation.status == EvaluationStatus.PUBLISHED,
            )
            .order_by(SubmissionVersion.number.desc(), Evaluation.role, Evaluation.id)
            .options(selectinload(Evaluation.criteria), selectinload(Evaluation.competencies))
        )
    )


def file_for_learner(
    session: Session, file_id: int, context_id: int, learner_id: int
) -> SubmissionFile | None:
    """Return a file of the learner's own submission in this course, else ``None``."""
    return session.scalar(
        sa.select(SubmissionFile)
        .join(SubmissionVersion, SubmissionVersion.id == SubmissionFile.version_id)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(
            SubmissionFile.id == file_id,
            Submission.learner_id == learner_id,
            Submission.context_id == context_id,
        )
    )


def file_for_staff(session: Session, file_id: int, context_id: int) -> SubmissionFile | None:
    """Return a file of any submission of the course, for its staff; else ``None``."""
    return session.scalar(
        sa.select(SubmissionFile)
        .join(SubmissionVersion, SubmissionVersion.id == SubmissionFile.version_id)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(SubmissionFile.id == file_id, Submission.context_id == context_id)
    )
