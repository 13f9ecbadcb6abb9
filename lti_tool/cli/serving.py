"""``jalon serve`` and ``jalon demo``."""

from __future__ import annotations

from typing import Any

import click

from lti_tool import migrations
from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.config import Settings
from lti_tool.frameworks import install_bundled


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


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve Jalon with gunicorn, for use behind a reverse proxy."""
    _serve(settings_from_env(), host, port, workers, threads)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def demo(host: str, port: int) -> None:
    """Migrate the embedded database, install the référentiel and serve Jalon."""
    settings = settings_from_env(demo=True, default_base_url=f"http://{host}:{port}")
    migrations.upgrade(settings.database_url)
    with session_scope(settings) as session:
        install_bundled(session)
    click.echo(f"Jalon demo: {settings.base_url}/referentiels/ (Ctrl+C to stop)")
    _serve(settings, host, port, workers=1, threads=4)
