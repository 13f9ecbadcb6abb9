"""``jalon rgpd``: the register of processing (art. 30 GDPR) of this deployment."""

from __future__ import annotations

import click

from lti_tool.cli.context import settings_from_env
from lti_tool.privacy.register import build_register


@click.group()
def rgpd() -> None:
    """GDPR: the register of processing of this deployment."""


@rgpd.command("register")
@click.option(
    "--lang",
    type=click.Choice(["fr", "en", "both"]),
    default="both",
    show_default=True,
    help="French, English, or French then English.",
)
def register_command(lang: str) -> None:
    """Print the register of processing, with this deployment's settings (Markdown)."""
    settings = settings_from_env(serving=False)
    languages = ("fr", "en") if lang == "both" else (lang,)
    click.echo("\n\n".join(build_register(settings, language) for language in languages))
