"""Files learners hand in: what is accepted, the names shown, and the life of their bytes.

The bytes are named by a random key, never by the name the browser sent, so no uploaded
name can reach a path; the name is only cleaned for display. A
:class:`~lti_tool.evaluation.storage.FileStorage` keeps the bytes: a directory under the
instance folder in production, a dict in tests; ``create_app(file_storage=...)`` chooses,
like the LMS services.

Bytes follow the transaction that refers to them: the bytes of a new upload are deleted if
it rolls back, and the bytes a change stopped referring to are deleted only once it commits
(:func:`delete_after_commit`), so a rollback never loses bytes a row still names. What a
crash leaves behind is swept by ``jalon files purge`` (:func:`sweep`).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import SubmissionFile
from lti_tool.evaluation.storage import (
    FileStorage,
    LocalFileStorage,
    StoredBytes,
    TooLarge,
)
from lti_tool.i18n import size_label

MAX_NAME = 200
# What a download is served as: known harmless types, everything else as plain bytes. The
# browser saves it anyway (Content-Disposition: attachment), and nosniff keeps it that way.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "zip": "application/zip",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class Upload:
    """A file as the form sent it: the name the browser gave, and its bytes."""

    raw_name: str
    stream: BinaryIO


@dataclass(frozen=True)
class StoredFile:
    """A file accepted and stored, ready to be attached to a version."""

    name: str
    content_type: str
    stored: StoredBytes


@dataclass(frozen=True)
class UploadRules:
    """How large a file may be, which extensions are accepted, how much a learner may keep.

    ``quota_bytes`` bounds the bytes a learner's work at one placement keeps on disk: every
    stored file of every version, each stored file counted once (versions share them).
    """

    max_bytes: int
    types: frozenset[str]
    quota_bytes: int = 100 * 1024 * 1024


class UploadRefused(ValueError):  # noqa: N818 (a refusal, like LaunchRejected)
    """A file was refused; the message names it and says why."""


def uploads_folder(instance_path: Path) -> Path:
    """Return the folder of the local storage: ``uploads`` in the instance folder."""
    return Path(instance_path) / "uploads"


def file_storage() -> FileStorage:
    """Return the app's file storage: the one given to ``create_app``, else the directory."""
    storage: FileStorage | None = current_app.extensions.get("jalon.file_storage")
    if storage is None:
        storage = current_app.extensions["jalon.services"].get("file_storage")
        if storage is None:
            storage = LocalFileStorage(uploads_folder(current_app.config["JALON"].instance_path))
        current_app.extensions["jalon.file_storage"] = storage
    return storage


def upload_rules() -> UploadRules:
    """Return the app's limits on uploads (``JALON_UPLOAD_MAX_MB``, ``_TYPES``, ``_QUOTA_MB``)."""
    settings = current_app.config["JALON"]
    return UploadRules(
        settings.upload_max_bytes, frozenset(settings.upload_types), settings.upload_quota_bytes
    )


def clean_name(raw: str) -> str:
    r"""Return a name fit to show and to offer as a download name.

    Only the last path segment is kept (browsers on Windows send ``C:\\…``), control and
    format characters go, and a name left empty or made only of dots becomes "fichier".
    """
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    if not name:
        return "fichier"
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME]
    return name


def extension_of(name: str) -> str:
    """Return a name's extension, lowercase and without the dot ("" if none)."""
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""


def content_type_of(name: str) -> str:
    """Return the content type a file of this name is served as."""
    return CONTENT_TYPES.get(extension_of(name), OCTET_STREAM)


def check_type(raw_name: str, rules: UploadRules) -> str | None:
    """Return why a file's type is refused, or ``None`` if it is accepted."""
    name = clean_name(raw_name)
    if extension_of(name) in rules.types:
        return None
    if not extension_of(name):
        return str(
            _(
                "« %(name)s » n’a pas d’extension (comme .pdf) : renommez le fichier avec "
                "l’extension de son type (types acceptés : %(types)s).",
                name=name,
                types=", ".join(sorted(rules.types)),
            )
        )
    return str(
        _(
            "« %(name)s » : ce type de fichier n’est pas accepté (types acceptés : %(types)s).",
            name=name,
            types=", ".join(sorted(rules.types)),
        )
    )


def store_all(
    storage: FileStorage, uploads: Sequence[Upload], rules: UploadRules, used_bytes: int = 0
) -> list[StoredFile]:
    """Store every file, or none: raise :class:`UploadRefused` naming the first refused.

    ``used_bytes`` is what the learner's work already keeps on disk: a file that would take
    it past the quota is refused like a file past the size limit, while it streams in.
    """
    for upload in uploads:
        refusal = check_type(upload.raw_name, rules)
        if refusal:
            raise UploadRefused(refusal)
    stored: list[StoredFile] = []
    try:
        for upload in uploads:
            name = clean_name(upload.raw_name)
            room = rules.quota_bytes - used_bytes - sum(file.stored.size for file in stored)
            try:
                kept = storage.save(upload.stream, max(0, min(rules.max_bytes, room)))
            except TooLarge:
                raise UploadRefused(_too_large(name, rules, used_bytes, room)) from None
            stored.append(StoredFile(name, content_type_of(name), kept))
    except BaseException:
        discard(storage, (file.stored.key for file in stored))
        raise
    return stored


def _too_large(name: str, rules: UploadRules, used_bytes: int, room: int) -> str:
    if room >= rules.max_bytes:
        return str(
            _(
                "« %(name)s » dépasse la taille maximale d’un fichier (%(size)s).",
                name=name,
                size=size_label(rules.max_bytes),
            )
        )
    return str(
        _(
            "« %(name)s » dépasse l’espace qui vous reste pour cette épreuve (%(room)s sur "
            "%(quota)s) : rien n’a été enregistré. Retirez des fichiers du brouillon, ou "
            "joignez un fichier plus petit.",
            name=name,
            room=size_label(max(0, room)),
            quota=size_label(rules.quota_bytes),
        )
    )


def discard(storage: FileStorage, keys: Iterable[str]) -> None:
    """Delete the bytes of keys nothing refers to (after a refusal or a rollback)."""
    for key in keys:
        storage.delete(key)


def stored_bytes(files: Iterable[SubmissionFile]) -> int:
    """Return the bytes these file rows keep on disk, each stored file counted once."""
    return sum({file.storage_key: file.size for file in files}.values())


@dataclass
class _Pending:
    """Bytes whose fate waits for the session's transaction to end."""

    storage: FileStorage
    on_commit: set[str] = field(default_factory=set)
    on_rollback: set[str] = field(default_factory=set)

    def committed(self, _session: Session) -> None:
        discard(self.storage, sorted(self.on_commit))
        self.on_commit.clear()
        self.on_rollback.clear()

    def rolled_back(self, _session: Session) -> None:
        discard(self.storage, sorted(self.on_rollback))
        self.on_commit.clear()
        self.on_rollback.clear()


def _pending(session: Session, storage: FileStorage) -> _Pending:
    pending: _Pending | None = session.info.get("jalon.files.pending")
    if pending is None or pending.storage is not storage:
        pending = _Pending(storage)
        session.info["jalon.files.pending"] = pending
        sa.event.listen(session, "after_commit", pending.committed)
        sa.event.listen(session, "after_rollback", pending.rolled_back)
    return pending


def discard_on_rollback(session: Session, storage: FileStorage, keys: Iterable[str]) -> None:
    """Delete the bytes of new uploads if the transaction that names them rolls back."""
    _pending(session, storage).on_rollback.update(keys)


def delete_after_commit(session: Session, storage: FileStorage, keys: Iterable[str]) -> None:
    """Delete the bytes of keys no row names any more, once the transaction commits.

    The rows were deleted (and flushed) in this transaction; a key some row still names,
    in this or another version, is kept. Nothing else adds a row for a key no row names
    (a new draft copies the rows of a version handed in), so the check cannot go stale.
    """
    keys = set(keys)
    if not keys:
        return
    named = set(
        session.scalars(
            sa.select(SubmissionFile.storage_key)
            .where(SubmissionFile.storage_key.in_(sorted(keys)))
            .distinct()
        )
    )
    _pending(session, storage).on_commit.update(keys - named)


@dataclass
class SweepReport:
    """What a sweep of the storage found and removed."""

    files: int = 0
    bytes: int = 0
    partial: int = 0
    partial_bytes: int = 0
    kept: int = 0


def sweep(
    session: Session, storage: FileStorage, older_than: dt.datetime, *, dry_run: bool = False
) -> SweepReport:
    """Remove stored bytes no row names, and partial writes, last changed before ``older_than``.

    Younger entries are left alone: an upload in flight has stored its bytes before the
    transaction that names them commits. The keys rows name are read first, in one pass
    (memory grows with the number of files, about 120 bytes each); a key named after that
    read is either young or was already named (a new draft copies a version's rows).
    """
    named = set(
        session.scalars(
            sa.select(SubmissionFile.storage_key).distinct().execution_options(yield_per=10_000)
        )
    )
    report = SweepReport()
    for entry in storage.entries():
        if entry.modified >= older_than or (not entry.is_partial and entry.name in named):
            report.kept += 1
            continue
        if not dry_run:
            storage.remove(entry)
        if entry.is_partial:
            report.partial += 1
            report.partial_bytes += entry.size
        else:
            report.files += 1
            report.bytes += entry.size
    return report
