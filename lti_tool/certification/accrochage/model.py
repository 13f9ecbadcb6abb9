"""What the accrochage file is made of, as plain data: no database, no Flask.

The Caisse des Dépôts' ``cpf:flux`` declares, for one certifier, each *passage* of a
certification: one holder, one certification (the RNCP title, or one of its blocs, which the
RNCP certifies on their own), when and how it was obtained. These dataclasses carry what the
builder needs; :mod:`lti_tool.certification.accrochage.gather` fills them from a jury session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Issue(StrEnum):
    """Why a value cannot go into the file (the admin page words each one)."""

    MISSING = "missing"  # the XSD requires it and Jalon holds none
    XML_CHARACTER = "xml_character"  # a character XML 1.0 cannot carry
    TOO_LONG = "too_long"
    WRONG_LENGTH = "wrong_length"
    NOT_ALLOWED = "not_allowed"  # outside the XSD's list of values
    OUT_OF_RANGE = "out_of_range"
    INVALID_DATE = "invalid_date"
    NO_RNCP = "no_rncp"  # the référentiel gives no RNCP code for what was obtained
    NOT_SIGNED = "not_signed"
    NO_HOLDER = "no_holder"
    UNKNOWN_FRAMEWORK = "unknown_framework"
    XSD = "xsd"  # the schema refused the document: the validator's message


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the file cannot be written, located as precisely as Jalon can.

    ``candidate`` is the candidate's number in the session and ``name`` the name the jury
    knows them by (both ``None`` for a problem of the session or the certifier); ``field``
    is the element's name in the XSD (``anneeNaissance``), or ``rncp`` for the référentiel;
    ``detail`` is a value the reason needs (a limit, a code, the validator's message).
    """

    field: str
    issue: Issue
    detail: str = ""
    candidate: int | None = None
    name: str | None = None
    certification: str | None = None  # the Jalon code of the title or bloc concerned

    @property
    def who(self) -> str:
        """Return ``n° 3 Camille Exemple``, or ``session`` for the session's own problems."""
        if self.candidate is None:
            return "session"
        return f"n° {self.candidate} {self.name or ''}".rstrip()

    @property
    def reason(self) -> str:
        """Return the reason in English, for the command line and logs of the operator."""
        text = REASONS[self.issue]
        return text.format(detail=self.detail) if "{detail}" in text else text


REASONS = {
    Issue.MISSING: "is required and missing",
    Issue.XML_CHARACTER: "contains a character XML 1.0 cannot carry ({detail})",
    Issue.TOO_LONG: "is longer than {detail} characters",
    Issue.WRONG_LENGTH: "must be exactly {detail} characters",
    Issue.NOT_ALLOWED: "must be one of {detail}",
    Issue.OUT_OF_RANGE: "must be between {detail}",
    Issue.INVALID_DATE: "is not a valid date ({detail})",
    Issue.NO_RNCP: "the référentiel gives no RNCP code for {detail}",
    Issue.NOT_SIGNED: "the session's minutes are not signed: its decisions are not final",
    Issue.NO_HOLDER: "no candidate holds a final validated title or bloc",
    Issue.UNKNOWN_FRAMEWORK: "the référentiel {detail} is not installed",
    Issue.XSD: "refused by the XSD: {detail}",
}


@dataclass(frozen=True, slots=True)
class Certifier:
    """The certifier as the Caisse des Dépôts knows it (``settings.certifier``)."""

    id_client: str | None
    id_contrat: str | None


@dataclass(frozen=True, slots=True)
class ExamSession:
    """The session's facts every passage repeats."""

    session_id: int
    jury_date: dt.date
    exam_start: dt.date | None = None
    exam_end: dt.date | None = None
    exam_postal_code: str | None = None
    exam_mode: str | None = None  # EN_PRESENTIEL, A_DISTANCE, MIXTE


@dataclass(frozen=True, slots=True)
class Identity:
    """A holder's civil identity, field for field as ``models.HolderIdentity`` holds it."""

    birth_name: str | None = None
    usage_name: str | None = None
    first_name_1: str | None = None
    first_name_2: str | None = None
    first_name_3: str | None = None
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    sex: str | None = None
    birth_insee_code: str | None = None
    birth_postal_code: str | None = None
    birth_city: str | None = None
    birth_country_code: str | None = None
    access_route: str | None = None
    vae_route: str | None = None
    registration_initiative: str | None = None
    registration_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Obtained:
    """One certification a holder obtained: the title, or a bloc of it."""

    certification: str  # Jalon's code: the framework's, or the bloc's (B2)
    is_title: bool
    rncp: str | None  # RNCP12345 or RNCP12345BC02; None when the référentiel gives none
    technical_id: str  # idTechnique: the same for this passage in every file
    valid_from: dt.date
    valid_until: dt.date | None = None
    proof_url: str | None = None  # the credential's public verification page


@dataclass(frozen=True, slots=True)
class Holder:
    """A candidate to declare: who they are for the jury, their identity, what they obtained."""

    number: int
    name: str
    identity: Identity | None
    obtained: tuple[Obtained, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Flux:
    """Everything one file declares."""

    flux_id: str
    timestamp: dt.datetime  # timezone-aware
    certifier: Certifier
    session: ExamSession
    holders: tuple[Holder, ...]
