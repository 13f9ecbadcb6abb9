"""What follows the jury's final word: credentials, xAPI statements, identity retention.

Signing the minutes and correcting a final decision are the two moments a decision
becomes final. Each runs here in one transaction with everything that follows from it:
the Open Badges credentials of validated blocs and titles are issued (a corrected
decision's credential revoked), the decisions' statements are queued in the outbox, and
the holders' civil identities are kept or scheduled for deletion. Pages and the CLI call
these two functions, never the steps one by one, so no step can be forgotten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lti_tool.certification.decisions import correct, sign_minutes
from lti_tool.certification.identity_retention import RetentionReport, schedule_identity_deletion
from lti_tool.certification.issuance import issue_for_session
from lti_tool.certification.models import CertificationSession, IssuedCredential, JuryDecision
from lti_tool.certification.statements import record_correction, record_decisions
from lti_tool.config import Settings
from xapi.columns import utcnow


@dataclass(frozen=True)
class Signed:
    """The outcome of signed minutes: final decisions, credentials, statements, identities."""

    decisions: list[JuryDecision]
    credentials: list[IssuedCredential]
    statements: int
    identities: RetentionReport


def sign_session(
    db: Session,
    session: CertificationSession,
    *,
    signed_by: str,
    settings: Settings,
    now: dt.datetime | None = None,
) -> Signed:
    """Sign the minutes, then issue, record and settle what the final decisions call for."""
    moment = now or utcnow()
    final = sign_minutes(db, session, signed_by=signed_by, now=moment)
    issued = issue_for_session(db, session, settings, now=moment)
    by_decision = {credential.decision_id: credential for credential in issued}
    count = record_decisions(db, session, final, by_decision, settings, now=moment)
    identities = schedule_identity_deletion(db, session, settings, now=moment)
    return Signed(final, issued, count, identities)


def correct_decision(
    db: Session,
    decision: JuryDecision,
    *,
    is_validated: bool,
    reasons: str,
    decided_by: str,
    settings: Settings,
    now: dt.datetime | None = None,
) -> JuryDecision:
    """Correct a final decision; revoke and issue credentials, void and record statements."""
    moment = now or utcnow()
    fixed = correct(
        db, decision, is_validated=is_validated, reasons=reasons, decided_by=decided_by, now=moment
    )
    session = fixed.candidate.session
    # Revokes the corrected decision's credential and issues the correction's, if validated.
    issued = issue_for_session(db, session, settings, now=moment)
    credential = next((c for c in issued if c.decision_id == fixed.id), None)
    record_correction(db, decision, fixed, credential, settings)
    schedule_identity_deletion(db, session, settings, now=moment)
    return fixed
