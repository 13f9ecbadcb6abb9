"""What activating a platform opens to it: the courses and people of its issuer.

Courses and people belong to an issuer, not to a client id (several Open edX components
of one course are one course). A platform registered under an issuer Jalon already serves
reaches, once active, that issuer's courses and people: whoever registered it with another
LMS's issuer and their own keys could then sign launches as those people. So approving it
is a decision an administrator makes knowing that, on the admin page and in the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.models import LtiContext, LtiUser, Platform, PlatformStatus


@dataclass(frozen=True)
class IssuerShare:
    """The active platforms of the same issuer, and what the issuer holds in Jalon."""

    key_set_urls: tuple[str, ...]  # of the issuer's active platforms, to compare with
    courses: int
    people: int


def issuer_share(session: Session, platform: Platform) -> IssuerShare | None:
    """Return what a pending platform would share once active, or None if nothing."""
    others = session.scalars(
        sa.select(Platform.key_set_url).where(
            Platform.issuer == platform.issuer,
            Platform.id != platform.id,
            Platform.status == PlatformStatus.ACTIVE,
        )
    ).all()
    courses = session.scalar(
        sa.select(sa.func.count())
        .select_from(LtiContext)
        .where(LtiContext.issuer == platform.issuer)
    )
    people = session.scalar(
        sa.select(sa.func.count()).select_from(LtiUser).where(LtiUser.issuer == platform.issuer)
    )
    if not others and not courses and not people:
        return None
    return IssuerShare(tuple(sorted(set(others))), courses or 0, people or 0)
