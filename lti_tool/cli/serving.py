"""``jalon serve`` and ``jalon demo``."""

from __future__ import annotations

import os
from typing import Any

import click

from lti_tool import migrations
from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.config import Settings
from lti_tool.frameworks import install_bundled
from lti_tool.lti import keys


def _serve(
    settings: Settings, host: str, port: int, workers: int, threads: int, relay: bool = True
) -> None:
    from gunicorn.app.base import BaseApplication

    from lti_tool import create_app
    from lti_tool.cli.access_log import FORMAT as ACCESS_LOG_FORMAT
    from lti_tool.cli.access_log import AccessLogger
    from lti_tool.cli.grades import start_background_grades
    from lti_tool.cli.xapi import start_background_relay

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            # Request lines without the session token or any other query secret.
            self.cfg.set("logger_class", AccessLogger)
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            # Each worker builds its own app, so no database connection crosses a fork.
            self.cfg.set("preload_app", False)

        def load(self) -> Any:
            app = create_app(settings)
            if relay:
                # In the worker, after the fork: several workers make several relays, which
                # is safe (batches are claimed with a lease).
                start_background_relay(settings, app.extensions["jalon.db"])
                # Grades for the LMS likewise (claimed with a lease); needs no LRS.
                start_background_grades(app)
            return app

    _Server().run()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--relay/--no-relay",
    default=True,
    show_default=True,
    help="Deliver xAPI statements and LMS grades from each worker "
    "(or run `jalon xapi relay` and `jalon grades send` apart).",
)
def serve(host: str, port: int, workers: int, threads: int, relay: bool) -> None:
    """Serve Jalon with gunicorn, for use behind a reverse proxy."""
    _serve(settings_from_env(), host, port, workers, threads, relay)


def _admin_token_source(settings: Settings) -> str:
    """Say where the token that opens the admin pages is, never the token itself.

    The demo makes one in the instance folder unless ``JALON_ADMIN_TOKEN`` is set; the
    token stays out of the terminal (and out of logs that capture it).
    """
    made = settings.instance_path / "admin_token"
    if os.environ.get("JALON_ADMIN_TOKEN"):
        return "sign in with the token in JALON_ADMIN_TOKEN"
    return f"sign in with the token in {made} (cat it to copy it)"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def demo(host: str, port: int) -> None:
    """Migrate, install the référentiel, register the demo LMS, place its épreuves, serve."""
    from lti_tool.demo import register_demo_platform
    from lti_tool.demo.seed import SeedingError, seed_epreuves

    settings = settings_from_env(demo=True, default_base_url=f"http://{host}:{port}")
    migrations.upgrade(settings.database_url)
    with session_scope(settings) as session:
        install_bundled(session)
        register_demo_platform(session, settings.base_url)
        keys.current(session)  # before any request signs with it (see `jalon db upgrade`)
    # Placed as an instructor would: deep-linking round trips through Jalon's picker.
    try:
        placed = seed_epreuves(settings)
    except SeedingError as exc:
        raise click.ClickException(f"placing the demo's épreuves: {exc}") from exc
    if placed:
        click.echo(f"Épreuves placed in the demo course: {', '.join(placed)}")
    click.echo(f"Jalon: {settings.base_url}/referentiels/")
    click.echo(f"Demo LMS: {settings.base_url}/demo/")
    click.echo(f"Admin: {settings.base_url}/admin/ — {_admin_token_source(settings)}")
    click.echo("(Ctrl+C to stop)")
    _serve(settings, host, port, workers=1, threads=4)
