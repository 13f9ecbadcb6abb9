"""``jalon certification``: jury sessions, holder identities, credentials, accrochage file."""

from __future__ import annotations

import click

from lti_tool.cli.jury import jury_session


@click.group()
def certification() -> None:
    """Run the certification back-office: sessions, candidates, credentials, accrochage."""


certification.add_command(jury_session)
