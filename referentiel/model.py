"""The référentiel as immutable Python objects.

A framework is read from a file (see ``referentiel.loader``), never built by hand in
application code, so the classes here only hold data and answer look-ups.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Modality(StrEnum):
    """How an épreuve is taken."""

    CASE_STUDY = "etude_de_cas"
    PROJECT_INTERVIEW = "projet_entretien"
    PROFESSIONAL_SITUATION = "mise_en_situation"


class CompetencyRule(StrEnum):
    """When one evaluation makes a competency *acquise*."""

    ALL_CRITERIA = "all_criteria"
    MIN_CRITERIA = "min_criteria"


@dataclass(frozen=True, slots=True)
class ScaleLevel:
    """One level of the scale a criterion is judged on."""

    code: str
    label: str
    label_en: str
    is_passing: bool


@dataclass(frozen=True, slots=True)
class Rules:
    """Acquisition rules of the framework."""

    competency: CompetencyRule = CompetencyRule.ALL_CRITERIA
    min_criteria: int | None = None
    bloc: str = "all_competencies"
    certification: str = "all_blocs"


@dataclass(frozen=True, slots=True)
class Criterion:
    """An evaluation criterion; it judges exactly one competency."""

    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Competency:
    """A competency of a bloc with the criteria that judge it."""

    code: str
    statement: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True, slots=True)
class Bloc:
    """A bloc de compétences, certified on its own."""

    code: str
    title: str
    competencies: tuple[Competency, ...]
    # The bloc's code in the RNCP (``RNCP12345BC02``): the accrochage declares a bloc with it.
    rncp: str | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    """An activity of the référentiel d'activités and the competencies it develops."""

    code: str
    bloc: str
    title: str
    tasks: tuple[str, ...]
    competencies: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Epreuve:
    """An épreuve (modalité d'évaluation) covering a set of competencies."""

    code: str
    title: str
    modality: Modality
    modality_label: str
    description: str
    deliverables: tuple[str, ...]
    interview: tuple[str, ...]
    preparation_time: str | None
    competencies: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Identity:
    """What names a framework and its version."""

    code: str
    title: str
    level: int | None
    version: str
    language: str
    publisher: str
    description: str | None = None
    updated: date | None = None
    # The title's number in the RNCP (``RNCP12345``), as France Compétences registered it.
    rncp: str | None = None


@dataclass(frozen=True, slots=True)
class Framework:
    """A whole référentiel: identity, scale, rules, blocs, activities and épreuves."""

    identity: Identity
    scale: tuple[ScaleLevel, ...]
    rules: Rules
    blocs: tuple[Bloc, ...]
    activities: tuple[Activity, ...]
    epreuves: tuple[Epreuve, ...]
    _competencies: dict[str, Competency] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _bloc_of: dict[str, Bloc] = field(init=False, repr=False, compare=False, default_factory=dict)
    _criteria: dict[str, tuple[Criterion, Competency]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for bloc in self.blocs:
            for competency in bloc.competencies:
                self._competencies[competency.code] = competency
                self._bloc_of[competency.code] = bloc
                for criterion in competency.criteria:
                    self._criteria[criterion.code] = (criterion, competency)

    @property
    def code(self) -> str:
        """The framework's slug, used in URLs and identifiers."""
        return self.identity.code

    def competencies(self) -> Iterator[Competency]:
        """Yield every competency, bloc by bloc, in file order."""
        for bloc in self.blocs:
            yield from bloc.competencies

    def criteria(self) -> Iterator[Criterion]:
        """Yield every criterion in file order."""
        for competency in self.competencies():
            yield from competency.criteria

    def competency(self, code: str) -> Competency:
        """Return the competency with this code; raise ``KeyError`` if there is none."""
        return self._competencies[code]

    def criterion(self, code: str) -> Criterion:
        """Return the criterion with this code; raise ``KeyError`` if there is none."""
        return self._criteria[code][0]

    def competency_of_criterion(self, code: str) -> Competency:
        """Return the competency a criterion judges."""
        return self._criteria[code][1]

    def bloc(self, code: str) -> Bloc:
        """Return the bloc with this code; raise ``KeyError`` if there is none."""
        for bloc in self.blocs:
            if bloc.code == code:
                return bloc
        raise KeyError(code)

    def bloc_of(self, competency_code: str) -> Bloc:
        """Return the bloc a competency belongs to."""
        return self._bloc_of[competency_code]

    def activity(self, code: str) -> Activity:
        """Return the activity with this code; raise ``KeyError`` if there is none."""
        for activity in self.activities:
            if activity.code == code:
                return activity
        raise KeyError(code)

    def epreuve(self, code: str) -> Epreuve:
        """Return the épreuve with this code; raise ``KeyError`` if there is none."""
        for epreuve in self.epreuves:
            if epreuve.code == code:
                return epreuve
        raise KeyError(code)

    def passing_levels(self) -> frozenset[str]:
        """Codes of the scale levels that count as a met criterion."""
        return frozenset(level.code for level in self.scale if level.is_passing)
