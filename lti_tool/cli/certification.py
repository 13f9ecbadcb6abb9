"""``jalon certification``: jury sessions, holder identities, credentials, accrochage file."""

from __future__ import annotations

import click

from lti_tool.cli.accrochage import accrochage
from lti_tool.cli.candidates import candidates
from lti_tool.cli.credentials import badges, keys_group
from lti_tool.cli.jury import jury_session


@click.group()
def certification() -> None:
    """Run the certification back-office: sessions, candidates, credentials, accrochage."""


for command in (jury_session, candidates, keys_group, badges, accrochage):
    certification.add_command(command)
