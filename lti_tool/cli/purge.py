"""``jalon purge``, and the purge ``jalon serve`` runs in the background."""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import threading
from collections.abc import Callable

import click
import sqlalchemy as sa
from flask import Flask

from lti_tool.cli.context import settings_from_env
from lti_tool.db import Database
from lti_tool.evaluation.files import file_storage
from lti_tool.lti.storage import DatabaseStore
from lti_tool.privacy.purge import KINDS, LEASE_PREFIX, PurgeBusy, PurgeReport, Retention, purge
from lti_tool.privacy.retention import lms_roster
from xapi.columns import utcnow

logger = logging.getLogger(__name__)

# Every process of ``jalon serve`` wakes this often; the first to claim the turn purges,
# so the deployment purges about this often whatever its number of processes.
EVERY = dt.timedelta(minutes=10)
# The drafts' rule reads the LMS rosters: once a day is enough.
DRAFTS_EVERY = dt.timedelta(days=1)
TURN_KEY = LEASE_PREFIX + "turn"
DRAFTS_TURN_KEY = LEASE_PREFIX + "drafts-turn"


def run_purge(
    app: Flask, now: dt.datetime, *, dry_run: bool = False, drafts: bool = True
) -> PurgeReport:
    """Purge with the app's settings, file storage and LMS roster client."""
    database: Database = app.extensions["jalon.db"]
    with app.app_context():
        storage = file_storage()
    return purge(
        database.sessions,
        now=now,
        kept=Retention.from_settings(app.config["JALON"]),
        storage=storage,
        roster=lms_roster(app),
        dry_run=dry_run,
        drafts=drafts,
    )


def _take_turn(database: Database, key: str, every: dt.timedelta) -> bool:
    """Claim a turn shared by every process: at most one claim per ``every``."""
    with database.session() as session:
        return DatabaseStore(session).add(key, secrets.token_hex(8), int(every.total_seconds()))


def scheduled_purge(app: Flask) -> PurgeReport | None:
    """Purge if no other process did lately; None when it was not this one's turn."""
    database: Database = app.extensions["jalon.db"]
    if not _take_turn(database, TURN_KEY, EVERY):
        return None
    drafts = _take_turn(database, DRAFTS_TURN_KEY, DRAFTS_EVERY)
    try:
        return run_purge(app, utcnow(), drafts=drafts)
    except PurgeBusy:
        return None


def work(
    app: Flask, stop: threading.Event, every: dt.timedelta = EVERY, spread: float = 60.0
) -> None:
    """Purge in turn with the other processes until ``stop`` is set."""
    # Spread the first wake-ups: processes started together would all ask at once.
    stop.wait(random.uniform(0, spread))  # noqa: S311 (a delay, not a secret)
    while not stop.is_set():
        try:
            scheduled_purge(app)
        except Exception as exc:
            # Nothing is lost: what was not purged this time will be next time.
            logger.error("Purge failed (%s); trying again later", type(exc).__name__)
            logger.debug("Purge failure", exc_info=True)
        stop.wait(every.total_seconds())


def start_background_purge(app: Flask, spread: float = 60.0) -> Callable[[], None]:
    """Purge in a daemon thread of this process; return the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=work, args=(app, stop, EVERY, spread), name="jalon-purge", daemon=True
    )
    thread.start()
    logger.info("Retention purge started in the background, in turn with the other processes")

    def _stop() -> None:
        stop.set()
        thread.join(timeout=60)

    return _stop


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be removed, remove nothing.")
@click.pass_context
def purge_command(ctx: click.Context, dry_run: bool) -> None:
    """Remove what the retention settings no longer keep, and print the counts.

    Delivered statements and grades, reviewed dead letters (JALON_RETENTION_OUTBOX_DAYS),
    expired launch data, nonces, admin sessions and invitations, holders' civil identities
    past their date (JALON_RETENTION_IDENTITY_DAYS after their session was signed), drafts
    of learners gone from their course (JALON_RETENTION_DRAFT_DAYS). Never a statement or a
    grade not yet delivered.
    """
    from lti_tool import create_app

    settings = settings_from_env(serving=False)
    app = create_app(settings)
    database: Database = app.extensions["jalon.db"]
    # Tests fix the clock through click's context object; people use the real one.
    now = ctx.obj.get("now") if isinstance(ctx.obj, dict) else None
    try:
        report = run_purge(app, now or utcnow(), dry_run=dry_run)
    except PurgeBusy as exc:
        raise click.ClickException("another purge is running: try again in a few minutes") from exc
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise click.ClickException("the database is not ready: run `jalon db upgrade`") from exc
    finally:
        database.engine.dispose()
    click.echo("would remove:" if dry_run else "removed:")
    for kind in KINDS:
        click.echo(f"{kind}\t{report.counts[kind]}")
    if report.courses_skipped:
        click.echo(
            f"{report.courses_skipped} courses skipped: their LMS did not give its roster "
            "(their drafts wait for the next purge)"
        )
