"""The register of erasures: that one happened, never whom it was about."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, utcnow


class Erasure(Base):
    """One erasure of a person's data, recorded without their personal data.

    ``person_hash`` is a keyed hash (HMAC-SHA256 under the app's secret key) of the
    issuer and ``sub``: whoever holds the key and the ``sub`` can tell that this person
    was erased, nobody can read the ``sub`` back. ``counts`` says how many rows, files and
    statements of each kind went or were kept pseudonymised.
    """

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    erased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The platform the person came from (its issuer): no personal data.
    issuer: Mapped[str] = mapped_column(sa.String(255))
    person_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # Who asked, as the operator wrote it (a request reference), and through what.
    requested_by: Mapped[str] = mapped_column(sa.String(255), default="")
    channel: Mapped[str] = mapped_column(sa.String(20))  # "cli" or "admin"
    # Whether decisions of published evaluations were kept, pseudonymised.
    is_decisions_kept: Mapped[bool]
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
