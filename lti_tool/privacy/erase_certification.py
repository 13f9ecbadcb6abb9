"""What erasing a person does to their certification record.

The civil identity kept for the accrochage file always goes. The jury's decisions are
the certifier's legal record (the minutes): with ``keep_decisions`` the candidacies, their
decisions and the credentials issued stay, attached to the pseudonymised person, and only
the e-mail chosen for badges goes; without it they are deleted with the person.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.models import Candidate, HolderIdentity
from lti_tool.models import LtiUser


def erase_certification(
    session: Session, person: LtiUser, keep_decisions: bool, counts: Counter[str]
) -> None:
    """Delete the person's identity; keep (pseudonymised) or delete their candidacies."""
    gone = sa.delete(HolderIdentity).where(HolderIdentity.learner_id == person.id)
    counts["holder_identity_deleted"] += session.execute(gone).rowcount  # type: ignore[attr-defined]
    mine = Candidate.learner_id == person.id
    if keep_decisions:
        kept = sa.update(Candidate).where(mine).values(badge_email=None)
        counts["candidacies_kept"] += session.execute(kept).rowcount  # type: ignore[attr-defined]
    else:
        # ORM deletes, so the decisions and credentials go with them on SQLite too.
        for candidate in session.scalars(sa.select(Candidate).where(mine)):
            session.delete(candidate)
            counts["candidacies_deleted"] += 1
    session.flush()


def is_candidate(person: LtiUser) -> sa.Exists:
    """Return the condition "this person is still a candidate of a session"."""
    return sa.exists().where(Candidate.learner_id == person.id)
