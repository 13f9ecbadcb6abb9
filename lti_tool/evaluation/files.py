"""Files learners hand in: where their bytes live, and what is accepted.

The bytes are named by a random key, never by the name the browser sent, so no uploaded
name can reach a path; the name is only cleaned for display. A :class:`FileStorage` keeps
the bytes: a directory under the instance folder in production, a dict in tests;
``create_app(file_storage=...)`` chooses, like the LMS services.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app
from flask_babel import gettext as _

CHUNK = 64 * 1024
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


class FileStorage(Protocol):
    """Where the bytes of handed-in files are kept, by key."""

    def save(self, stream: BinaryIO, max_bytes: int) -> StoredBytes:
        """Store a stream under a new key; raise :class:`TooLarge` past ``max_bytes``."""
        ...

    def read(self, key: str) -> bytes:
        """Return the bytes stored under a key; raise ``KeyError`` if there are none."""
        ...

    def delete(self, key: str) -> None:
        """Forget the bytes of a key (nothing happens if there are none)."""
        ...


@dataclass(frozen=True)
class StoredBytes:
    """What storing a stream produced."""

    key: str
    size: int
    sha256: str


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
    """How large a file may be and which extensions are accepted."""

    max_bytes: int
    types: frozenset[str]


class TooLarge(Exception):  # noqa: N818 (a limit reached, not a programming error)
    """A stream went past the size limit; nothing of it was kept."""


class UploadRefused(ValueError):  # noqa: N818 (a refusal, like LaunchRejected)
    """A file was refused; the message names it and says why."""


def new_key() -> str:
    """Return a random storage key (64 hex characters)."""
    return secrets.token_hex(32)


def _copy(stream: BinaryIO, out: BinaryIO, max_bytes: int) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge
        digest.update(chunk)
        out.write(chunk)
    return size, digest.hexdigest()


class LocalFileStorage:
    """Bytes in files of a directory, each named by its key, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise KeyError(key)
        # Two levels keep directories small once there are many files.
        return self.root / key[:2] / key

    def save(self, stream: BinaryIO, max_bytes: int) -> StoredBytes:
        """Write to a temporary file beside the target, then rename it into place."""
        key = new_key()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                size, digest = _copy(stream, out, max_bytes)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return StoredBytes(key, size, digest)

    def read(self, key: str) -> bytes:
        """Return the bytes of a key."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def delete(self, key: str) -> None:
        """Remove the file of a key."""
        with contextlib.suppress(FileNotFoundError, KeyError):
            self._path(key).unlink()


class MemoryFileStorage:
    """Bytes in a dict, for tests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def save(self, stream: BinaryIO, max_bytes: int) -> StoredBytes:
        """Keep the bytes of a stream, unless it is too large."""
        data = stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLarge
        key = new_key()
        self.files[key] = data
        return StoredBytes(key, len(data), hashlib.sha256(data).hexdigest())

    def read(self, key: str) -> bytes:
        """Return the bytes of a key."""
        return self.files[key]

    def delete(self, key: str) -> None:
        """Forget a key."""
        self.files.pop(key, None)


def file_storage() -> FileStorage:
    """Return the app's file storage: the one given to ``create_app``, else the directory."""
    storage: FileStorage | None = current_app.extensions.get("jalon.file_storage")
    if storage is None:
        storage = current_app.extensions["jalon.services"].get("file_storage")
        if storage is None:
            storage = LocalFileStorage(Path(current_app.config["JALON"].instance_path) / "uploads")
        current_app.extensions["jalon.file_storage"] = storage
    return storage


def upload_rules() -> UploadRules:
    """Return the app's limits on uploads (``JALON_UPLOAD_MAX_MB``, ``JALON_UPLOAD_TYPES``)."""
    settings = current_app.config["JALON"]
    return UploadRules(settings.upload_max_bytes, frozenset(settings.upload_types))


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
    return str(
        _(
            "« %(name)s » : ce type de fichier n’est pas accepté (types acceptés : %(types)s).",
            name=name,
            types=", ".join(sorted(rules.types)),
        )
    )


def store_all(
    storage: FileStorage, uploads: Sequence[Upload], rules: UploadRules
) -> list[StoredFile]:
    """Store every file, or none: raise :class:`UploadRefused` naming the first refused."""
    stored: list[StoredFile] = []
    try:
        for upload in uploads:
            refusal = check_type(upload.raw_name, rules)
            if refusal:
                raise UploadRefused(refusal)
            name = clean_name(upload.raw_name)
            try:
                kept = storage.save(upload.stream, rules.max_bytes)
            except TooLarge:
                raise UploadRefused(
                    _(
                        "« %(name)s » dépasse la taille maximale d’un fichier (%(size)s).",
                        name=name,
                        size=size_label(rules.max_bytes),
                    )
                ) from None
            stored.append(StoredFile(name, content_type_of(name), kept))
    except BaseException:
        discard(storage, (file.stored.key for file in stored))
        raise
    return stored


def discard(storage: FileStorage, keys: Iterable[str]) -> None:
    """Delete the bytes of keys nothing refers to (after a refusal or a rollback)."""
    for key in keys:
        storage.delete(key)


def size_label(size: int) -> str:
    """Return a size for people: "20 Mo", "350 ko" ("MB"/"kB" in English)."""
    if size >= 1024 * 1024:
        megabytes = format(size / (1024 * 1024), ".3g")
        return str(_("%(num)s Mo", num=megabytes))
    return str(_("%(num)s ko", num=str(max(1, round(size / 1024)))))
