"""``jalon certification keys`` and ``jalon certification badges``: sign, issue, revoke."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa

from lti_tool.certification import issuance, keys, links
from lti_tool.certification.issuer import UnknownFrameworkError
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    IssuedCredential,
    JuryDecision,
)
from lti_tool.cli.context import session_scope, settings_from_env
from lti_tool.db import utcnow


@click.group("keys")
def keys_group() -> None:
    """List or rotate the keys that sign credentials (not the LTI tool key)."""


@keys_group.command("list")
def list_keys() -> None:
    """Print every signing key: its id, whether it signs now, when it was retired."""
    settings = settings_from_env()
    with session_scope(settings) as db:
        found = keys.all_keys(db)
        if not found:
            click.echo("no key yet: the first credential issued creates one")
        for key in found:
            state = "current" if key.is_current else f"retired {key.retired_at:%Y-%m-%d %H:%M}"
            click.echo(f"{key.key_id}  {state}  {links.key_url(settings.base_url, key.key_id)}")


@keys_group.command("rotate")
def rotate() -> None:
    """Make a new signing key; the old ones stay published, so what they signed verifies."""
    settings = settings_from_env()
    with session_scope(settings) as db:
        key = keys.rotate_key(db, utcnow())
        click.echo(f"new current key: {key.key_id}")


@click.group("badges")
def badges() -> None:
    """Issue, revoke and list the Open Badges 3.0 credentials of the jury's decisions."""


def _session(db: sa.orm.Session, session_id: int) -> CertificationSession:
    session = db.get(CertificationSession, session_id)
    if session is None:
        raise click.ClickException(f"--session: no certification session {session_id}")
    return session


@badges.command("issue")
@click.option("--session", "session_id", type=int, required=True, help="The session's id.")
def issue(session_id: int) -> None:
    """Issue a credential for each final, validated decision of a session that has none."""
    settings = settings_from_env()
    with session_scope(settings) as db:
        session = _session(db, session_id)
        try:
            issued = issuance.issue_for_session(db, session, settings)
        except (UnknownFrameworkError, issuance.IssuanceError) as error:
            raise click.ClickException(str(error)) from error
        for credential in issued:
            click.echo(
                f"{credential.public_id}  {credential.scope} {credential.code}  "
                f"{links.verification_url(settings.base_url, credential.public_id)}"
            )
        click.echo(f"{len(issued)} credential(s) issued")


@badges.command("revoke")
@click.argument("public_id")
@click.option("--reason", required=True, help="Shown on the credential's public page.")
def revoke(public_id: str, reason: str) -> None:
    """Revoke a credential: its status bit is set, its public page says why."""
    settings = settings_from_env()
    with session_scope(settings) as db:
        credential = db.scalar(
            sa.select(IssuedCredential).where(IssuedCredential.public_id == public_id.strip())
        )
        if credential is None:
            raise click.ClickException(f"PUBLIC_ID: no credential {public_id}")
        if credential.revoked_at is not None:
            raise click.ClickException(f"PUBLIC_ID: {public_id} is already revoked")
        try:
            issuance.revoke(db, credential, reason=reason)
        except issuance.IssuanceError as error:
            raise click.ClickException(f"--{error}") from error
        click.echo(f"revoked {public_id}")


@badges.command("list")
@click.option("--session", "session_id", type=int, required=True, help="The session's id.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_badges(session_id: int, as_json: bool) -> None:
    """List a session's credentials: candidate number, bloc or title, state."""
    settings = settings_from_env()
    with session_scope(settings) as db:
        _session(db, session_id)
        rows = db.execute(
            sa.select(IssuedCredential, Candidate.number)
            .join(JuryDecision, JuryDecision.id == IssuedCredential.decision_id)
            .join(Candidate, Candidate.id == JuryDecision.candidate_id)
            .where(Candidate.session_id == session_id)
            .order_by(Candidate.number, IssuedCredential.scope, IssuedCredential.code)
        ).all()
        for credential, number in rows:
            state = "revoked" if credential.revoked_at else "valid"
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "public_id": credential.public_id,
                            "candidate": number,
                            "scope": credential.scope,
                            "code": credential.code,
                            "state": state,
                            "issued_at": credential.issued_at.isoformat(),
                            "revocation_reason": credential.revocation_reason,
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                reason = f" ({credential.revocation_reason})" if credential.revoked_at else ""
                click.echo(
                    f"{number:>4}  {credential.scope:<5} {credential.code:<12} "
                    f"{credential.public_id}  {state}{reason}"
                )
        if not as_json:
            click.echo(f"{len(rows)} credential(s)")
