"""Jalon's domain events, as the statement builders receive them.

An event holds what one statement needs and nothing that must be looked up later, so a
statement can be built inside the transaction that records the event. Events check their
own invariants on creation: a builder never has to guess.

Names and e-mail addresses travel in :class:`LtiUser` only so that an administrator *may*
allow them into statements; they are kept out of ``repr`` so they never reach a log.

Framework and item codes must have the shape the référentiel file format allows (a slug;
letters, digits, ``.``, ``_``, ``-``), so the IRIs built from them never need a percent
escape: Learning Locker's IRI check takes time exponential in the number of escapes, and a
code full of accents would stall the whole LRS (measured: 24 escapes, 0.5 s; 28, 9 s).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlsplit

from referentiel import schemas

# The shapes of codes in a référentiel file: a slug for a framework, letters, digits and
# ".", "_", "-" for its items.
_SLUG = cast("re.Pattern[str]", schemas.SLUG.regex)
_CODE = cast("re.Pattern[str]", schemas.CODE.regex)


@dataclass(frozen=True, slots=True)
class LtiUser:
    """A person as the LMS identifies them in an LTI launch (``iss`` and ``sub``)."""

    issuer: str
    sub: str
    name: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _require_url("issuer", self.issuer)
        _require_text("sub", self.sub)
        if self.name is not None:
            _require_text("name", self.name)
        if self.email is not None and (
            self.email.count("@") != 1 or self.email.startswith("@") or self.email.endswith("@")
        ):
            raise ValueError("email must be an address such as name@example.org")


@dataclass(frozen=True, slots=True)
class LmsContext:
    """Where it happened: the platform, the tool's deployment there and the course."""

    issuer: str
    platform_name: str
    deployment_id: str
    context_id: str
    context_title: str | None = None

    def __post_init__(self) -> None:
        _require_url("issuer", self.issuer)
        for name in ("platform_name", "deployment_id", "context_id"):
            _require_text(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class ResourceLink:
    """The LMS activity that launches Jalon: one épreuve placed in one course."""

    id: str
    title: str | None = None
    epreuve_code: str | None = None
    bloc_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require_text("resource link id", self.id)
        if self.epreuve_code is not None:
            _require_shape("epreuve_code", self.epreuve_code, _CODE)
        for code in self.bloc_codes:
            _require_shape("bloc_codes", code, _CODE)
        if len(set(self.bloc_codes)) != len(self.bloc_codes):
            raise ValueError("bloc_codes must not repeat a bloc")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """What every event has: who, where, in which framework, when, in which language."""

    learner: LtiUser
    lms: LmsContext
    framework_code: str
    occurred_at: datetime
    language: str | None = None

    def __post_init__(self) -> None:
        if self.learner.issuer != self.lms.issuer:
            raise ValueError("the learner must come from the LMS of the event")
        _require_shape("framework_code", self.framework_code, _SLUG)
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))

    def identity(self) -> tuple[str, ...]:
        """Return what makes this event unique: its kind and the domain ids that caused it."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class Launched(Event):
    """A learner opened an épreuve from the LMS."""

    launch_id: str
    resource_link: ResourceLink

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _require_text("launch_id", self.launch_id)

    def identity(self) -> tuple[str, ...]:
        """Return ``("launched", launch_id)``."""
        return ("launched", self.launch_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted(Event):
    """A learner submitted the work an épreuve asks for."""

    submission_id: str
    resource_link: ResourceLink

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _require_text("submission_id", self.submission_id)

    def identity(self) -> tuple[str, ...]:
        """Return ``("submitted", submission_id)``."""
        return ("submitted", self.submission_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Evaluated(Event):
    """An evaluator's published decision about a learner's work."""

    evaluation_id: str
    evaluator: LtiUser
    resource_link: ResourceLink
    bloc_code: str
    competency_code: str

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _require_text("evaluation_id", self.evaluation_id)
        _require_shape("bloc_code", self.bloc_code, _CODE)
        _require_shape("competency_code", self.competency_code, _CODE)
        if self.evaluator.issuer != self.lms.issuer:
            raise ValueError("the evaluator must come from the LMS of the event")


@dataclass(frozen=True, slots=True, kw_only=True)
class CriterionScored(_Evaluated):
    """One criterion of a submission judged, on the framework's scale."""

    submission_id: str
    criterion_code: str
    score_raw: float
    score_min: float
    score_max: float
    success: bool

    def __post_init__(self) -> None:
        _Evaluated.__post_init__(self)
        _require_text("submission_id", self.submission_id)
        _require_shape("criterion_code", self.criterion_code, _CODE)
        for name in ("score_raw", "score_min", "score_max"):
            _require_finite(name, getattr(self, name))
        if not self.score_min < self.score_max or not math.isfinite(
            self.score_max - self.score_min
        ):
            raise ValueError("score_min must be below score_max, within a finite range")
        if not self.score_min <= self.score_raw <= self.score_max:
            raise ValueError("score_raw must lie between score_min and score_max")

    @property
    def score_scaled(self) -> float:
        """Return the score on xAPI's scale, 0 for the scale's lowest level to 1 for its top."""
        return (self.score_raw - self.score_min) / (self.score_max - self.score_min)

    def identity(self) -> tuple[str, ...]:
        """Return ``("scored", evaluation_id, criterion_code)``."""
        return ("scored", self.evaluation_id, self.criterion_code)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompetencyProgressed(_Evaluated):
    """A competency's combined result after an evaluation (``score`` in [0, 1] if known)."""

    score: float | None
    success: bool

    def __post_init__(self) -> None:
        _Evaluated.__post_init__(self)
        _require_share("score", self.score)

    def identity(self) -> tuple[str, ...]:
        """Return ``("progressed", evaluation_id, competency_code)``."""
        return ("progressed", self.evaluation_id, self.competency_code)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompetencyMastered(_Evaluated):
    """A competency became *acquise*."""

    score: float | None = None

    def __post_init__(self) -> None:
        _Evaluated.__post_init__(self)
        _require_share("score", self.score)

    def identity(self) -> tuple[str, ...]:
        """Return ``("mastered", evaluation_id, competency_code)``."""
        return ("mastered", self.evaluation_id, self.competency_code)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlocSatisfied(Event):
    """Every competency of a bloc is acquired: the bloc is validated, for good."""

    evaluation_id: str
    bloc_code: str

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _require_text("evaluation_id", self.evaluation_id)
        _require_shape("bloc_code", self.bloc_code, _CODE)

    def identity(self) -> tuple[str, ...]:
        """Return ``("bloc-satisfied", evaluation_id, bloc_code)``."""
        return ("bloc-satisfied", self.evaluation_id, self.bloc_code)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificationSatisfied(Event):
    """Every bloc of the framework is validated: the certification is obtained."""

    evaluation_id: str

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _require_text("evaluation_id", self.evaluation_id)

    def identity(self) -> tuple[str, ...]:
        """Return ``("certification-satisfied", evaluation_id, framework_code)``."""
        return ("certification-satisfied", self.evaluation_id, self.framework_code)


AnyEvent = (
    Launched
    | Submitted
    | CriterionScored
    | CompetencyProgressed
    | CompetencyMastered
    | BlocSatisfied
    | CertificationSatisfied
)


def _require_text(name: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")


def _require_shape(name: str, value: str, shape: re.Pattern[str]) -> None:
    if not isinstance(value, str) or shape.fullmatch(value) is None:
        raise ValueError(f"{name} must be a référentiel code ({shape.pattern})")


def _require_url(name: str, value: str) -> None:
    _require_text(name, value)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError(f"{name} must be an absolute http(s) URL")


def _require_finite(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")


def _require_share(name: str, value: float | None) -> None:
    if value is not None:
        _require_finite(name, value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must lie between 0 and 1")
