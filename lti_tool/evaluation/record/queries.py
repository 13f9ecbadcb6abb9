"""Read a learner's record: materialized progress, placements, evaluations, evidence."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.evaluation.models import (
    EpreuvePlacement,
    LearnerProgress,
    ProgressKind,
    Submission,
    SubmissionFile,
    SubmissionVersion,
)
from lti_tool.evaluation.placement import competency_codes
from lti_tool.evaluation.progress import progress_rows
from lti_tool.evaluation.record.evaluations import (
    display_name,
    latest_criteria,
    published_evaluations,
)
from lti_tool.evaluation.record.records import (
    BlocRecord,
    CompetencyRecord,
    CriterionRecord,
    EvidenceRecord,
    FileRecord,
    LearnerRecord,
    PlacedEpreuve,
)
from lti_tool.models import LtiResourceLink, LtiUser
from referentiel.model import Framework
from referentiel.rules import Status


def learner_record(
    session: Session, context_id: int, learner_id: int, framework: Framework
) -> LearnerRecord:
    """Read a learner's record in a course, in a constant number of queries."""
    code = framework.code
    progress = progress_rows(session, context_id, learner_id, code)
    placements = _placements(session, context_id, framework)
    evaluations = published_evaluations(session, context_id, learner_id, code)
    criteria = latest_criteria(evaluations, framework)
    judged_by: dict[str, list[PlacedEpreuve]] = defaultdict(list)
    for placed in placements:
        for competency_code in placed.competencies:
            judged_by[competency_code].append(placed)
    blocs = []
    for bloc in framework.blocs:
        competencies = tuple(
            _competency(
                competency.code,
                competency.statement,
                bloc.code,
                progress.get((ProgressKind.COMPETENCY, competency.code)),
                tuple(
                    criteria.get(criterion.code, _unjudged(criterion.code, criterion.text))
                    for criterion in competency.criteria
                ),
                tuple(judged_by.get(competency.code, ())),
            )
            for competency in bloc.competencies
        )
        row = progress.get((ProgressKind.BLOC, bloc.code))
        status = Status(row.status) if row is not None else Status.NOT_EVALUATED
        blocs.append(
            BlocRecord(
                code=bloc.code,
                title=bloc.title,
                status=status,
                acquired=sum(1 for c in competencies if c.status is Status.ACQUIRED),
                in_progress=sum(1 for c in competencies if c.status is Status.IN_PROGRESS),
                total=len(competencies),
                competencies=competencies,
                remaining=()
                if status is Status.ACQUIRED
                else tuple(c for c in competencies if c.status is not Status.ACQUIRED),
            )
        )
    certification = progress.get((ProgressKind.CERTIFICATION, code))
    learner = session.get(LtiUser, learner_id)
    return LearnerRecord(
        context_id=context_id,
        learner_id=learner_id,
        learner_name=display_name(learner),
        framework_code=code,
        framework_title=framework.identity.title,
        framework_language=framework.identity.language,
        certification=Status(certification.status) if certification else Status.NOT_EVALUATED,
        blocs=tuple(blocs),
        evaluations=tuple(record for record, _ in evaluations),
        evidence=_evidence(session, context_id, learner_id, code),
        placements=placements,
    )


def _competency(
    code: str,
    statement: str,
    bloc_code: str,
    row: LearnerProgress | None,
    criteria: tuple[CriterionRecord, ...],
    epreuves: tuple[PlacedEpreuve, ...],
) -> CompetencyRecord:
    # No row means never evaluated: the engine writes none until the first attempt.
    return CompetencyRecord(
        code=code,
        statement=statement,
        bloc_code=bloc_code,
        status=Status(row.status) if row else Status.NOT_EVALUATED,
        score=row.score if row else None,
        attempts=row.attempts if row else 0,
        acquired_at=row.acquired_at if row else None,
        criteria=criteria,
        epreuves=epreuves,
    )


def _unjudged(code: str, text: str) -> CriterionRecord:
    return CriterionRecord(code, text, None, None, None, None, None)


def _placements(
    session: Session, context_id: int, framework: Framework
) -> tuple[PlacedEpreuve, ...]:
    """Return the épreuves of this framework placed in the course, in framework order.

    They come from the links launched in the course and from the deep-linking answers
    Jalon signed for it (known before anyone launches them); a deep-linked épreuve that
    was since launched with the same competencies is shown once, under the LMS's title.
    """
    launched = sa.select(
        LtiResourceLink.title,
        LtiResourceLink.custom,
        sa.literal(0).label("signed"),
        LtiResourceLink.id,
    ).where(LtiResourceLink.context_id == context_id)
    signed = sa.select(
        sa.cast(sa.null(), sa.String(1024)),
        EpreuvePlacement.custom,
        sa.literal(1),
        EpreuvePlacement.id,
    ).where(EpreuvePlacement.context_id == context_id)
    union = sa.union_all(launched, signed).subquery()
    rows = session.execute(
        sa.select(union.c.title, union.c.custom, union.c.signed).order_by(
            union.c.signed, union.c.id
        )
    ).all()
    placed: list[PlacedEpreuve] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for title, custom, is_signed in rows:
        if not isinstance(custom, dict) or custom.get("framework") != framework.code:
            continue
        try:
            epreuve = framework.epreuve(str(custom.get("epreuve")))
        except KeyError:
            continue
        codes = competency_codes(custom.get("competencies")) or list(epreuve.competencies)
        known = tuple(c for c in codes if _exists(framework, c))
        if is_signed and (epreuve.code, known) in seen:
            continue  # deep-linked, then launched: the launched link names it
        seen.add((epreuve.code, known))
        placed.append(PlacedEpreuve(epreuve.code, epreuve.title, title, known))
    order = {epreuve.code: index for index, epreuve in enumerate(framework.epreuves)}
    return tuple(sorted(placed, key=lambda p: order[p.code]))


def _exists(framework: Framework, code: str) -> bool:
    try:
        framework.competency(code)
    except KeyError:
        return False
    return True


def _evidence(
    session: Session, context_id: int, learner_id: int, code: str
) -> tuple[EvidenceRecord, ...]:
    """Return the versions handed in, with their files (two queries)."""
    owned = (
        Submission.context_id == context_id,
        Submission.learner_id == learner_id,
        Submission.framework_code == code,
        SubmissionVersion.is_draft.is_(False),
    )
    files: dict[int, list[FileRecord]] = defaultdict(list)
    for file in session.scalars(
        sa.select(SubmissionFile)
        .join(SubmissionVersion, SubmissionVersion.id == SubmissionFile.version_id)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(*owned)
        .order_by(SubmissionFile.id)
    ):
        files[file.version_id].append(FileRecord(file.id, file.name, file.content_type, file.size))
    rows = session.execute(
        sa.select(SubmissionVersion, Submission.epreuve_code)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(*owned)
        .order_by(SubmissionVersion.submitted_at, SubmissionVersion.id)
    ).all()
    return tuple(
        EvidenceRecord(
            submission_id=version.submission_id,
            epreuve_code=epreuve_code,
            number=version.number,
            submitted_at=version.submitted_at,
            text=version.text,
            links=tuple(version.links or ()),
            files=tuple(files.get(version.id, ())),
        )
        for version, epreuve_code in rows
    )
