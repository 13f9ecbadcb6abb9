"""Tables of the certification back-office: jury sessions, decisions, identities, credentials.

A *session de certification* gathers jury members and candidates (learners of one or more
courses) for one référentiel. The jury decides per bloc and for the title; a decision is a
row that is never edited once the minutes (*procès-verbal*) are signed: a correction is a
new, dated row that names the one it corrects (``supersedes_id``). The current decision of
a candidate for a bloc is the latest row not superseded by another.

Holder identity that the LMS never sends (birth name, birth date and place, sex, access
route) is kept in ``holder_identities``, only for the accrochage file, only as long as the
retention setting allows, and never sent to the LRS.

Each validated bloc and the title become an Open Badges 3.0 credential, signed with a key
of ``credential_keys`` (not the LTI tool key) and revocable through a bit of a
``credential_status_lists`` row (W3C Bitstring Status List).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, created_at, utcnow


class SessionStatus(StrEnum):
    """Where a session stands: decisions may change while it is open, not once signed."""

    OPEN = "open"
    SIGNED = "signed"


class JuryRole(StrEnum):
    """The role of a jury member, as the minutes print it."""

    PRESIDENT = "president"
    MEMBER = "member"
    PROFESSIONAL = "professional"  # a professional of the field (required by France Compétences)


class DecisionScope(StrEnum):
    """What a jury decision is about: one bloc, or the whole title."""

    BLOC = "bloc"
    TITLE = "title"


class CertificationSession(Base):
    """A jury session for one référentiel: when, where, who sits, and its state."""

    __tablename__ = "certification_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_code: Mapped[str] = mapped_column(sa.String(100))
    framework_version: Mapped[str] = mapped_column(sa.String(50))
    title: Mapped[str] = mapped_column(sa.String(300))
    place: Mapped[str] = mapped_column(sa.String(300), default="")
    # Fields of the accrochage file (cpf:passageCertification); optional until it is written.
    exam_postal_code: Mapped[str | None] = mapped_column(sa.String(5))
    exam_mode: Mapped[str | None] = mapped_column(sa.String(20))  # EN_PRESENTIEL, A_DISTANCE, MIXTE
    exam_start: Mapped[dt.date | None] = mapped_column(sa.Date)
    exam_end: Mapped[dt.date | None] = mapped_column(sa.Date)
    jury_date: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(20), default=SessionStatus.OPEN)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    signed_by: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[JuryMember]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="JuryMember.position"
    )
    candidates: Mapped[list[Candidate]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Candidate.number"
    )

    @property
    def is_signed(self) -> bool:
        """Whether the minutes are signed, which makes every decision final."""
        return self.status == SessionStatus.SIGNED


class JuryMember(Base):
    """A person who sits on a session's jury."""

    __tablename__ = "jury_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_sessions.id", ondelete="CASCADE"), index=True
    )
    full_name: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20), default=JuryRole.MEMBER)
    quality: Mapped[str] = mapped_column(sa.String(300), default="")  # occupation, organisation
    position: Mapped[int] = mapped_column(default=0)

    session: Mapped[CertificationSession] = relationship(back_populates="members")


class Candidate(Base):
    """A learner presented to a session, with the course their evidence comes from."""

    __tablename__ = "certification_candidates"
    __table_args__ = (sa.UniqueConstraint("session_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_sessions.id", ondelete="CASCADE")
    )
    learner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_users.id", ondelete="CASCADE"), index=True
    )
    context_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("lti_contexts.id", ondelete="SET NULL")
    )
    number: Mapped[int]  # the candidate's number in the session, from 1
    # The identifier the learner chose for their badges; only its salted hash leaves Jalon.
    badge_email: Mapped[str | None] = mapped_column(sa.String(320))
    added_at: Mapped[created_at]

    session: Mapped[CertificationSession] = relationship(back_populates="candidates")
    decisions: Mapped[list[JuryDecision]] = relationship(
        back_populates="candidate",
        cascade="all, delete-orphan",
        order_by="JuryDecision.decided_at",
        foreign_keys="JuryDecision.candidate_id",
    )


class JuryDecision(Base):
    """The jury's decision on one bloc, or on the title, for one candidate."""

    __tablename__ = "jury_decisions"
    __table_args__ = (sa.Index(None, "candidate_id", "scope", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_candidates.id", ondelete="CASCADE")
    )
    scope: Mapped[str] = mapped_column(sa.String(10))  # DecisionScope
    code: Mapped[str] = mapped_column(sa.String(100))  # the bloc's code, or the framework's
    is_validated: Mapped[bool]
    reasons: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by: Mapped[str] = mapped_column(sa.String(255))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A correction names the decision it corrects; that one stays, dated, in the record.
    supersedes_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("jury_decisions.id", ondelete="SET NULL")
    )
    # What Jalon held when the jury decided: statuses of the bloc's competencies, épreuves.
    evidence: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    is_final: Mapped[bool] = mapped_column(default=False)  # true once the minutes are signed

    candidate: Mapped[Candidate] = relationship(
        back_populates="decisions", foreign_keys=[candidate_id]
    )


class HolderIdentity(Base):
    """Civil identity of a holder, for the accrochage file only (never sent to the LRS).

    Field names follow the Caisse des Dépôts' ``cpf:titulaire`` and ``modalitesInscription``.
    """

    __tablename__ = "holder_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_users.id", ondelete="CASCADE"), unique=True
    )
    birth_name: Mapped[str] = mapped_column(sa.String(60))
    usage_name: Mapped[str | None] = mapped_column(sa.String(60))
    first_name_1: Mapped[str] = mapped_column(sa.String(60))
    first_name_2: Mapped[str | None] = mapped_column(sa.String(60))
    first_name_3: Mapped[str | None] = mapped_column(sa.String(60))
    birth_year: Mapped[int | None]
    birth_month: Mapped[int | None]
    birth_day: Mapped[int | None]
    sex: Mapped[str | None] = mapped_column(sa.String(1))  # M or F, as the XSD has it
    birth_insee_code: Mapped[str | None] = mapped_column(sa.String(5))
    birth_postal_code: Mapped[str | None] = mapped_column(sa.String(5))
    birth_city: Mapped[str | None] = mapped_column(sa.String(100))
    birth_country_code: Mapped[str | None] = mapped_column(sa.String(3))
    access_route: Mapped[str | None] = mapped_column(sa.String(60))  # cpf:modaliteAcces
    vae_route: Mapped[str | None] = mapped_column(sa.String(20))  # cpf:voieAccesVAE
    registration_initiative: Mapped[str | None] = mapped_column(sa.String(20))
    registration_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.String(10))  # "csv" or "form"
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the holder's last session is signed: purge deletes the row after this date.
    delete_after: Mapped[dt.date | None] = mapped_column(sa.Date)


class CredentialKey(Base):
    """An Ed25519 key that signs credentials; rotated like the tool keys, never the same."""

    __tablename__ = "credential_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(sa.String(100), unique=True)  # the multibase public key
    private_key_pem: Mapped[str] = mapped_column(sa.Text)
    is_current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class StatusList(Base):
    """A Bitstring Status List (revocation): one bit per issued credential."""

    __tablename__ = "credential_status_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(20), default="revocation")
    size: Mapped[int]  # in bits; at least 131,072 so that one holder hides among many
    bits: Mapped[bytes] = mapped_column(sa.LargeBinary)
    next_index: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IssuedCredential(Base):
    """An OpenBadgeCredential as issued: the signed document is stored, never rebuilt."""

    __tablename__ = "issued_credentials"
    __table_args__ = (sa.UniqueConstraint("status_list_id", "status_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True)  # a UUID, in its URL
    decision_id: Mapped[int] = mapped_column(
        sa.ForeignKey("jury_decisions.id", ondelete="CASCADE"), index=True
    )
    learner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_users.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(sa.String(10))  # DecisionScope
    code: Mapped[str] = mapped_column(sa.String(100))
    status_list_id: Mapped[int] = mapped_column(sa.ForeignKey("credential_status_lists.id"))
    status_index: Mapped[int]
    key_id: Mapped[str] = mapped_column(sa.String(100))
    document: Mapped[str] = mapped_column(sa.Text)  # the signed JSON, exactly as issued
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(300))
    # A re-issue (new recipient e-mail, corrected decision) names the credential it replaces.
    replaces_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("issued_credentials.id", ondelete="SET NULL")
    )
