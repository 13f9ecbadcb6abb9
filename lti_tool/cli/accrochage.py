"""``jalon certification accrochage``: write the session's file for the Caisse des Dépôts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from lti_tool.certification.accrochage import (
    Certifier,
    Problem,
    SchemaError,
    UnknownSessionError,
    declare,
    load_schema,
    write_atomically,
)
from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.models import LtiUser
from lti_tool.people import display_name


def jury_name(user: LtiUser) -> str:
    """Return the name the jury knows a candidate by (the pages' naming chain)."""
    return display_name(user, user.sub)  # the same chain the jury's pages use


def describe(problem: Problem) -> str:
    """Return one line: who, which field (as the XSD names it), why."""
    about = f" [{problem.certification}]" if problem.certification else ""
    return f"{problem.who}{about}: {problem.field}: {problem.reason}"


@click.command("accrochage")
@click.option("--session", "session_id", type=int, required=True, help="The jury session's id.")
@click.option(
    "--xsd",
    "xsd_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The Caisse des Dépôts' XSD to validate against (default: the shipped 1.1.2).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the file (default: accrochage-session-ID-DATE.xml here).",
)
def accrochage(session_id: int, xsd_path: Path | None, output: Path | None) -> None:
    """Write the accrochage file (cpf:flux XML) of a signed session's holders.

    Every value is checked and the file validated against the XSD before it is written;
    otherwise each problem is listed per candidate and per field, nothing is written, and
    the exit status is 1.
    """
    settings = settings_from_env(serving=False)
    try:
        schema = load_schema(xsd_path)
    except SchemaError as exc:
        raise click.ClickException(f"--xsd: {exc}") from exc
    now = dt.datetime.now(dt.UTC)
    certifier = Certifier(settings.certifier.id_client, settings.certifier.id_contrat)
    with session_scope(settings) as db:
        try:
            declaration, outcome = declare(
                db, session_id, certifier, settings.base_url, schema, name_of=jury_name, now=now
            )
        except UnknownSessionError as exc:
            raise click.ClickException(f"--session: no certification session {session_id}") from exc
    if outcome.document is None:
        for problem in outcome.problems:
            click.echo(describe(problem), err=True)
        raise click.ClickException(
            f"{len(outcome.problems)} problem(s): no file written (session {session_id})"
        )
    target = output or Path(f"accrochage-session-{session_id}-{now:%Y%m%d-%H%M%S}.xml")
    try:
        write_atomically(target, outcome.document)
    except OSError as exc:
        raise click.ClickException(f"--output: {target}: {exc.strerror or exc}") from exc
    holders = declaration.flux.holders
    passages = sum(len(holder.obtained) for holder in holders)
    click.echo(
        f"{target}: {passages} certification(s) of {len(holders)} holder(s), "
        f"idFlux {declaration.flux.flux_id}, valid against the XSD"
    )
