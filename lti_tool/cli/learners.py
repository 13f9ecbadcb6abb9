"""``jalon learner``: a person's rights of access (export) and erasure.

A person is named as launches name them: the platform's issuer (``--issuer``, as
``jalon platform`` takes it; ``--platform`` is the same option) and their ``sub``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import click

from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.evaluation.files import uploads_folder
from lti_tool.evaluation.storage import LocalFileStorage
from lti_tool.privacy.erase import ErasureRequest, erase, sweep_leftovers
from lti_tool.privacy.export import write_zip
from lti_tool.privacy.person import UnknownPerson, find_person

issuer_option = click.option(
    "--issuer", "--platform", "issuer", required=True, help="The platform's issuer."
)
sub_option = click.option("--sub", required=True, help="The person's LTI sub on that platform.")


@click.group()
def learner() -> None:
    """Export or erase one person's data (rights of access and to erasure)."""


@learner.command("export")
@issuer_option
@sub_option
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the ZIP archive (an existing file is replaced).",
)
def learner_export(issuer: str, sub: str, output: Path) -> None:
    """Write a ZIP of everything Jalon holds about one person, with a README."""
    settings = settings_from_env(serving=False)
    storage = LocalFileStorage(uploads_folder(settings.instance_path))
    # Written beside the target, then renamed: an unknown person leaves no file behind.
    folder = output.resolve().parent
    handle, partial = tempfile.mkstemp(prefix=".jalon-export-", suffix=".zip", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out, session_scope(settings) as session:
            person = find_person(session, issuer, sub)
            count = write_zip(session, person, storage, out, dt.datetime.now(dt.UTC))
        os.replace(partial, output)
    except UnknownPerson as exc:
        raise click.ClickException(f"{exc}; nothing was exported") from None
    finally:
        Path(partial).unlink(missing_ok=True)
    click.echo(f"wrote {output} ({count} files)")


@learner.command("erase")
@issuer_option
@sub_option
@click.option(
    "--requested-by",
    required=True,
    help="Who asked, as a reference without personal data (e.g. 'DPO request 2026-042').",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def learner_erase(issuer: str, sub: str, requested_by: str, yes: bool) -> None:
    """Erase one person's data in one transaction and void their xAPI statements.

    With JALON_ERASURE_KEEP_DECISIONS (the default), the decisions of published evaluations
    and the progress derived from them are kept, pseudonymised.
    """
    settings = settings_from_env(serving=False)
    storage = LocalFileStorage(uploads_folder(settings.instance_path))
    request = ErasureRequest(
        keep_decisions=settings.erasure_keep_decisions,
        requested_by=requested_by,
        channel="cli",
        base_url=settings.base_url,
        secret_key=settings.secret_key,
    )
    try:
        if not yes:
            with session_scope(settings) as session:
                find_person(session, issuer, sub)
            click.confirm(
                f"Erase the person {sub.strip()!r} of {issuer.strip()}? This cannot be undone",
                abort=True,
            )
        with session_scope(settings) as session:
            person = find_person(session, issuer, sub, lock=True)
            report = erase(session, person, storage, request, dt.datetime.now(dt.UTC))
    except UnknownPerson as exc:
        raise click.ClickException(f"{exc}; nothing was erased") from None
    with session_scope(settings) as session:
        leftovers = sweep_leftovers(session, storage, report.storage_keys)
    kept = "kept, pseudonymised" if request.keep_decisions else "deleted"
    click.echo(f"erasure {report.erasure_id} recorded; published decisions {kept}")
    for name, count in report.counts.items():
        click.echo(f"  {name}: {count}")
    if leftovers.files:
        click.echo(f"  leftover files removed: {leftovers.files} ({leftovers.bytes} bytes)")
