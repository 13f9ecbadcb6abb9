"""``jalon certification``: jury sessions, holder identities, credentials, accrochage file."""

from __future__ import annotations

import click


@click.group()
def certification() -> None:
    """Run the certification back-office: sessions, candidates, credentials, accrochage."""
