"""How evaluators see a person: the one naming chain every page goes through.

Platforms share what they choose. Moodle and Canvas send a name; Open edX sends none by
default, but its login (``preferred_username``, when username sharing is on) and the
``lis`` claim's ``person_sourcedid``; its roster (NRPS) may name people the launches did
not. Jalon takes the first of: ``name``, ``given_name`` + ``family_name``,
``preferred_username``, ``person_sourcedid``, the roster's name; and only then a short
pseudonym, labelled as one and stable (derived from the ``sub``), never the raw ``sub``,
which is an opaque identifier evaluators cannot tell apart.

Pages say where the names they show come from (:func:`sharing_notice`), so an evaluator
who reads a login or a pseudonym knows why, and what the platform would have to share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

from flask_babel import gettext as _


class Claims(Protocol):
    """What a person row, a roster member or a matrix learner holds of the display claims."""

    @property
    def name(self) -> str | None:
        """The ``name`` claim."""

    @property
    def given_name(self) -> str | None:
        """The ``given_name`` claim."""

    @property
    def family_name(self) -> str | None:
        """The ``family_name`` claim."""


class Source(IntEnum):
    """Where a shown name comes from, best first."""

    NAME = 1
    PARTS = 2  # given_name + family_name
    LOGIN = 3  # preferred_username
    SOURCEDID = 4  # lis.person_sourcedid
    ROSTER = 5  # the NRPS member's name
    PSEUDONYM = 6


@dataclass(frozen=True)
class ShownName:
    """A person's name as a page shows it, and where it comes from."""

    text: str
    source: Source


LIS_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/lis"


@dataclass(frozen=True)
class LaunchedPerson:
    """The display claims of a launch, read the way the stored person holds them."""

    name: str | None
    given_name: str | None
    family_name: str | None
    preferred_username: str | None
    person_sourcedid: str | None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> LaunchedPerson:
        """Read the claims (already typed by :mod:`lti_tool.lti.claims`)."""
        lis = claims.get(LIS_CLAIM)
        sourcedid = lis.get("person_sourcedid") if isinstance(lis, dict) else None
        return cls(
            *(_clean(claims.get(n)) for n in ("name", "given_name", "family_name")),
            _clean(claims.get("preferred_username")),
            _clean(sourcedid),
        )


def _clean(value: object) -> str | None:
    """Return a string as the platform sent it, or None for a blank or no string."""
    return value if isinstance(value, str) and value.strip() else None


def shared_name(person: Claims | None, roster_name: str | None = None) -> ShownName | None:
    """Return the first name the platform shared for a person, or None if it shared none."""
    if person is not None:
        name = _clean(person.name)
        if name:
            return ShownName(name, Source.NAME)
        parts = " ".join(p for p in map(_clean, (person.given_name, person.family_name)) if p)
        if parts:
            return ShownName(parts, Source.PARTS)
        login = _clean(getattr(person, "preferred_username", None))
        if login:
            return ShownName(login, Source.LOGIN)
        sourcedid = _clean(getattr(person, "person_sourcedid", None))
        if sourcedid:
            return ShownName(sourcedid, Source.SOURCEDID)
    roster = _clean(roster_name)
    return ShownName(roster, Source.ROSTER) if roster else None


def pseudonym(sub: str) -> str:
    """Return a short, labelled pseudonym for a person the platform did not name.

    Six hexadecimal digits of a hash of the ``sub``: the same person keeps it on every
    page and in the roster; sixteen million values keep a class's apart.
    """
    code = hashlib.sha256(sub.encode()).hexdigest()[:6].upper()
    return _("Anonyme %(code)s", code=code)


def person_name(person: Claims | None, sub: str, roster_name: str | None = None) -> ShownName:
    """Return how a page names a person: the chain, then a pseudonym."""
    found = shared_name(person, roster_name)
    return found if found is not None else ShownName(pseudonym(sub), Source.PSEUDONYM)


def display_name(person: Claims | None, sub: str, roster_name: str | None = None) -> str:
    """Return the text of :func:`person_name`."""
    return person_name(person, sub, roster_name).text


def sharing_notice(sources: Iterable[Source]) -> str | None:
    """Return what the platform shares, when a page shows anything but names; else None.

    The least informative source shown decides: it is what an evaluator must make sense of.
    """
    worst = max(sources, default=Source.NAME)
    if worst <= Source.PARTS:
        return None
    if worst == Source.LOGIN:
        return _(
            "Cette plateforme ne partage pas les noms : Jalon affiche l’identifiant de "
            "connexion (preferred_username) de chacun."
        )
    if worst == Source.SOURCEDID:
        return _(
            "Cette plateforme ne partage ni les noms ni les identifiants de connexion : Jalon "
            "affiche l’identifiant institutionnel (lis person_sourcedid) quand elle l’envoie."
        )
    if worst == Source.ROSTER:
        return _(
            "Cette plateforme ne partage pas les noms au lancement : Jalon affiche ceux de sa "
            "liste des participants."
        )
    return _(
        "Cette plateforme ne partage ni les noms ni les identifiants de connexion : Jalon "
        "affiche un pseudonyme (« Anonyme » suivi d’un code, le même sur chaque page). Pour "
        "voir les noms, l’administrateur de la plateforme peut en activer le partage (dans "
        "Open edX : le partage du nom d’utilisateur ou du nom complet de l’outil LTI)."
    )
