"""What a learner's record holds: frozen values, read once, shown by every page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referentiel.model import ScaleLevel
from referentiel.rules import Status

# What may stand between a code and a title: "E1 — …", "E1 - …", "E1 : …", "E1. …".
_SEPARATORS = " \u00a0\u2014\u2013-:.·"


@dataclass(frozen=True)
class PlacedEpreuve:
    """An épreuve placed in the course (an LMS activity) and the competencies it judges."""

    code: str
    title: str
    link_title: str | None
    competencies: tuple[str, ...]

    @property
    def shown_title(self) -> str:
        """Return the title to write after the code: the LMS's, without the code it repeats.

        Jalon's deep-linking answer titles a link "E1 — Étude de cas", and the LMS keeps
        that title: after the épreuve's code it would read "E1 E1 — Étude de cas".
        """
        title = self.link_title or self.title
        rest = title.removeprefix(self.code)
        if rest == title or (rest and rest[0] not in _SEPARATORS):
            return title  # no code, or another one that starts alike ("E10" after "E1")
        return rest.lstrip(_SEPARATORS) or self.title


@dataclass(frozen=True)
class CriterionRecord:
    """A criterion's latest settled level, and the épreuve that judged it."""

    code: str
    text: str
    level_code: str | None
    level: ScaleLevel | None
    is_met: bool | None
    epreuve_code: str | None
    evaluated_at: dt.datetime | None


@dataclass(frozen=True)
class CompetencyRecord:
    """A competency's materialized standing, its criteria and the épreuves that judge it."""

    code: str
    statement: str
    bloc_code: str
    status: Status
    score: float | None
    attempts: int
    acquired_at: dt.datetime | None
    criteria: tuple[CriterionRecord, ...]
    epreuves: tuple[PlacedEpreuve, ...]


@dataclass(frozen=True)
class BlocRecord:
    """A bloc's standing and what remains to validate it."""

    code: str
    title: str
    status: Status
    acquired: int
    in_progress: int
    total: int
    competencies: tuple[CompetencyRecord, ...]
    # The competencies not yet acquired (none once the bloc is validated: it stays so).
    remaining: tuple[CompetencyRecord, ...]

    @property
    def not_evaluated(self) -> int:
        """Return how many of its competencies were never evaluated."""
        return self.total - self.acquired - self.in_progress


@dataclass(frozen=True)
class DecisionRecord:
    """One evaluation's decision on one competency."""

    competency_code: str
    score: float
    is_rule_acquired: bool
    override: bool | None
    justification: str | None
    is_acquired: bool
    settlement: str | None
    comment: str


@dataclass(frozen=True)
class CriterionResultRecord:
    """The level one evaluation gave one criterion."""

    criterion_code: str
    competency_code: str
    level_code: str
    is_met: bool


@dataclass(frozen=True)
class EvaluationRecord:
    """A published evaluation of one version of the learner's work."""

    id: int
    submission_id: int
    version_number: int
    epreuve_code: str | None
    published_at: dt.datetime
    evaluator_name: str | None
    role: str
    comment: str
    score_given: float | None
    score_maximum: float | None
    decisions: tuple[DecisionRecord, ...]
    criteria: tuple[CriterionResultRecord, ...]


@dataclass(frozen=True)
class FileRecord:
    """A file handed in with a version (its name as shown, never its storage key)."""

    id: int
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class EvidenceRecord:
    """A version the learner handed in: text, links and files."""

    submission_id: int
    epreuve_code: str | None
    number: int
    submitted_at: dt.datetime | None
    text: str
    links: tuple[str, ...]
    files: tuple[FileRecord, ...]


@dataclass(frozen=True)
class LearnerRecord:
    """Everything a course knows of one learner against one framework."""

    context_id: int
    learner_id: int
    learner_name: str | None
    framework_code: str
    framework_title: str
    framework_language: str
    certification: Status
    blocs: tuple[BlocRecord, ...]
    evaluations: tuple[EvaluationRecord, ...]
    evidence: tuple[EvidenceRecord, ...]
    placements: tuple[PlacedEpreuve, ...]

    @property
    def blocs_validated(self) -> int:
        """Return how many blocs are validated."""
        return sum(1 for bloc in self.blocs if bloc.status is Status.ACQUIRED)

    @property
    def is_empty(self) -> bool:
        """Return whether nothing was ever evaluated."""
        return not self.evaluations and all(b.status is Status.NOT_EVALUATED for b in self.blocs)

    def competency(self, code: str) -> CompetencyRecord:
        """Return a competency's record; raise ``KeyError`` if the framework has none."""
        for bloc in self.blocs:
            for competency in bloc.competencies:
                if competency.code == code:
                    return competency
        raise KeyError(code)
