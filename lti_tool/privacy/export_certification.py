"""The certification part of a person's export: the civil identity kept for the accrochage."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.models import HolderIdentity
from lti_tool.models import LtiUser


def when(moment: dt.datetime | None) -> str | None:
    """Return an instant as ISO 8601 in UTC, or None."""
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def identity_document(session: Session, person: LtiUser) -> dict[str, Any] | None:
    """Return the civil identity kept for the accrochage file, or None (none is kept)."""
    identity = session.scalar(
        sa.select(HolderIdentity).where(HolderIdentity.learner_id == person.id)
    )
    if identity is None:
        return None
    return {
        "birth_name": identity.birth_name,
        "usage_name": identity.usage_name,
        "first_names": [
            name
            for name in (identity.first_name_1, identity.first_name_2, identity.first_name_3)
            if name
        ],
        "birth_year": identity.birth_year,
        "birth_month": identity.birth_month,
        "birth_day": identity.birth_day,
        "sex": identity.sex,
        "birth_insee_code": identity.birth_insee_code,
        "birth_postal_code": identity.birth_postal_code,
        "birth_city": identity.birth_city,
        "birth_country_code": identity.birth_country_code,
        "access_route": identity.access_route,
        "vae_route": identity.vae_route,
        "registration_initiative": identity.registration_initiative,
        "registration_date": identity.registration_date.isoformat()
        if identity.registration_date
        else None,
        "source": identity.source,
        "created_at": when(identity.created_at),
        "updated_at": when(identity.updated_at),
        "delete_after": identity.delete_after.isoformat() if identity.delete_after else None,
    }
