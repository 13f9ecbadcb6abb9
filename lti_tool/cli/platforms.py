"""``jalon platform``: the LMSs (and their deployments) whose launches Jalon accepts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.issuer_share import issuer_share
from lti_tool.models import PlatformStatus
from lti_tool.registration import (
    PlatformFields,
    RegistrationError,
    activate_platform,
    add_deployments,
    create_invite,
    get_platform,
    list_platforms,
    register_platform,
    remove_deployment,
    remove_platform,
    set_service_origins,
)

# Field of lti_tool.registration → the option an administrator typed.
OPTIONS = {
    "issuer": "--issuer",
    "client_id": "--client-id",
    "auth_login_url": "--auth-login-url",
    "auth_token_url": "--auth-token-url",
    "key_set_url": "--jwks-url",
    "auth_audience": "--auth-audience",
    "name": "--name",
    "deployment_id": "--deployment-id",
    "service_origin": "--add/--remove",
}


@click.group()
def platform() -> None:
    """Register the LMSs (Moodle, Canvas…) whose launches Jalon accepts."""


@contextmanager
def _registration() -> Iterator[Session]:
    """Give a session; a refused registration stops the command naming the option at fault."""
    try:
        with session_scope(settings_from_env(serving=False)) as session:
            yield session
    except RegistrationError as error:
        lines = [f"{OPTIONS.get(p.field, p.field)}: {p.message}" for p in error.problems]
        raise click.ClickException("\n".join(lines)) from error


@platform.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (Moodle: its site URL).")
@click.option("--client-id", required=True, help="The client id the platform gave Jalon.")
@click.option("--auth-login-url", required=True, help="OIDC authentication request URL.")
@click.option("--auth-token-url", required=True, help="OAuth 2 access token URL.")
@click.option("--jwks-url", required=True, help="URL of the platform's public key set.")
@click.option("--auth-audience", default=None, help="Token audience, if not the token URL.")
@click.option("--name", default="", help="A name to recognise the platform by.")
@click.option(
    "--deployment-id", "deployment_ids", multiple=True, help="A deployment id (repeatable)."
)
@click.option(
    "--service-origin",
    "service_origins",
    multiple=True,
    help="Another origin the platform serves AGS/NRPS from (repeatable).",
)
def platform_add(
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    jwks_url: str,
    auth_audience: str | None,
    name: str,
    deployment_ids: tuple[str, ...],
    service_origins: tuple[str, ...],
) -> None:
    """Register a platform and its deployments."""
    fields = PlatformFields(
        issuer=issuer,
        client_id=client_id,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        key_set_url=jwks_url,
        auth_audience=auth_audience,
        name=name,
        deployment_ids=deployment_ids,
    )
    with _registration() as session:
        registered = register_platform(session, fields, status=PlatformStatus.ACTIVE)
        if service_origins:
            set_service_origins(session, registered, add=service_origins)
        count = len(registered.deployments)
        click.echo(
            f"registered {registered.issuer} (client id {registered.client_id}) "
            f"with {count} deployment(s)"
        )
    if not count:
        click.echo(
            "warning: no deployment yet; launches are refused until you run "
            "`jalon platform add-deployment`",
            err=True,
        )


@platform.command("list")
def platform_list() -> None:
    """List the platforms: issuer, client id, name, deployment ids, status (tab-separated)."""
    with _registration() as session:
        platforms = list_platforms(session)
        for item in platforms:
            deployments = ",".join(d.deployment_id for d in item.deployments) or "-"
            click.echo(
                f"{item.issuer}\t{item.client_id}\t{item.name or '-'}\t{deployments}\t{item.status}"
            )
    if not platforms:
        click.echo("no platform registered (jalon platform add --help)", err=True)


@platform.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
def platform_remove(issuer: str, client_id: str) -> None:
    """Remove a platform, its deployments and what Jalon knows of its courses."""
    with _registration() as session:
        remove_platform(session, get_platform(session, issuer, client_id))
    click.echo(f"removed {issuer.strip()} (client id {client_id.strip()})")


@platform.command("add-deployment")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True)
def platform_add_deployment(issuer: str, client_id: str, deployment_ids: tuple[str, ...]) -> None:
    """Add deployment ids (e.g. a new Canvas sub-account) to a registered platform."""
    with _registration() as session:
        added = add_deployments(session, get_platform(session, issuer, client_id), deployment_ids)
    click.echo(f"added deployment(s) {', '.join(d.deployment_id for d in added)}")


@platform.command("remove-deployment")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment-id", required=True)
def platform_remove_deployment(issuer: str, client_id: str, deployment_id: str) -> None:
    """Remove one deployment id of a registered platform."""
    with _registration() as session:
        remove_deployment(session, get_platform(session, issuer, client_id), deployment_id)
    click.echo(f"removed deployment {deployment_id.strip()}")


@platform.command("activate")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option(
    "--same-lms",
    is_flag=True,
    help="Confirm that a platform under an issuer Jalon already serves is that same LMS.",
)
def platform_activate(issuer: str, client_id: str, same_lms: bool) -> None:
    """Accept the launches of a pending platform (registered by Dynamic Registration)."""
    with _registration() as session:
        found = get_platform(session, issuer, client_id)
        share = None if found.is_active else issuer_share(session, found)
        if share is not None and not same_lms:
            keys = "".join(f"\n  {url}" for url in share.key_set_urls)
            raise click.ClickException(
                f"{found.issuer} already has {share.courses} course(s) and {share.people} "
                "person(s) in Jalon: once active, this platform could launch Jalon as them. "
                "Compare its key set with the active ones of this issuer, and add --same-lms "
                f"only if it is the same LMS.\n  this platform: {found.key_set_url}"
                + (f"\n  active ones:{keys}" if keys else "")
            )
        changed = activate_platform(session, found)
    state = "activated" if changed else "already active:"
    click.echo(f"{state} {issuer.strip()} (client id {client_id.strip()})")


@platform.command("invite")
@click.option(
    "--hours",
    default=24,
    show_default=True,
    type=click.IntRange(1, 168),
    help="How long the link stays usable (at most a week).",
)
@click.option("--note", default="", help="What the link is for (kept with it, max 255).")
def platform_invite(hours: int, note: str) -> None:
    """Print a single-use Dynamic Registration link: its platform is active at once.

    Give it to the LMS administrator, who enters it as the tool's registration URL
    (Moodle: "Tool URL"; Canvas: the LTI Registration URL). The link is shown only now;
    Jalon keeps a hash of it.
    """
    settings = settings_from_env(serving=False)
    with _registration() as session:
        invite, token = create_invite(session, dt.timedelta(hours=hours), note)
        expires = invite.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"{settings.base_url}/lti/register/{token}")
    click.echo(f"single use, valid until {expires}", err=True)


@platform.command("origins")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--add", "added", multiple=True, help="An origin to allow (repeatable).")
@click.option("--remove", "removed", multiple=True, help="An origin to drop (repeatable).")
def platform_origins(
    issuer: str, client_id: str, added: tuple[str, ...], removed: tuple[str, ...]
) -> None:
    """Show or change the extra origins a platform's AGS/NRPS URLs may be on.

    Jalon calls a service URL from a launch only on the platform's own origins (those of
    its issuer, login, token and key-set URLs) and these. Hosted Canvas, for one, serves
    its services from the school's host (https://school.instructure.com).
    """
    with _registration() as session:
        found = get_platform(session, issuer, client_id)
        if added or removed:
            set_service_origins(session, found, add=added, remove=removed)
        extra = set(found.service_origins or ())
        for origin in sorted(found.origins()):
            click.echo(f"{origin}\t{'extra' if origin in extra else 'registered'}")
