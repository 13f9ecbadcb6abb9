"""``jalon xapi``: the statements outbox and the relay that delivers it to the LRS."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from importlib.metadata import version

import click
import sqlalchemy as sa

from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.config import LrsSettings, Settings
from lti_tool.db import Database
from xapi import outbox
from xapi.lrs import HttpLrs
from xapi.outbound import OutboundPolicy
from xapi.relay import Relay, RelayCounts, RelayPolicy

logger = logging.getLogger(__name__)

NO_LRS = (
    "no LRS configured: set JALON_LRS_ENDPOINT, JALON_LRS_USERNAME and JALON_LRS_PASSWORD "
    "(statements wait in the outbox meanwhile)"
)
STATUSES = [*(s.value for s in outbox.Status), "all"]


def http_lrs(lrs: LrsSettings, base_url: str) -> HttpLrs:
    """Return the HTTP client of the configured LRS, under the outbound policy.

    Like every outbound call: https to a public address, or plain http to loopback when
    Jalon itself is served on loopback (``base_url``, the demo).
    """
    return HttpLrs(
        lrs.endpoint,
        lrs.username,
        lrs.password,
        policy=OutboundPolicy.for_base_url(base_url),
        user_agent=f"Jalon/{version('jalon')}",
    )


def build_relay(settings: Settings, database: Database, *, batch_size: int | None = None) -> Relay:
    """Return a relay from the settings to the configured LRS (``settings.lrs`` is set)."""
    if settings.lrs is None:
        raise ValueError(NO_LRS)
    policy = RelayPolicy(batch_size=batch_size or settings.xapi_batch_size)
    return Relay(database.sessions, http_lrs(settings.lrs, settings.base_url), policy)


def start_background_relay(settings: Settings, database: Database) -> Callable[[], None]:
    """Run a relay in a daemon thread of this process; return the function that stops it.

    Without an LRS configured nothing runs: statements wait in the outbox, and the
    returned function does nothing. Stopping finishes the batch in flight (bounded by the
    HTTP timeouts), then closes the LRS connection.
    """
    if settings.lrs is None:
        logger.info("xAPI: %s", NO_LRS)
        return lambda: None
    relay = build_relay(settings, database)
    stop = threading.Event()
    thread = threading.Thread(
        target=relay.run, kwargs={"stop": stop}, name="jalon-xapi-relay", daemon=True
    )
    thread.start()
    logger.info("xAPI relay started in the background, to %s", settings.lrs.endpoint)

    def _stop() -> None:
        stop.set()
        thread.join(timeout=60)
        relay.lrs.close()

    return _stop


@click.group()
def xapi() -> None:
    """Deliver xAPI statements to the LRS and inspect the outbox."""


@xapi.command("relay")
@click.option("--once", is_flag=True, help="Send every statement due now, then exit.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 5000),
    default=None,
    help="Statements per request (default: JALON_XAPI_BATCH_SIZE, 500).",
)
def relay_command(once: bool, batch_size: int | None) -> None:
    """Deliver the outbox to the LRS: as a worker until SIGTERM, or --once."""
    settings = settings_from_env(serving=False)
    if settings.lrs is None:
        raise click.ClickException(NO_LRS)
    with session_scope(settings) as session:
        waiting = outbox.summary(session).pending  # also proves the database is migrated
    database = Database(settings.database_url)
    relay = build_relay(settings, database, batch_size=batch_size)
    if not once:
        click.echo(
            f"xAPI relay to {settings.lrs.endpoint}: {waiting} statements pending "
            "(SIGTERM or Ctrl+C to stop)"
        )
    try:
        counts = relay.run(once=once)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise click.ClickException("the database is not ready: run `jalon db upgrade`") from exc
    finally:
        relay.lrs.close()
        database.engine.dispose()
    click.echo(_counts(counts))


@xapi.command("status")
def status_command() -> None:
    """Show pending, delivered and dead statements and how long the oldest has waited."""
    settings = settings_from_env(serving=False)
    with session_scope(settings) as session:
        summary = outbox.summary(session)
    age = summary.oldest_pending_age(outbox.utcnow())
    click.echo(f"pending\t{summary.pending}")
    click.echo(f"delivered\t{summary.delivered}")
    click.echo(f"dead\t{summary.dead}")
    click.echo(f"oldest pending\t{format_age(age) if age is not None else '-'}")
    lrs = settings.lrs
    click.echo(f"LRS\t{lrs.endpoint} (user {lrs.username})" if lrs else "LRS\tnone configured")


@xapi.command("retry-dead")
def retry_dead_command() -> None:
    """Put every dead letter back in the queue, to be sent again."""
    settings = settings_from_env(serving=False)
    with session_scope(settings) as session:
        count = outbox.retry_dead(session)
    click.echo(f"{count} dead letters queued again")


@xapi.command("review-dead")
def review_dead_command() -> None:
    """Mark every dead letter as reviewed (read them first: export --status dead).

    A reviewed dead letter is purged JALON_RETENTION_OUTBOX_DAYS after its review; one not
    reviewed never is.
    """
    settings = settings_from_env(serving=False)
    with session_scope(settings) as session:
        count = outbox.mark_reviewed(session, now=outbox.utcnow())
    click.echo(f"{count} dead letters marked as reviewed")


@xapi.command("export")
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    default="all",
    show_default=True,
    help="Which statements to export.",
)
def export_command(status: str) -> None:
    """Write statements as JSON lines, one statement per line, oldest first."""
    settings = settings_from_env(serving=False)
    wanted = None if status == "all" else outbox.Status(status)
    with session_scope(settings) as session:
        for entry in outbox.iter_entries(session, status=wanted):
            click.echo(_one_line(entry.body))


def _one_line(body: str) -> str:
    """Keep the stored text, unless its builder spread it over several lines."""
    if "\n" not in body and "\r" not in body:
        return body
    return json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":"))


def _counts(counts: RelayCounts) -> str:
    return (
        f"delivered {counts.delivered}, dead letters {counts.dead}, "
        f"to retry {counts.retried} ({counts.requests} requests)"
    )


def format_age(age: dt.timedelta) -> str:
    """Write a wait as days, hours, minutes and seconds, largest first (``2 h 5 min``)."""
    seconds = int(age.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)
