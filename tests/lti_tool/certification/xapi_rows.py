"""Rows of a signed jury session, written with the ORM, for the xAPI statement tests.

The jury and credential pieces write these rows in production; these tests need only the
rows, so they create them directly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    IssuedCredential,
    JuryDecision,
    SessionStatus,
    StatusList,
)
from lti_tool.models import Deployment, LtiContext, LtiUser, Platform

ISSUER = "https://moodle.cfa.test"
FRAMEWORK = "community-manager"
DECIDED_AT = dt.datetime(2026, 6, 30, 14, 0, tzinfo=dt.UTC)
# What the jury and the LMS know about people, none of which may reach a statement.
NAME, EMAIL, REASONS = "Camille Martin", "camille.martin@example.org", "Dossier E3 très solide"


@dataclass
class Jury:
    """A signed session with one candidate and the decisions on B1, B2 and the title."""

    session: CertificationSession
    candidate: Candidate
    learner: LtiUser
    b1: JuryDecision
    b2: JuryDecision
    title: JuryDecision


def signed_session(db: Session, *, with_course: bool = True, sub: str = "moodle-user-42") -> Jury:
    """Write a platform, a learner, a course and a signed session deciding on them."""
    platform = db.query(Platform).filter_by(issuer=ISSUER).one_or_none()
    if platform is None:
        platform = Platform(
            issuer=ISSUER,
            client_id="jalon",
            name="Moodle du CFA",
            auth_login_url=f"{ISSUER}/mod/lti/auth.php",
            auth_token_url=f"{ISSUER}/mod/lti/token.php",
            key_set_url=f"{ISSUER}/mod/lti/certs.php",
        )
        platform.deployments.append(Deployment(deployment_id="3"))
        db.add(platform)
    learner = LtiUser(issuer=ISSUER, sub=sub, name=NAME, email=EMAIL, given_name="Camille")
    db.add(learner)
    course = None
    if with_course:
        course = LtiContext(issuer=ISSUER, deployment_id="3", context_id="cm6-2026", title="CM6")
        db.add(course)
    db.flush()
    session = CertificationSession(
        framework_code=FRAMEWORK,
        framework_version="1",
        title=f"Jury de {NAME}",  # typed by a person: must never reach a statement
        place="Lyon",
        jury_date=DECIDED_AT.date(),
        status=SessionStatus.SIGNED,
        signed_at=DECIDED_AT + dt.timedelta(hours=2),
        signed_by="Présidente Durand",
    )
    candidate = Candidate(
        learner_id=learner.id,
        context_id=course.id if course else None,
        number=1,
        badge_email=EMAIL,
    )
    session.candidates.append(candidate)
    db.add(session)
    decisions = {
        key: JuryDecision(
            scope=scope,
            code=code,
            is_validated=validated,
            reasons=REASONS,
            decided_by="Présidente Durand",
            decided_at=DECIDED_AT + dt.timedelta(minutes=minute),
            is_final=True,
        )
        for key, scope, code, validated, minute in (
            ("b1", DecisionScope.BLOC, "B1", False, 0),
            ("b2", DecisionScope.BLOC, "B2", True, 1),
            ("title", DecisionScope.TITLE, FRAMEWORK, True, 2),
        )
    }
    candidate.decisions.extend(decisions.values())
    db.flush()
    return Jury(session, candidate, learner, **decisions)


def issue(db: Session, decision: JuryDecision, learner: LtiUser) -> IssuedCredential:
    """Write a credential as the issuing piece would, for a validated decision."""
    status_list = db.query(StatusList).first()
    if status_list is None:
        status_list = StatusList(size=131072, bits=bytes(16384), next_index=0)
        db.add(status_list)
        db.flush()
    credential = IssuedCredential(
        public_id=str(uuid.uuid4()),
        decision_id=decision.id,
        learner_id=learner.id,
        scope=decision.scope,
        code=decision.code,
        status_list_id=status_list.id,
        status_index=status_list.next_index,
        key_id="z6MkTest",
        document="{}",
    )
    status_list.next_index += 1
    db.add(credential)
    db.flush()
    return credential


def correct(
    db: Session, old: JuryDecision, *, validated: bool, minutes: int = 60 * 24
) -> JuryDecision:
    """Write a correction of ``old``: a new, dated decision naming it."""
    new = JuryDecision(
        scope=old.scope,
        code=old.code,
        is_validated=validated,
        reasons="Erreur matérielle au procès-verbal",
        decided_by="Présidente Durand",
        decided_at=old.decided_at + dt.timedelta(minutes=minutes),
        supersedes_id=old.id,
        is_final=True,
    )
    old.candidate.decisions.append(new)
    db.flush()
    return new
