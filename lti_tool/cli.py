"""The ``jalon`` command: run the app, manage the database and the référentiels."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool import migrations
from lti_tool.config import ConfigError, Settings
from lti_tool.db import Database
from lti_tool.frameworks import (
    FrameworkConflictError,
    current_records,
    find_record,
    framework_of,
    import_framework,
    install_bundled,
)
from referentiel.exports.case import dump_case
from referentiel.exports.moodle_csv import dump_moodle_csv
from referentiel.exports.yaml_file import dump_yaml
from referentiel.loader import FrameworkError, load_file
from referentiel.model import Framework

EXPORTERS = {
    "case": lambda fw, base: dump_case(fw, base),
    "moodle-csv": lambda fw, base: dump_moodle_csv(fw, base),
    "yaml": lambda fw, _base: dump_yaml(fw),
}


def _settings(**kwargs: Any) -> Settings:
    try:
        return Settings.from_env(**kwargs)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """Give a session that commits on success, and close every connection afterwards."""
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            yield session
    finally:
        database.engine.dispose()


@click.group()
@click.version_option(package_name="jalon")
def main() -> None:
    """Jalon: run an RNCP certification inside Moodle and Canvas."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


# --- database -------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Create and migrate the database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations, then install the bundled référentiels that are missing."""
    settings = _settings(serving=False)
    migrations.upgrade(settings.database_url, revision)
    if revision == "head":
        with _session(settings) as session:
            for record in install_bundled(session):
                click.echo(f"installed {record.code} {record.version}")
    click.echo("database is up to date")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes every table)."""
    settings = _settings(serving=False)
    migrations.downgrade(settings.database_url, revision)
    click.echo(f"database downgraded to {revision}")


# --- serving ---------------------------------------------------------------------------


def _serve(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from lti_tool import create_app

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            # Each worker builds its own app, so no database connection crosses a fork.
            self.cfg.set("preload_app", False)

        def load(self) -> Any:
            return create_app(settings)

    _Server().run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve Jalon with gunicorn, for use behind a reverse proxy."""
    _serve(_settings(), host, port, workers, threads)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def demo(host: str, port: int) -> None:
    """Migrate the embedded database, install the référentiel and serve Jalon."""
    settings = _settings(demo=True, default_base_url=f"http://{host}:{port}")
    migrations.upgrade(settings.database_url)
    with _session(settings) as session:
        install_bundled(session)
    click.echo(f"Jalon demo: {settings.base_url}/referentiels/ (Ctrl+C to stop)")
    _serve(settings, host, port, workers=1, threads=4)


# --- référentiels ----------------------------------------------------------------------


@main.group()
def referentiel() -> None:
    """List, check, import and export référentiels."""


def _load(path: str) -> Framework:
    try:
        return load_file(path)
    except FrameworkError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from exc


def _stored(settings: Settings, code: str | None) -> Framework:
    try:
        with _session(settings) as session:
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
    except sa.exc.OperationalError as exc:
        raise click.ClickException("the database is not ready: run `jalon db upgrade`") from exc
    except sa.exc.ProgrammingError as exc:
        raise click.ClickException("the database is not ready: run `jalon db upgrade`") from exc


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
    settings = _settings(serving=False)
    try:
        with _session(settings) as session:
            record = import_framework(session, framework, replace=replace)
            click.echo(f"imported {record.code} {record.version} — {_summary(framework)}")
    except FrameworkConflictError as exc:
        raise click.ClickException(str(exc)) from exc
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise click.ClickException("the database is not ready: run `jalon db upgrade`") from exc


@referentiel.command("list")
def referentiel_list() -> None:
    """List the stored référentiels."""
    settings = _settings(serving=False)
    try:
        with _session(settings) as session:
            records = current_records(session)
            for record in records:
                click.echo(f"{record.code}\t{record.version}\t{record.title}")
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise click.ClickException("the database is not ready: run `jalon db upgrade`") from exc
    if not records:
        click.echo("no référentiel stored (jalon referentiel import FILE)", err=True)


@referentiel.command("show")
@click.argument("code", required=False)
@click.option("--file", "path", type=click.Path(dir_okay=False), help="Read a file instead.")
def referentiel_show(code: str | None, path: str | None) -> None:
    """Print the tree of a stored référentiel (or of a file)."""
    framework = _load(path) if path else _stored(_settings(serving=False), code)
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
    settings = _settings(serving=False)
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
