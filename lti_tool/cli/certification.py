"""``jalon certification``: jury sessions, holder identities, credentials, accrochage file."""

from __future__ import annotations

import click


@click.group()
def certification() -> None:
    """Run the certification back-office: sessions, candidates, credentials, accrochage."""


from lti_tool.cli.accrochage import accrochage  # noqa: E402 (the group exists first)

certification.add_command(accrochage)
