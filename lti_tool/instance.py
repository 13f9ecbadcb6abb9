"""Owner-only files and folders: the instance folder holds the database, keys and uploads.

The SQLite database holds the tool's private signing key and everyone's results, so nothing
Jalon creates there may be readable by other accounts, whatever the process umask says.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Create ``path`` (and its missing parents) so that only the owner may enter them."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process: its mode is that process's choice
        # mkdir's mode passes through the umask; say it again without it.
        folder.chmod(FOLDER_MODE)
    return path


def private_file(path: Path) -> bool:
    """Create an empty owner-only file unless it exists; return whether it was created."""
    private_folder(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return True
