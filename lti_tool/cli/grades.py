"""``jalon grades``: grades waiting for the LMS, and the worker that delivers them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import click
import sqlalchemy as sa
from flask import Flask

from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.db import Database
from lti_tool.evaluation import passback
from lti_tool.evaluation.models import GradePassback, PassbackStatus
from lti_tool.services import lms_services
from xapi.columns import utcnow
from xapi.relay import stopping_on_signals

logger = logging.getLogger(__name__)

# How long the worker sleeps when no grade is due (a publication also tries at once).
IDLE_SLEEP = 5.0


def deliver_pass(app: Flask, stop: threading.Event | None = None) -> passback.DeliveryReport:
    """Deliver every grade due now, batch after batch, with the app's AGS client.

    A set ``stop`` ends the pass after the batch in flight.
    """
    database: Database = app.extensions["jalon.db"]
    total = passback.DeliveryReport()
    with app.app_context():
        ags = lms_services().ags
        now = utcnow()  # grades put back by this pass are due later: each is tried once
        while True:
            report = passback.deliver_due(database.sessions, now, ags)
            total.sent += report.sent
            total.retried += report.retried
            total.failed += report.failed
            if report.attempted < passback.BATCH or (stop is not None and stop.is_set()):
                return total


def deliver_everything(app: Flask) -> passback.DeliveryReport:
    """Deliver every pending grade at once, whatever its retry delay, each once."""
    database: Database = app.extensions["jalon.db"]
    with app.app_context():
        return passback.deliver_all_pending(database.sessions, utcnow(), lms_services().ags)


def work(app: Flask, stop: threading.Event, idle: float = IDLE_SLEEP) -> None:
    """Deliver grades until ``stop`` is set."""
    while not stop.is_set():
        try:
            report = deliver_pass(app, stop)
        except Exception as exc:
            # The database or a bug, not an LMS answer: the grades stay pending meanwhile.
            logger.error("Grade delivery pass failed (%s); trying again", type(exc).__name__)
            logger.debug("Grade delivery failure", exc_info=True)
            report = passback.DeliveryReport()
        if not report.attempted:
            stop.wait(idle)


def start_background_grades(app: Flask) -> Callable[[], None]:
    """Deliver grades in a daemon thread of this process; return the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(app, stop), name="jalon-grades", daemon=True)
    thread.start()
    logger.info("Grade delivery to the LMS started in the background")

    def _stop() -> None:
        stop.set()
        thread.join(timeout=60)

    return _stop


@click.group()
def grades() -> None:
    """Deliver grades to the LMS (AGS) and inspect those waiting or refused."""


@grades.command("status")
def status_command() -> None:
    """Count grades by status and list those the LMS refused."""
    settings = settings_from_env(serving=False)
    with session_scope(settings) as session:
        counts = passback.summary(session)
        refused = session.execute(
            sa.select(GradePassback.id, GradePassback.evaluation_id, GradePassback.last_error)
            .where(GradePassback.status == PassbackStatus.FAILED)
            .order_by(GradePassback.id)
        ).all()
    for status in PassbackStatus:
        click.echo(f"{status.value}\t{counts[status]}")
    for row in refused:
        click.echo(f"refused\tgrade {row.id} (evaluation {row.evaluation_id})\t{row.last_error}")


@grades.command("send")
@click.option("--once", is_flag=True, help="Send every grade due now, then exit.")
@click.option(
    "--now",
    "at_once",
    is_flag=True,
    help="Send every pending grade at once, ignoring retry delays (after an outage), then "
    "exit; the exit status is 1 if any grade is still not accepted.",
)
def send_command(once: bool, at_once: bool) -> None:
    """Deliver pending grades: as a worker until SIGTERM or Ctrl+C, --once, or --now."""
    from lti_tool import create_app

    settings = settings_from_env(serving=False)
    app = create_app(settings)
    database: Database = app.extensions["jalon.db"]
    try:
        if once or at_once:
            report = deliver_everything(app) if at_once else deliver_pass(app)
            click.echo(
                f"accepted {report.sent}, to retry {report.retried}, refused {report.failed}"
            )
            if at_once and (report.retried or report.failed):
                raise click.exceptions.Exit(1)
            return
        stop = threading.Event()
        # systemd stops the unit with SIGTERM: finish the grade in flight rather than die
        # with a score posted and not recorded (it would be sent again after the lease).
        with stopping_on_signals(stop, "Grade delivery: %s received, stopping after this grade"):
            click.echo("Delivering grades to the LMS (SIGTERM or Ctrl+C to stop)")
            work(app, stop)
        click.echo("Stopped")
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise click.ClickException("the database is not ready: run `jalon db upgrade`") from exc
    finally:
        database.engine.dispose()


@grades.command("retry-failed")
def retry_failed_command() -> None:
    """Queue the grades the LMS refused again (after fixing the platform's settings)."""
    settings = settings_from_env(serving=False)
    with session_scope(settings) as session:
        count = passback.retry_failed(session, utcnow())
    click.echo(f"{count} refused grades queued again")
