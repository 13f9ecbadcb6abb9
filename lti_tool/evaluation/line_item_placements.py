"""Épreuves the LMS gradebook says are in a course: placements read from AGS line items.

Deep linking tells Jalon which épreuves it placed (the answers it signed). A gradebook column
whose ``resourceId`` names an installed épreuve (``<framework>/<épreuve>``, what Jalon's
deep-linking answers ask the platform to store) says the same for a placement Jalon did not
sign here: one copied from another course, or kept when a course was duplicated. "Ma
progression" reads the course's columns when a learner opens it, at most once every ten
minutes per course and process, and records the épreuves it learns of, so that they are
named before anyone launches them.

The read is a courtesy: a platform that offers no column listing, refuses it, or answers
slowly leaves the page as it was (the reason is logged), never failing it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import EpreuvePlacement, PlacementSource
from lti_tool.services import LineItem, LmsServiceError, lms_services
from lti_tool.services.context import SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, LmsContext
from referentiel.model import Framework

log = logging.getLogger(__name__)
REFRESH_SECONDS = 600


class _Recent:
    """The courses whose columns this process read lately (a per-process throttle)."""

    def __init__(self) -> None:
        self._read_at: dict[int, float] = {}
        self._lock = threading.Lock()

    def due(self, context_pk: int, now: float) -> bool:
        """Return whether this course's columns may be read now (without noting a read)."""
        with self._lock:
            last = self._read_at.get(context_pk)
            return last is None or now - last >= REFRESH_SECONDS

    def claim(self, context_pk: int, now: float) -> bool:
        """Return whether to read this course's columns now, and note that they are read."""
        with self._lock:
            last = self._read_at.get(context_pk)
            if last is not None and now - last < REFRESH_SECONDS:
                return False
            self._read_at[context_pk] = now
            return True

    def forget(self) -> None:
        """Forget every read (tests, and a process that wants a fresh look)."""
        with self._lock:
            self._read_at.clear()


recent = _Recent()


def placed_by_columns(columns: Iterable[LineItem], framework: Framework) -> set[str]:
    """Return the codes of this framework's épreuves that gradebook columns name."""
    codes = set()
    for column in columns:
        framework_code, _, epreuve_code = (column.resource_id or "").partition("/")
        if framework_code != framework.code or not epreuve_code:
            continue
        try:
            codes.add(framework.epreuve(epreuve_code).code)
        except KeyError:
            continue
    return codes


def refresh(
    session: Session,
    context_pk: int,
    services: LmsContext,
    frameworks: Mapping[str, Framework],
    now: dt.datetime,
) -> list[str]:
    """Record the épreuves the course's columns name and Jalon did not know; return them.

    ``frameworks`` are the installed ones by code. Nothing is read when the launch granted
    no line-item scope or when this process read the course's columns lately.
    """
    if not services.lineitems_url or not services.scopes & {
        SCOPE_LINEITEM,
        SCOPE_LINEITEM_READONLY,
    }:
        return []
    if not recent.claim(context_pk, time.monotonic()):
        return []
    try:
        columns = lms_services().ags.line_items(services)
    except LmsServiceError as exc:
        log.info("course %s: gradebook columns not read (%s)", context_pk, exc.code)
        return []
    known = {
        (framework_code, epreuve_code)
        for framework_code, epreuve_code in session.execute(
            sa.select(EpreuvePlacement.framework_code, EpreuvePlacement.epreuve_code).where(
                EpreuvePlacement.context_id == context_pk
            )
        )
    }
    added = []
    for framework in frameworks.values():
        for code in sorted(
            placed_by_columns(columns, framework) - {e for f, e in known if f == framework.code}
        ):
            session.add(
                EpreuvePlacement(
                    context_id=context_pk,
                    framework_code=framework.code,
                    epreuve_code=code,
                    competencies=[],
                    custom={"framework": framework.code, "epreuve": code},
                    source=PlacementSource.LINE_ITEM,
                    placed_at=now,
                )
            )
            added.append(f"{framework.code}/{code}")
    if added:
        session.flush()
        log.info(
            "course %s: %d épreuve(s) placed, read from gradebook columns", context_pk, len(added)
        )
    return added
