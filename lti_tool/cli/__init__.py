"""The ``jalon`` command: run the app, manage the database and the référentiels."""

from __future__ import annotations

import click

from lti_tool.cli.certification import certification
from lti_tool.cli.database import db
from lti_tool.cli.files import files
from lti_tool.cli.grades import grades
from lti_tool.cli.learners import learner
from lti_tool.cli.lti import keys
from lti_tool.cli.platforms import platform
from lti_tool.cli.purge import purge_command
from lti_tool.cli.referentiels import referentiel
from lti_tool.cli.rgpd import rgpd
from lti_tool.cli.serving import demo, serve
from lti_tool.cli.xapi import xapi
from lti_tool.config import ConfigError, log_format
from lti_tool.observability import logs


@click.group()
@click.version_option(package_name="jalon")
def main() -> None:
    """Jalon: run an RNCP certification inside Moodle and Canvas."""
    try:
        logs.configure(log_format())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


for command in (db, serve, demo, referentiel, platform, keys, xapi, grades, files, learner):
    main.add_command(command)
# Retention and the register of processing (issue 13, GDPR).
for command in (purge_command, rgpd):
    main.add_command(command)
# The certification back-office (issue 14).
main.add_command(certification)
