"""Finding one person, and their statements in the outbox.

A person is named as launches name them: the platform's issuer and their ``sub``
(``lti_users`` is keyed so since migration 0009). Their statements are found by actor:
``account {homePage: issuer, name: sub}``, or the ``mbox`` of their e-mail address when
statements were configured to carry it (:class:`xapi.statements.Privacy`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.models import LtiUser
from lti_tool.registration import normalise_issuer
from xapi.events import LtiUser as Learner
from xapi.outbox import outbox
from xapi.statements import Privacy, mailbox


class UnknownPerson(LookupError):  # noqa: N818 (a refusal, like UploadRefused)
    """No person of this issuer has this ``sub``; nothing was read or changed."""

    def __init__(self, issuer: str, sub: str) -> None:
        super().__init__(f"no person with sub {sub!r} is known from the platform {issuer!r}")
        self.issuer = issuer
        self.sub = sub


def find_person(session: Session, issuer: str, sub: str, *, lock: bool = False) -> LtiUser:
    """Return the person ``sub`` of the platform ``issuer``, or raise :class:`UnknownPerson`.

    People already erased (kept only as a pseudonym) are unknown. ``lock`` holds their row
    until the transaction ends, so two erasures of one person do not interleave.
    """
    issuer, sub = normalise_issuer(issuer), sub.strip()
    query = sa.select(LtiUser).where(LtiUser.issuer == issuer, LtiUser.sub == sub)
    if lock:
        query = query.with_for_update()
    person = session.scalar(query) if sub and not is_pseudonym(sub) else None
    if person is None:
        raise UnknownPerson(issuer, sub)
    return person


# The ``sub`` an erased person's row keeps when decisions about them must stay.
PSEUDONYM_PREFIX = "erased:"


def is_pseudonym(sub: str) -> bool:
    """Return whether a ``sub`` is the pseudonym of an erased person, not a platform's."""
    return sub.startswith(PSEUDONYM_PREFIX)


@dataclass(frozen=True)
class OutboxStatement:
    """One of the person's statements in the outbox, as stored."""

    row_id: int
    statement_id: str
    document: dict[str, Any]
    status: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    claimed_until: dt.datetime | None


def person_statements(
    session: Session, person: LtiUser, *, lock: bool = False
) -> list[OutboxStatement]:
    """Return the outbox statements whose actor is the person, oldest first.

    The text search only narrows the candidates (the ``sub`` or the address appears in the
    body); each candidate's actor is then compared exactly. ``lock`` keeps relays off these
    rows (their claim skips locked rows) until the transaction ends.
    """
    needles = [json.dumps(person.sub, ensure_ascii=False)]
    mbox = _mbox(person)
    if mbox is not None:
        needles.append(json.dumps(mbox, ensure_ascii=False))
    query = (
        sa.select(outbox)
        .where(sa.or_(*(outbox.c.body.contains(n, autoescape=True) for n in needles)))
        .order_by(outbox.c.id)
    )
    if lock:
        query = query.with_for_update()
    found = []
    for row in session.execute(query).mappings():
        document = json.loads(row["body"])
        if _is_actor(document.get("actor"), person, mbox):
            found.append(
                OutboxStatement(
                    row_id=row["id"],
                    statement_id=row["statement_id"],
                    document=document,
                    status=row["status"],
                    created_at=row["created_at"],
                    delivered_at=row["delivered_at"],
                    claimed_until=row["claimed_until"],
                )
            )
    return found


def _mbox(person: LtiUser) -> str | None:
    if not person.email:
        return None
    try:
        learner = Learner(person.issuer, person.sub, email=person.email)
    except ValueError:
        return None
    return mailbox(learner, Privacy(include_email=True))


def _is_actor(actor: Any, person: LtiUser, mbox: str | None) -> bool:
    if not isinstance(actor, dict):
        return False
    if mbox is not None and actor.get("mbox") == mbox:
        return True
    account = actor.get("account")
    return (
        isinstance(account, dict)
        and account.get("homePage") == person.issuer
        and account.get("name") == person.sub
    )
