"""The ``jalon`` command: run the app, manage the database and the référentiels."""

from __future__ import annotations

import logging

import click

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


@click.group()
@click.version_option(package_name="jalon")
def main() -> None:
    """Jalon: run an RNCP certification inside Moodle and Canvas."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


for command in (db, serve, demo, referentiel, platform, keys, xapi, grades, files, learner):
    main.add_command(command)
# Retention and the register of processing (issue 13, GDPR).
for command in (purge_command, rgpd):
    main.add_command(command)
