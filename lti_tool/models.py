"""Tables of the web app."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, created_at


class FrameworkRecord(Base):
    """One imported version of a référentiel, kept as its file document.

    The document is the ``jalon-referentiel/1`` mapping, so the stored framework is
    exactly what a person could export, correct and import again.
    """

    __tablename__ = "frameworks"
    __table_args__ = (sa.UniqueConstraint("code", "version", name="uq_frameworks_code_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(100), index=True)
    version: Mapped[str] = mapped_column(sa.String(50))
    title: Mapped[str] = mapped_column(sa.String(300))
    checksum: Mapped[str] = mapped_column(sa.String(64))
    # Deferred: look-ups by code read the checksum and reach the parsed cache instead.
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON, deferred=True)
    imported_at: Mapped[created_at]
    is_current: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<FrameworkRecord {self.code} {self.version}>"
