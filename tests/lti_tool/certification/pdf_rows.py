"""Rows of a jury session, written straight with the ORM, for the PDF tests.

The jury, credential and identity pieces are written in parallel: these tests state the
rows those pieces would have written (a session, its jury, candidates, decisions, an
issued credential) and print from them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    IssuedCredential,
    JuryDecision,
    JuryMember,
    JuryRole,
    SessionStatus,
    StatusList,
)
from lti_tool.frameworks import install_bundled
from lti_tool.models import LtiUser

FRAMEWORK = "community-manager-n6"
BLOCS = ("B1", "B2", "B3", "B4")
ISSUER = "https://moodle.example.edu"
JURY_DAY = dt.date(2026, 6, 18)
DECIDED = dt.datetime(2026, 6, 18, 14, 0, tzinfo=dt.UTC)
ACCENTED = "Éloïse Dupré-Nguyễn"
LONG_NAME = (
    "Marie-Éléonore Anne-Sophie Geneviève de La Rochefoucauld-Montmorency-Laval "
    "d’Harcourt-Beuvron Saint-Exupéry Brancion-Clermont-Tonnerre"
)


@dataclass
class Jury:
    """A session's ids, and the credentials issued in it by learner and code."""

    session_id: int
    learner_ids: list[int] = field(default_factory=list)
    credentials: dict[tuple[int, str], str] = field(default_factory=dict)  # → public_id


def learner(db: Session, name: str | None, sub: str | None = None) -> LtiUser:
    """Insert a person as a launch stores them (``name`` None: the platform shared none)."""
    user = LtiUser(issuer=ISSUER, sub=sub or uuid.uuid4().hex, name=name)
    db.add(user)
    db.flush()
    return user


def session_with_jury(
    db: Session, *, place: str = "Lyon — Campus Part-Dieu"
) -> CertificationSession:
    """Insert a session of the bundled référentiel, with a full jury."""
    install_bundled(db)
    session = CertificationSession(
        framework_code=FRAMEWORK,
        framework_version="1.0",
        title="Session de juin 2026 — promotion Community Manager",
        place=place,
        exam_start=dt.date(2026, 6, 1),
        exam_end=dt.date(2026, 6, 12),
        jury_date=JURY_DAY,
        status=SessionStatus.OPEN,
    )
    session.members = [
        JuryMember(
            full_name="Hélène Garçon", role=JuryRole.PRESIDENT, quality="Directrice", position=0
        ),
        JuryMember(full_name="Paul Durand", role=JuryRole.MEMBER, quality="Formateur", position=1),
        JuryMember(
            full_name="Zoé Lefèvre",
            role=JuryRole.PROFESSIONAL,
            quality="Responsable communication, Agence Œuvre",
            position=2,
        ),
    ]
    db.add(session)
    db.flush()
    return session


def candidate(db: Session, session: CertificationSession, user: LtiUser, number: int) -> Candidate:
    row = Candidate(session_id=session.id, learner_id=user.id, number=number)
    db.add(row)
    db.flush()
    return row


def decide(
    db: Session,
    who: Candidate,
    code: str,
    validated: bool,
    *,
    reasons: str = "",
    at: dt.datetime = DECIDED,
    supersedes: JuryDecision | None = None,
) -> JuryDecision:
    """Insert a decision on a bloc (``B…``) or on the title (the framework's code)."""
    decision = JuryDecision(
        candidate_id=who.id,
        scope=DecisionScope.TITLE if code == FRAMEWORK else DecisionScope.BLOC,
        code=code,
        is_validated=validated,
        reasons=reasons,
        decided_by="Hélène Garçon",
        decided_at=at,
        supersedes_id=supersedes.id if supersedes else None,
    )
    db.add(decision)
    db.flush()
    return decision


def issue(db: Session, decision: JuryDecision, learner_id: int) -> IssuedCredential:
    """Insert the credential the issue piece would sign for a validated decision."""
    status_list = db.query(StatusList).first()
    if status_list is None:
        status_list = StatusList(size=131072, bits=bytes(16384), next_index=0)
        db.add(status_list)
        db.flush()
    credential = IssuedCredential(
        public_id=str(uuid.uuid4()),
        decision_id=decision.id,
        learner_id=learner_id,
        scope=decision.scope,
        code=decision.code,
        status_list_id=status_list.id,
        status_index=status_list.next_index,
        key_id="z6MkTestKey",
        document="{}",
        issued_at=dt.datetime(2026, 6, 19, 9, 0, tzinfo=dt.UTC),
    )
    status_list.next_index += 1
    db.add(credential)
    db.flush()
    return credential


def sign(db: Session, session: CertificationSession) -> None:
    """Sign the minutes, as the jury piece does."""
    session.status = SessionStatus.SIGNED
    session.signed_at = dt.datetime(2026, 6, 18, 17, 30, tzinfo=dt.UTC)
    session.signed_by = "Hélène Garçon"
    db.flush()


def demo_jury(db: Session, *, extra: int = 0, first: LtiUser | None = None) -> Jury:
    """A session of three named candidates (one accented, one very long) and ``extra`` more.

    Candidate 1 validates every bloc and the title; candidate 2 validates B1, B2 and fails
    B3 (reasons given), B4 first refused then validated by a dated correction; candidate 3
    (the long name) validates B2 only. Credentials are issued for every validation.
    ``first`` takes the place of candidate 1 (a learner who launched, in page tests).
    """
    session = session_with_jury(db)
    jury = Jury(session.id)
    people = [first or learner(db, ACCENTED), learner(db, "Bastien Roux"), learner(db, LONG_NAME)]
    people += [learner(db, f"Candidat·e numéro {n:03d}") for n in range(4, 4 + extra)]
    validated: list[tuple[JuryDecision, int]] = []
    for number, user in enumerate(people, start=1):
        jury.learner_ids.append(user.id)
        who = candidate(db, session, user, number)
        if number == 1:
            for code in (*BLOCS, FRAMEWORK):
                validated.append((decide(db, who, code, True), user.id))
        elif number == 2:
            for code in ("B1", "B2"):
                validated.append((decide(db, who, code, True), user.id))
            decide(
                db, who, "B3", False, reasons="Étude de cas E3 insuffisante : veille non sourcée."
            )
            first = decide(db, who, "B4", False, reasons="Dossier incomplet.")
            later = DECIDED + dt.timedelta(days=2, hours=1)
            fixed = decide(
                db,
                who,
                "B4",
                True,
                reasons="Pièce retrouvée : dossier complet.",
                at=later,
                supersedes=first,
            )
            validated.append((fixed, user.id))
        elif number == 3:
            validated.append((decide(db, who, "B2", True), user.id))
        else:
            for code in BLOCS[: number % 5]:
                decide(db, who, code, number % 3 != 0)
    for decision, learner_id in validated:
        jury.credentials[(learner_id, decision.code)] = issue(db, decision, learner_id).public_id
    return jury
