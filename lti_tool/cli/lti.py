"""``jalon keys``: Jalon's own signing keys."""

from __future__ import annotations

import datetime as dt

import click
import sqlalchemy as sa

from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.lti import keys as tool_keys
from lti_tool.models import ToolKey


@click.group("keys")
def keys() -> None:
    """Manage the RSA keys Jalon signs with (published at /lti/jwks)."""


@keys.command("rotate")
def rotate() -> None:
    """Add a new current key; the previous one stays published for the grace period."""
    settings = settings_from_env(serving=False)
    with session_scope(settings) as session:
        new, retired = tool_keys.rotate(session)
        click.echo(f"new current key {new.kid}")
        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.key_grace_days)
        for key in retired:
            click.echo(f"retired {key.kid}: published until {until:%Y-%m-%d %H:%M} UTC")


@keys.command("list")
def list_keys() -> None:
    """List the keys, current first, with their state."""
    settings = settings_from_env(serving=False)
    grace = dt.timedelta(days=settings.key_grace_days)
    with session_scope(settings) as session:
        rows = session.scalars(sa.select(ToolKey).order_by(ToolKey.id.desc())).all()
        if not rows:
            click.echo("no key yet: the first launch or /lti/jwks creates one")
        for key in rows:
            if key.is_current:
                state = "current"
            elif key.retired_at and key.retired_at + grace > dt.datetime.now(dt.UTC):
                state = f"retired, published until {key.retired_at + grace:%Y-%m-%d %H:%M} UTC"
            else:
                state = "retired, no longer published"
            click.echo(f"{key.kid}  {key.created_at:%Y-%m-%d}  {state}")
