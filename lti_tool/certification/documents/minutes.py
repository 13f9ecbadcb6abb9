"""What the procès-verbal prints: the jury, each candidate's decisions, corrections, totals.

Read from the tables only (no request): the decisions in force are the *current* ones —
for a candidate and a bloc (or the title), the latest decision no other supersedes — and
every correction is listed, dated, with the decision it corrects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from lti_tool.certification import sessions
from lti_tool.certification.decisions import session_decisions
from lti_tool.certification.documents.errors import UnknownFrameworkError
from lti_tool.certification.documents.render import printable
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    JuryDecision,
    JuryMember,
    JuryRole,
)
from lti_tool.config import CertifierSettings
from lti_tool.models import LtiUser
from lti_tool.people import display_name
from referentiel.model import Framework

DecisionKey = tuple[int, str, str]  # candidate id, scope, code
# The decisions table on A4 within the stylesheet's margins, its number and names columns.
TABLE_MM, NUMBER_MM, NAME_MM = 178.0, 9.0, 50.0


def session_framework(db: Session, session: CertificationSession) -> Framework:
    """Return the référentiel version the session deliberates on."""
    try:
        return sessions.session_framework(db, session)
    except LookupError as gone:
        raise UnknownFrameworkError(session.framework_code) from gone


def names_of(db: Session, learner_ids: Iterable[int]) -> dict[int, str]:
    """Return how Jalon names each learner (:mod:`lti_tool.people`), in one query."""
    wanted = set(learner_ids)
    if not wanted:
        return {}
    users = db.scalars(sa.select(LtiUser).where(LtiUser.id.in_(wanted)))
    return {user.id: printable(display_name(user, user.sub)) for user in users}


@dataclass(frozen=True)
class Row:
    """A candidate's line: a decision (or None: not deliberated) per bloc and the title."""

    number: int
    name: str
    blocs: tuple[JuryDecision | None, ...]
    title: JuryDecision | None


@dataclass(frozen=True)
class Reason:
    """A decision the jury motivated, as the minutes quote it."""

    number: int
    name: str
    code: str
    decision: JuryDecision


@dataclass(frozen=True)
class Correction:
    """A dated decision that corrects an earlier one, which stays in the record."""

    number: int
    name: str
    code: str
    decision: JuryDecision
    original: JuryDecision


@dataclass(frozen=True)
class Minutes:
    """Everything the procès-verbal prints."""

    session: CertificationSession
    framework: Framework
    rncp: str | None
    certifier: CertifierSettings
    members: dict[str, list[JuryMember]]  # by JuryRole, président first
    rows: list[Row]
    reasons: list[Reason]
    corrections: list[Correction]
    validated_per_bloc: dict[str, int]
    titles_awarded: int
    printed_at: dt.datetime

    @property
    def decision_column_mm(self) -> float:
        """Return the width of a decision's column: "Non validé" fits, names keep 50 mm."""
        columns = len(self.framework.blocs) + 1
        return round(min(17.0, (TABLE_MM - NUMBER_MM - NAME_MM) / columns), 1)

    @property
    def is_draft(self) -> bool:
        """Return whether the minutes are still a draft (the session is not signed)."""
        return not self.session.is_signed


def gather(db: Session, session: CertificationSession, certifier: CertifierSettings) -> Minutes:
    """Read the minutes of ``session`` from the tables."""
    framework = session_framework(db, session)
    candidates = list(session.candidates)
    names = names_of(db, (c.learner_id for c in candidates))
    current = {
        (candidate_id, scope, code): decision
        for candidate_id, in_force in session_decisions(db, session).items()
        for (scope, code), decision in in_force.items()
    }
    codes = [bloc.code for bloc in framework.blocs]
    rows, reasons = [], []
    for candidate in candidates:
        name = names.get(candidate.learner_id, "")
        blocs = tuple(current.get((candidate.id, DecisionScope.BLOC, code)) for code in codes)
        title = current.get((candidate.id, DecisionScope.TITLE, session.framework_code))
        rows.append(Row(candidate.number, name, blocs, title))
        for code, decision in [*zip(codes, blocs, strict=True), (session.framework_code, title)]:
            if decision is not None and decision.reasons.strip():
                reasons.append(Reason(candidate.number, name, code, decision))
    return Minutes(
        session=session,
        framework=framework,
        rncp=getattr(framework.identity, "rncp", None),
        certifier=certifier,
        members=_members_by_role(session.members),
        rows=rows,
        reasons=reasons,
        corrections=_corrections(db, session.id, {c.id: c for c in candidates}, names),
        validated_per_bloc={
            code: sum(1 for row in rows if (d := row.blocs[i]) is not None and d.is_validated)
            for i, code in enumerate(codes)
        },
        titles_awarded=sum(1 for row in rows if row.title is not None and row.title.is_validated),
        printed_at=dt.datetime.now(dt.UTC),
    )


def _members_by_role(members: Iterable[JuryMember]) -> dict[str, list[JuryMember]]:
    by_role: dict[str, list[JuryMember]] = {role.value: [] for role in JuryRole}
    for member in members:
        by_role.setdefault(member.role, []).append(member)
    return by_role


def _corrections(
    db: Session, session_id: int, candidates: dict[int, Candidate], names: dict[int, str]
) -> list[Correction]:
    original = aliased(JuryDecision)
    pairs = db.execute(
        sa.select(JuryDecision, original)
        .join(original, original.id == JuryDecision.supersedes_id)
        .join(Candidate, Candidate.id == JuryDecision.candidate_id)
        .where(Candidate.session_id == session_id)
        .order_by(JuryDecision.decided_at, JuryDecision.id)
    )
    found = []
    for decision, corrected in pairs:
        candidate = candidates[decision.candidate_id]
        name = names.get(candidate.learner_id, "")
        found.append(Correction(candidate.number, name, decision.code, decision, corrected))
    return found
