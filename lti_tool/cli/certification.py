"""``jalon certification``: jury sessions, holder identities, credentials, accrochage file."""

from __future__ import annotations

import click


@click.group()
def certification() -> None:
    """Run the certification back-office: sessions, candidates, credentials, accrochage."""


from lti_tool.cli import credentials  # noqa: E402 (the commands attach to the group above)

certification.add_command(credentials.keys_group)
certification.add_command(credentials.badges)
