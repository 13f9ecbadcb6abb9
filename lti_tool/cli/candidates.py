"""``jalon certification candidats``: the holders' identities, from the school's CSV.

``import FILE.csv --session ID`` checks every row (see
:mod:`lti_tool.certification.identity_import` for the columns and how a row finds its
candidate) and writes all of them or none; ``template`` prints the header line to start from.
"""

from __future__ import annotations

from pathlib import Path

import click

from lti_tool.certification.identity_import import (
    MAX_BYTES,
    ImportRefused,
    ImportReport,
    import_identities,
    template_line,
)
from lti_tool.certification.models import CertificationSession
from lti_tool.cli.context import session_scope, settings_from_env


class _DryRun(Exception):  # noqa: N818 (a way out of the transaction, rolled back)
    def __init__(self, report: ImportReport) -> None:
        super().__init__("dry run")
        self.report = report


@click.group("candidats")
def candidates() -> None:
    """Import the identity of a session's candidates (the accrochage file needs it)."""


@candidates.command("template")
@click.option("--delimiter", type=click.Choice([";", ","]), default=";", show_default=True)
def template(delimiter: str) -> None:
    """Print the CSV's header line: every column the import reads, in order."""
    click.echo(template_line(delimiter))


@candidates.command("import")
@click.argument(
    "path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--session", "session_id", type=int, required=True, help="The session's number.")
@click.option("--dry-run", is_flag=True, help="Check the file, write nothing.")
def import_command(path: Path, session_id: int, dry_run: bool) -> None:
    """Store the identity of each candidate the CSV names; any error and nothing is written.

    Each row names one candidate of the session by ``email`` (the address the LMS sent)
    or ``identifiant`` (their LMS login, or person_sourcedid).
    """
    if path.stat().st_size > MAX_BYTES:
        raise click.ClickException(f"{path.name}: larger than {MAX_BYTES} bytes; nothing imported")
    data = path.read_bytes()
    settings = settings_from_env(serving=False)
    try:
        with session_scope(settings) as db:
            session = db.get(CertificationSession, session_id)
            if session is None:
                raise click.ClickException(f"--session: no session {session_id}; nothing imported")
            report = import_identities(
                db, session, data, retention_days=settings.certifier.identity_retention_days
            )
            if dry_run:
                raise _DryRun(report)
    except _DryRun as checked:
        report = checked.report
    except ImportRefused as refused:
        for error in refused.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(
            f"{len(refused.errors)} error(s) in {path.name}; nothing imported"
        ) from None
    verb = "would store" if dry_run else "stored"
    click.echo(
        f"{verb} {report.created + report.updated} identities "
        f"({report.created} new, {report.updated} replaced) for session {session_id}"
    )
