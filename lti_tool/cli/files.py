"""``jalon files``: the bytes of handed-in files kept on disk."""

from __future__ import annotations

import datetime as dt
import time

import click

from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.evaluation.files import sweep, uploads_folder
from lti_tool.evaluation.storage import LocalFileStorage

# An upload stores its bytes, then its row commits; a request lasts seconds, so bytes an
# hour old that no row names will never be named.
DEFAULT_GRACE_MINUTES = 60
MIN_GRACE_MINUTES = 10


@click.group()
def files() -> None:
    """Handed-in files kept on disk."""


@files.command("purge")
@click.option(
    "--grace-minutes",
    type=click.IntRange(min=MIN_GRACE_MINUTES),
    default=DEFAULT_GRACE_MINUTES,
    show_default=True,
    help="Leave alone anything changed more recently (uploads in flight).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be removed, remove nothing.")
def files_purge(grace_minutes: int, dry_run: bool) -> None:
    """Remove stored bytes that no file of any version refers to, and interrupted writes.

    Removing a file from a draft deletes its bytes when nothing else refers to them; this
    sweep catches what a crash or a deleted submission left behind.
    """
    settings = settings_from_env(serving=False)
    storage = LocalFileStorage(uploads_folder(settings.instance_path))
    older_than = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=grace_minutes)
    started = time.perf_counter()
    try:
        with session_scope(settings) as session:
            report = sweep(session, storage, older_than, dry_run=dry_run)
    except OSError as exc:
        raise click.ClickException(f"the uploads folder could not be swept: {exc}") from exc
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} {report.files} unreferenced files, {_bytes(report.bytes)}; "
        f"{report.partial} interrupted writes, {_bytes(report.partial_bytes)}; "
        f"kept {report.kept}; {time.perf_counter() - started:.2f} s"
    )


def _bytes(size: int) -> str:
    """Return an exact size and a rounded one: "1234567 bytes (1.2 MB)"."""
    return f"{size} bytes ({size / 1_000_000:.1f} MB)"
