"""Where the bytes of handed-in files live: a folder in production, a dict in tests.

Bytes are named by a random key (64 hex characters), never by a name someone sent. The
folder is readable by Jalon's user only, whatever the umask: folders 0700, files 0600.
A save writes to a partial file beside its target, then renames it into place, so a key
never names half a file; a crash may leave a partial file, which ``entries()`` lists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 64 * 1024
PARTIAL_PREFIX = ".upload-"
FOLDER_MODE = 0o700
FILE_MODE = 0o600


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

    def entries(self) -> Iterator[StoredEntry]:
        """List what is stored: every key, and the partial writes an interrupted save left."""
        ...

    def remove(self, entry: StoredEntry) -> None:
        """Delete one listed entry (nothing happens if it is already gone)."""
        ...


@dataclass(frozen=True)
class StoredEntry:
    """Something the storage holds: the bytes of a key, or a partial write (no key)."""

    name: str  # the key, or where the partial write is
    size: int
    modified: dt.datetime
    is_partial: bool = False


@dataclass(frozen=True)
class StoredBytes:
    """What storing a stream produced."""

    key: str
    size: int
    sha256: str


class TooLarge(Exception):  # noqa: N818 (a limit reached, not a programming error)
    """A stream went past the size limit; nothing of it was kept."""


def new_key() -> str:
    """Return a random storage key (64 hex characters)."""
    return secrets.token_hex(32)


def _is_key(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


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
        if not _is_key(key):
            raise KeyError(key)
        # Two levels keep directories small once there are many files.
        return self.root / key[:2] / key

    def _folder(self, path: Path) -> None:
        """Make a folder readable by Jalon's user only, whatever the umask."""
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(path.stat().st_mode) != FOLDER_MODE:
            path.chmod(FOLDER_MODE)

    def save(self, stream: BinaryIO, max_bytes: int) -> StoredBytes:
        """Write to a temporary file beside the target, then rename it into place."""
        key = new_key()
        path = self._path(key)
        self._folder(self.root)
        self._folder(path.parent)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=PARTIAL_PREFIX)
        try:
            os.fchmod(handle, FILE_MODE)
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

    def entries(self) -> Iterator[StoredEntry]:
        """List the files of the two levels of folders; anything else there is left alone."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not (len(folder.name) == 2 and folder.is_dir()):
                continue
            for path in sorted(folder.iterdir()):
                try:
                    info = path.lstat()
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                modified = dt.datetime.fromtimestamp(info.st_mtime, dt.UTC)
                if path.name.startswith(PARTIAL_PREFIX):
                    name = f"{folder.name}/{path.name}"
                    yield StoredEntry(name, info.st_size, modified, is_partial=True)
                elif path.name.startswith(folder.name) and _is_key(path.name):
                    yield StoredEntry(path.name, info.st_size, modified)

    def remove(self, entry: StoredEntry) -> None:
        """Remove a listed file."""
        if not entry.is_partial:
            self.delete(entry.name)
            return
        folder, _slash, name = entry.name.partition("/")
        if len(folder) == 2 and name.startswith(PARTIAL_PREFIX) and "/" not in name:
            with contextlib.suppress(FileNotFoundError):
                (self.root / folder / name).unlink()


class MemoryFileStorage:
    """Bytes in a dict, for tests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.saved_at: dict[str, dt.datetime] = {}

    def save(self, stream: BinaryIO, max_bytes: int) -> StoredBytes:
        """Keep the bytes of a stream, unless it is too large."""
        data = stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLarge
        key = new_key()
        self.files[key] = data
        self.saved_at[key] = dt.datetime.now(dt.UTC)
        return StoredBytes(key, len(data), hashlib.sha256(data).hexdigest())

    def read(self, key: str) -> bytes:
        """Return the bytes of a key."""
        return self.files[key]

    def delete(self, key: str) -> None:
        """Forget a key."""
        self.files.pop(key, None)
        self.saved_at.pop(key, None)

    def entries(self) -> Iterator[StoredEntry]:
        """List the keys (a dict has no partial writes)."""
        for key, data in list(self.files.items()):
            yield StoredEntry(key, len(data), self.saved_at[key])

    def remove(self, entry: StoredEntry) -> None:
        """Forget a listed key."""
        self.delete(entry.name)
