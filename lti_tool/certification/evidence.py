"""What the jury reads for a candidate: per bloc, each competency and what judged it.

Everything comes from the learner's record (:mod:`lti_tool.evaluation.record`), the one
read model behind "Ma progression" and the livret: the materialized statuses, the
épreuves placed in the course and the published evaluations. Jalon's derived bloc status
is the *proposal*; the jury is sovereign and decides (:mod:`.decisions`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.certification.models import Candidate
from lti_tool.evaluation.record import EvaluationRecord, learner_record
from referentiel.model import Framework
from referentiel.rules import Status


@dataclass(frozen=True)
class JudgedBy:
    """One published evaluation's decision on one competency."""

    evaluation_id: int
    published_at: dt.datetime
    role: str  # evaluator or jury (second evaluator)
    evaluator_name: str | None
    is_acquired: bool
    override: bool | None
    justification: str | None


@dataclass(frozen=True)
class EpreuveEvidence:
    """An épreuve that covers a competency, and its published evaluations of it."""

    code: str
    title: str
    evaluations: tuple[JudgedBy, ...]


@dataclass(frozen=True)
class CompetencyEvidence:
    """A competency's status (learner_progress) and the épreuves that cover it."""

    code: str
    statement: str
    status: Status
    acquired_at: dt.datetime | None
    epreuves: tuple[EpreuveEvidence, ...]


@dataclass(frozen=True)
class BlocEvidence:
    """A bloc: Jalon's derived status (the proposal) and its competencies."""

    code: str
    title: str
    proposal: Status
    competencies: tuple[CompetencyEvidence, ...]

    @property
    def is_proposed(self) -> bool:
        """Return whether Jalon proposes the bloc validated."""
        return self.proposal is Status.ACQUIRED

    @property
    def not_acquired(self) -> tuple[str, ...]:
        """Return the codes of the competencies not acquired (what a validation overrides)."""
        return tuple(c.code for c in self.competencies if c.status is not Status.ACQUIRED)


@dataclass(frozen=True)
class LivretLink:
    """Where the learner's livret is: the course and the learner (pages build the URL)."""

    context_id: int
    learner_id: int


@dataclass(frozen=True)
class CandidateEvidence:
    """Everything Jalon holds for a candidate, bloc by bloc and for the title."""

    candidate_id: int
    framework_code: str
    framework_version: str
    framework_title: str
    blocs: tuple[BlocEvidence, ...]
    title_proposal: Status  # the certification's derived status
    livret: LivretLink | None  # None: the course is gone

    def bloc(self, code: str) -> BlocEvidence:
        """Return a bloc's evidence; raise ``KeyError`` if the référentiel has none."""
        for bloc in self.blocs:
            if bloc.code == code:
                return bloc
        raise KeyError(code)

    def snapshot(self, scope: str, code: str) -> dict[str, Any]:
        """Return what a decision records of the evidence it was taken on (JSON)."""
        head = {
            "framework": self.framework_code,
            "version": self.framework_version,
            "scope": scope,
            "code": code,
        }
        if scope == "title":
            return {
                **head,
                "proposal": self.title_proposal.value,
                "blocs": {bloc.code: bloc.proposal.value for bloc in self.blocs},
            }
        bloc = self.bloc(code)
        return {
            **head,
            "proposal": bloc.proposal.value,
            "competencies": {
                c.code: {
                    "status": c.status.value,
                    "evaluations": [
                        {
                            "id": judged.evaluation_id,
                            "epreuve": epreuve.code,
                            "published_at": judged.published_at.isoformat(),
                            "is_acquired": judged.is_acquired,
                        }
                        for epreuve in c.epreuves
                        for judged in epreuve.evaluations
                    ],
                }
                for c in bloc.competencies
            },
        }


def _judgements(evaluations: tuple[EvaluationRecord, ...]) -> dict[str, list[tuple[str, JudgedBy]]]:
    """Return, per competency, each published decision on it with its épreuve's code."""
    found: dict[str, list[tuple[str, JudgedBy]]] = {}
    for evaluation in evaluations:
        for decision in evaluation.decisions:
            found.setdefault(decision.competency_code, []).append(
                (
                    evaluation.epreuve_code or "",
                    JudgedBy(
                        evaluation_id=evaluation.id,
                        published_at=evaluation.published_at,
                        role=evaluation.role,
                        evaluator_name=evaluation.evaluator_name,
                        is_acquired=decision.is_acquired,
                        override=decision.override,
                        justification=decision.justification,
                    ),
                )
            )
    return found


def _epreuves(
    framework: Framework, code: str, judged: list[tuple[str, JudgedBy]]
) -> tuple[EpreuveEvidence, ...]:
    """Return the épreuves covering a competency, each with its evaluations, oldest first.

    The référentiel's épreuves come first, then any other that judged it (a narrowed
    placement).
    """
    codes = [e.code for e in framework.epreuves if code in e.competencies]
    codes += [c for c, _ in judged if c and c not in codes]
    titles = {e.code: e.title for e in framework.epreuves}
    return tuple(
        EpreuveEvidence(
            epreuve,
            titles.get(epreuve, epreuve),
            tuple(j for c, j in judged if c == epreuve),
        )
        for epreuve in codes
    )


def evidence_for(db: Session, candidate: Candidate, framework: Framework) -> CandidateEvidence:
    """Return what Jalon holds for a candidate in the course they were presented from."""
    record = (
        learner_record(db, candidate.context_id, candidate.learner_id, framework)
        if candidate.context_id is not None
        else None
    )
    judged = _judgements(record.evaluations) if record is not None else {}
    blocs = []
    for bloc in framework.blocs:
        bloc_record = (
            next(b for b in record.blocs if b.code == bloc.code) if record is not None else None
        )
        competencies = []
        for competency in bloc.competencies:
            shown = (
                next(c for c in bloc_record.competencies if c.code == competency.code)
                if bloc_record is not None
                else None
            )
            competencies.append(
                CompetencyEvidence(
                    code=competency.code,
                    statement=competency.statement,
                    status=shown.status if shown is not None else Status.NOT_EVALUATED,
                    acquired_at=shown.acquired_at if shown is not None else None,
                    epreuves=_epreuves(framework, competency.code, judged.get(competency.code, [])),
                )
            )
        blocs.append(
            BlocEvidence(
                code=bloc.code,
                title=bloc.title,
                proposal=bloc_record.status if bloc_record is not None else Status.NOT_EVALUATED,
                competencies=tuple(competencies),
            )
        )
    return CandidateEvidence(
        candidate_id=candidate.id,
        framework_code=framework.code,
        framework_version=framework.identity.version,
        framework_title=framework.identity.title,
        blocs=tuple(blocs),
        title_proposal=record.certification if record is not None else Status.NOT_EVALUATED,
        livret=LivretLink(candidate.context_id, candidate.learner_id)
        if candidate.context_id is not None
        else None,
    )
