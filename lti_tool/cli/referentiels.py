"""``jalon referentiel``: list, check, import and export référentiels."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.config import Settings
from lti_tool.frameworks import (
    FrameworkConflictError,
    current_records,
    find_record,
    framework_of,
    import_framework,
)
from referentiel.exports.case import dump_case
from referentiel.exports.moodle_csv import dump_moodle_csv
from referentiel.exports.yaml_file import dump_yaml
from referentiel.loader import FrameworkError, load_file
from referentiel.model import Framework

EXPORTERS = {
    "case": dump_case,
    "moodle-csv": dump_moodle_csv,
    "yaml": lambda framework, _base_url: dump_yaml(framework),
}


@click.group()
def referentiel() -> None:
    """List, check, import and export référentiels."""


def _load(path: str) -> Framework:
    try:
        return load_file(path)
    except FrameworkError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from exc


def _stored(settings: Settings, code: str | None) -> Framework:
    with session_scope(settings) as session:
        if code is None:
            records = current_records(session)
            if len(records) != 1:
                names = ", ".join(r.code for r in records) or "none"
                raise click.ClickException(f"name the référentiel to use (stored: {names})")
            return framework_of(records[0])
        record = find_record(session, code)
        if record is None:
            raise click.ClickException(f"no stored référentiel has the code {code!r}")
        return framework_of(record)


@referentiel.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def referentiel_validate(file: str) -> None:
    """Check FILE (YAML or CASE JSON); list every problem and exit 1 if there is one."""
    framework = _load(file)
    click.echo(f"{file}: valid — {_summary(framework)}")


@referentiel.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--replace", is_flag=True, help="Overwrite the same code and version.")
def referentiel_import(file: str, replace: bool) -> None:
    """Store the référentiel in FILE (YAML or CASE JSON) as the current version."""
    framework = _load(file)
    settings = settings_from_env(serving=False)
    try:
        with session_scope(settings) as session:
            record = import_framework(session, framework, replace=replace)
            click.echo(f"imported {record.code} {record.version} — {_summary(framework)}")
    except FrameworkConflictError as exc:
        raise click.ClickException(str(exc)) from exc


@referentiel.command("list")
def referentiel_list() -> None:
    """List the stored référentiels."""
    settings = settings_from_env(serving=False)
    with session_scope(settings) as session:
        records = current_records(session)
        for record in records:
            click.echo(f"{record.code}\t{record.version}\t{record.title}")
    if not records:
        click.echo("no référentiel stored (jalon referentiel import FILE)", err=True)


@referentiel.command("show")
@click.argument("code", required=False)
@click.option("--file", "path", type=click.Path(dir_okay=False), help="Read a file instead.")
def referentiel_show(code: str | None, path: str | None) -> None:
    """Print the tree of a stored référentiel (or of a file)."""
    framework = _load(path) if path else _stored(settings_from_env(serving=False), code)
    click.echo(f"{framework.identity.title} ({framework.code} {framework.identity.version})")
    click.echo(_summary(framework))
    for bloc in framework.blocs:
        click.echo(f"  {bloc.code} {bloc.title}")
        for competency in bloc.competencies:
            count = len(competency.criteria)
            click.echo(f"    {competency.code} ({count} criteria) {competency.statement[:80]}")
    for epreuve in framework.epreuves:
        codes = ", ".join(epreuve.competencies)
        click.echo(f"  {epreuve.code} {epreuve.modality_label}: {codes}")


@referentiel.command("export")
@click.argument("code", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(sorted(EXPORTERS)), default="yaml", show_default=True
)
@click.option("--file", "path", type=click.Path(dir_okay=False), help="Export a file instead.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Default: stdout."
)
def referentiel_export(code: str | None, fmt: str, path: str | None, output: str | None) -> None:
    """Write a référentiel as CASE 1.1 JSON, Moodle competency CSV or Jalon YAML."""
    settings = settings_from_env(serving=False)
    framework = _load(path) if path else _stored(settings, code)
    text = EXPORTERS[fmt](framework, settings.base_url)
    if output:
        target = Path(output)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8", newline="")
        partial.replace(target)  # never leave half a file under the real name
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.write(text)


def _summary(framework: Framework) -> str:
    competencies = list(framework.competencies())
    criteria = sum(len(c.criteria) for c in competencies)
    return (
        f"{len(framework.blocs)} blocs, {len(competencies)} competencies, {criteria} criteria, "
        f"{len(framework.activities)} activities, {len(framework.epreuves)} épreuves"
    )
