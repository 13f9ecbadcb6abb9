"""What a placement (an LTI resource link) evaluates: framework, épreuve, competencies.

Deep linking writes the custom parameters ``framework``, ``epreuve``, ``competencies`` and,
from the second time the same épreuve is placed in a course, its number ``placement``;
every page of a placement reads them through :func:`placement_of`. The deep-linking
response also records what it placed (:func:`record_placement`), so the course knows its
épreuves before anyone launches them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
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


def epreuve_heading(epreuve: Epreuve, codes: Sequence[str] = (), number: int = 1) -> str:
    """Return how a placed épreuve is named: code and title, then what tells placements apart.

    A course may hold the same épreuve twice, whole or narrowed to some competencies: in
    the LMS's activity list and gradebook, "E2 — … (C1.6–C1.7)" and "E2 — … (2)" are two
    different columns, not the same one twice.
    """
    heading = f"{epreuve.code} — {epreuve.title}"
    kept = narrowed_to(epreuve, codes)
    if kept:
        heading += f" ({kept})"
    if number > 1:
        heading += f" ({number})"
    return heading


def narrowed_to(epreuve: Epreuve, codes: Sequence[str]) -> str | None:
    """Return the competencies a narrowed placement kept, by runs: ``C1.6–C1.7, C1.9``.

    ``None`` when it keeps the whole épreuve. A run is a sequence of competencies that
    follow each other in the épreuve.
    """
    if not codes or set(codes) == set(epreuve.competencies):
        return None
    order = {code: index for index, code in enumerate(epreuve.competencies)}
    runs: list[list[str]] = []
    for code in codes:
        index, last = order.get(code), order.get(runs[-1][-1]) if runs else None
        if index is not None and last is not None and index == last + 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


def placement_number(custom: Mapping[str, Any]) -> int:
    """Return which placement of its épreuve in the course a link is (1 when not said)."""
    value = custom.get("placement")
    return int(value) if isinstance(value, str) and value.isdigit() and 0 < len(value) < 6 else 1


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
    codes = [competency.code for competency in placement.competencies]
    return epreuve_heading(placement.epreuve, codes, placement_number(custom))


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
    competencies, number), checked by the picker's schema. The same answer given again
    (same competencies, same number) is one placement, dated by its latest answer.
    """
    framework_code, epreuve_code = custom["framework"], custom["epreuve"]
    codes, number = competency_codes(custom.get("competencies")), placement_number(custom)
    for row in session.scalars(
        sa.select(EpreuvePlacement).where(
            EpreuvePlacement.context_id == context_id,
            EpreuvePlacement.framework_code == framework_code,
            EpreuvePlacement.epreuve_code == epreuve_code,
            EpreuvePlacement.source == PlacementSource.DEEP_LINKING,
        )
    ):
        if list(row.competencies) == codes and placement_number(row.custom) == number:
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


def next_number(session: Session, context_id: int, custom: Mapping[str, str]) -> int:
    """Return the number the next placement of this épreuve in the course takes.

    1 for the first; then one more than the placements signed so far with the same
    competencies (another choice of competencies is told apart by its range).
    """
    codes = competency_codes(custom.get("competencies"))
    rows = session.scalars(
        sa.select(EpreuvePlacement.custom).where(
            EpreuvePlacement.context_id == context_id,
            EpreuvePlacement.framework_code == custom["framework"],
            EpreuvePlacement.epreuve_code == custom["epreuve"],
            EpreuvePlacement.source == PlacementSource.DEEP_LINKING,
        )
    )
    numbers = [
        placement_number(row) for row in rows if competency_codes(row.get("competencies")) == codes
    ]
    return max(numbers, default=0) + 1
