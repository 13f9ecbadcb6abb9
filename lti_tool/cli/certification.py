"""``jalon certification``: jury sessions, holder identities, credentials, accrochage file."""

from __future__ import annotations

import click


@click.group()
def certification() -> None:
    """Run the certification back-office: sessions, candidates, credentials, accrochage."""


# Holder identities (issue 14, identity).
from lti_tool.cli.candidates import candidates  # noqa: E402

certification.add_command(candidates)
