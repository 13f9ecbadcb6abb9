"""``jalon serve`` and ``jalon demo``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import click

from lti_tool import migrations
from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.config import Settings
from lti_tool.frameworks import install_bundled
from lti_tool.instance import private_folder
from lti_tool.lti import keys

# prometheus-client's own variable: where each worker writes its metrics' values.
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def metrics_folder(settings: Settings, port: int) -> Path:
    """Empty the workers' metrics folder (values of a previous run) and name it for them.

    One folder per port: two instances sharing an instance folder (and its uploads) must not
    add up, or wipe, each other's values. Set before prometheus-client is first imported,
    which reads it once.
    """
    private_folder(settings.instance_path / "metrics")
    folder = settings.instance_path / "metrics" / f"port-{port}"
    shutil.rmtree(folder, ignore_errors=True)
    private_folder(folder)
    os.environ[MULTIPROC_VARIABLE] = str(folder)
    return folder


def _serve(
    settings: Settings,
    folder: Path,
    host: str,
    port: int,
    workers: int,
    threads: int,
    relay: bool = True,
    metrics_port: int | None = None,
    purge: bool = True,
) -> None:
    from gunicorn.app.base import BaseApplication
    from prometheus_client import multiprocess, values

    from lti_tool import create_app
    from lti_tool.cli.access_log import FORMAT as ACCESS_LOG_FORMAT
    from lti_tool.cli.access_log import AccessLogger, JsonAccessLogger
    from lti_tool.cli.grades import start_background_grades
    from lti_tool.cli.purge import start_background_purge
    from lti_tool.cli.xapi import start_background_relay

    if values.ValueClass is values.MutexValue:
        raise click.ClickException(f"prometheus-client was loaded before {MULTIPROC_VARIABLE}")

    def child_exit(_server: Any, worker: Any) -> None:
        # A dead worker's gauges (connections in use) leave the sums.
        multiprocess.mark_process_dead(worker.pid, str(folder))  # type: ignore[no-untyped-call]

    def when_ready(_server: Any) -> None:
        if metrics_port is not None:
            from lti_tool.observability.scrape import serve_on_port

            serve_on_port(metrics_port, settings.database_url)

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            # Request lines without the session token or any other query secret.
            json_lines = settings.log_format == "json"
            self.cfg.set("logger_class", JsonAccessLogger if json_lines else AccessLogger)
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            self.cfg.set("child_exit", child_exit)
            self.cfg.set("when_ready", when_ready)
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
            if purge:
                # Every worker wakes up; one purge runs at a time, about every ten minutes.
                start_background_purge(app)
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
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Also serve /metrics without a token on 127.0.0.1 at this port.",
)
@click.option(
    "--purge/--no-purge",
    default=True,
    show_default=True,
    help="Purge what the retention settings no longer keep, in turn with the other "
    "processes (or run `jalon purge` apart).",
)
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    relay: bool,
    metrics_port: int | None,
    purge: bool,
) -> None:
    """Serve Jalon with gunicorn, for use behind a reverse proxy."""
    settings = settings_from_env()
    folder = metrics_folder(settings, port)
    _serve(settings, folder, host, port, workers, threads, relay, metrics_port, purge)


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
    folder = metrics_folder(settings, port)  # before placing the épreuves builds an app
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
    _serve(settings, folder, host, port, workers=1, threads=4)
