"""``jalon db``: create and migrate the database."""

from __future__ import annotations

import click

from lti_tool import migrations
from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.frameworks import install_bundled
from lti_tool.lti import keys


@click.group()
def db() -> None:
    """Create and migrate the database."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations, then install the bundled référentiels that are missing."""
    settings = settings_from_env(serving=False)
    migrations.upgrade(settings.database_url, revision)
    if revision in {"head", "heads"}:
        with session_scope(settings) as session:
            for record in install_bundled(session):
                click.echo(f"installed {record.code} {record.version}")
            # The signing key exists before a request needs it: made lazily inside a grade
            # request, it would be uncommitted while the LMS fetches /lti/jwks to check it.
            keys.current(session)
    click.echo("database is up to date")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes every table)."""
    settings = settings_from_env(serving=False)
    migrations.downgrade(settings.database_url, revision)
    click.echo(f"database downgraded to {revision}")
