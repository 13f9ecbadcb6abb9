"""What a placement (an LTI resource link) evaluates: framework, épreuve, competencies.

Deep linking writes the custom parameters ``framework``, ``epreuve`` and, when the
instructor narrowed the épreuve, ``competencies``; every page of a placement reads them
through :func:`placement_of`. The deep-linking response also records what it placed
(:func:`record_placement`), so the course knows its épreuves before anyone launches them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import EpreuvePlacement, PlacementSource
from lti_tool.frameworks import current_framework
from referentiel.model import Competency, Epreuve, Framework


@dataclass(frozen=True)
class Placement:
    """A placed épreuve; ``framework`` is ``None`` when its référentiel is not installed."""

    code: str
    framework: Framework | None
    version: str | None
    epreuve: Epreuve | None
    competencies: tuple[Competency, ...]

    @property
    def is_evaluable(self) -> bool:
        """Return whether learners can submit and be evaluated here."""
        return self.framework is not None and bool(self.competencies)

    @property
    def criteria_count(self) -> int:
        """Return the number of criteria judged: the maximum of the LMS grade."""
        return sum(len(competency.criteria) for competency in self.competencies)


def competency_codes(value: Any) -> list[str]:
    """Split a ``competencies`` custom parameter (comma- or semicolon-separated)."""
    if not isinstance(value, str):
        return []
    return [code.strip() for code in value.replace(";", ",").split(",") if code.strip()]


def epreuve_heading(epreuve: Epreuve) -> str:
    """Return how a placed épreuve is named where the platform gave it no title."""
    return f"{epreuve.code} — {epreuve.title}"


def placement_title(session: Session, title: str | None, custom: Mapping[str, Any]) -> str | None:
    """Return a placement's title: the platform's, else its épreuve's (Open edX sends none).

    Never the custom parameters themselves (``community-manager-n6/E3``): a gradebook
    column or a heading says what the learners were asked to do.
    """
    if title:
        return title
    placement = placement_of(session, custom) if isinstance(custom, Mapping) else None
    if placement is None or placement.epreuve is None:
        return None
    return epreuve_heading(placement.epreuve)


def placement_of(session: Session, custom: Mapping[str, Any]) -> Placement | None:
    """Return the épreuve a placement's custom parameters name, or ``None`` if none."""
    code, epreuve_code = custom.get("framework"), custom.get("epreuve")
    if not isinstance(code, str) or not code:
        return None
    current = current_framework(session, code)
    if current is None:
        return Placement(code, None, None, None, ())
    framework = current[1]
    try:
        epreuve = framework.epreuve(epreuve_code) if isinstance(epreuve_code, str) else None
    except KeyError:
        epreuve = None
    codes = competency_codes(custom.get("competencies")) or (
        list(epreuve.competencies) if epreuve else []
    )
    competencies = []
    for competency_code in codes:
        try:
            competencies.append(framework.competency(competency_code))
        except KeyError:
            continue
    return Placement(code, framework, framework.identity.version, epreuve, tuple(competencies))


def record_placement(
    session: Session, context_id: int, custom: Mapping[str, str], now: dt.datetime
) -> EpreuvePlacement:
    """Record the épreuve a signed deep-linking response places in a course.

    ``custom`` holds the resource link's custom parameters (framework, épreuve,
    competencies), checked by the picker's schema. The same épreuve placed again with the
    same competencies is one placement, dated by its latest answer.
    """
    framework_code, epreuve_code = custom["framework"], custom["epreuve"]
    codes = competency_codes(custom.get("competencies"))
    for row in session.scalars(
        sa.select(EpreuvePlacement).where(
            EpreuvePlacement.context_id == context_id,
            EpreuvePlacement.framework_code == framework_code,
            EpreuvePlacement.epreuve_code == epreuve_code,
            EpreuvePlacement.source == PlacementSource.DEEP_LINKING,
        )
    ):
        if list(row.competencies) == codes:
            row.placed_at, row.custom = now, dict(custom)
            session.flush()
            return row
    placement = EpreuvePlacement(
        context_id=context_id,
        framework_code=framework_code,
        epreuve_code=epreuve_code,
        competencies=codes,
        custom=dict(custom),
        source=PlacementSource.DEEP_LINKING,
        placed_at=now,
    )
    session.add(placement)
    session.flush()
    return placement
