"""Check what goes into the file before building it, naming the XSD's field for each problem.

The XSD would refuse most of these too, but its messages name elements, not people: checked
here first, every problem says which candidate and which field, and all of them are listed
at once. Values are never repaired: a character XML 1.0 cannot carry is refused, not dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from lti_tool.certification.accrochage.model import (
    Certifier,
    ExamSession,
    Flux,
    Holder,
    Identity,
    Issue,
    Problem,
)

# XML 1.0 (fifth edition), production 2: Char.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ACCESS_ROUTES = (
    "FORMATION_INITIALE_HORS_APPRENTISSAGE",
    "FORMATION_INITIALE_APPRENTISSAGE",
    "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION",
    "VAE",
    "EQUIVALENCE_DIPLOME_ETRANGER",
    "CANDIDAT_LIBRE",
)
VAE_ROUTES = ("CONGES_VAE", "VAE_CLASSIQUE")
INITIATIVES = ("CERTIFIE", "OF", "POLE_EMPLOI", "EMPLOYEUR", "AUTRE")
EXAM_MODES = ("A_DISTANCE", "EN_PRESENTIEL", "MIXTE")
SEXES = ("M", "F")

# (attribute of Identity, XSD element, maximum length, exact length)
_TEXTS = (
    ("birth_name", "nomNaissance", 60, None),
    ("usage_name", "nomUsage", 60, None),
    ("first_name_1", "prenom1", 60, None),
    ("first_name_2", "prenom2", 60, None),
    ("first_name_3", "prenom3", 60, None),
    ("birth_insee_code", "codeInsee", None, 5),
    ("birth_postal_code", "codePostal", 9, None),
    ("birth_city", "libelleCommuneNaissance", 60, None),
    ("birth_country_code", "codePaysNaissance", None, 3),
)
_REQUIRED = (("birth_name", "nomNaissance"), ("first_name_1", "prenom1"))


def check_flux(flux: Flux) -> list[Problem]:
    """Return every problem of the file's inputs; an empty list means it may be built."""
    problems = list(_certifier(flux.certifier))
    problems += _session(flux.session)
    for holder in flux.holders:
        problems += _holder(holder)
    # The référentiel's gap, named once per title or bloc rather than once per holder.
    unnamed = {o.certification: o for h in flux.holders for o in h.obtained if o.rncp is None}
    for code in unnamed:
        problems.append(Problem("rncp", Issue.NO_RNCP, code, certification=code))
    return problems


def bad_character(value: str) -> str | None:
    """Return the first character XML 1.0 cannot carry, as ``U+000B``, or ``None``."""
    bad = _NOT_XML_CHAR.search(value)
    return None if bad is None else f"U+{ord(bad.group()):04X}"


def _text(
    value: str | None, field: str, max_length: int | None = None, length: int | None = None
) -> Iterator[tuple[str, Issue, str]]:
    if not value:  # an empty optional value is left out; a required one is checked apart
        return
    character = bad_character(value)
    if character is not None:
        yield field, Issue.XML_CHARACTER, character
    elif length is not None and len(value) != length:
        yield field, Issue.WRONG_LENGTH, str(length)
    elif max_length is not None and len(value) > max_length:
        yield field, Issue.TOO_LONG, str(max_length)


def _choice(
    value: str | None, field: str, allowed: tuple[str, ...]
) -> Iterator[tuple[str, Issue, str]]:
    if value is not None and value not in allowed:
        yield field, Issue.NOT_ALLOWED, ", ".join(allowed)


def _certifier(certifier: Certifier) -> Iterator[Problem]:
    for value, field, length, max_length in (
        (certifier.id_client, "idClient", 8, None),
        (certifier.id_contrat, "idContrat", None, 20),
    ):
        if not value:
            yield Problem(field, Issue.MISSING)
        for name, issue, detail in _text(value, field, max_length, length):
            yield Problem(name, issue, detail)


def _session(session: ExamSession) -> Iterator[Problem]:
    found = [
        *_text(session.exam_postal_code, "codePostalCentreExamen", 9),
        *_choice(session.exam_mode, "modalitePassageExamen", EXAM_MODES),
    ]
    if session.exam_start and session.exam_end and session.exam_end < session.exam_start:
        found.append(("dateFinExamen", Issue.INVALID_DATE, "< dateDebutExamen"))
    for day, field in (
        (session.exam_start, "dateDebutExamen"),
        (session.exam_end, "dateFinExamen"),
    ):
        if day is not None and not 1900 <= day.year <= 2099:
            found.append((field, Issue.OUT_OF_RANGE, "1900 and 2099"))
    for field, issue, detail in found:
        yield Problem(field, issue, detail)


def _holder(holder: Holder) -> Iterator[Problem]:
    def at(field: str, issue: Issue, detail: str = "", code: str | None = None) -> Problem:
        return Problem(field, issue, detail, holder.number, holder.name, code)

    if holder.identity is None:
        yield at(
            "titulaire",
            Issue.MISSING,
            "nomNaissance, prenom1, anneeNaissance, sexe, codeCommuneNaissance",
        )
    else:
        for field, issue, detail in _identity(holder.identity):
            yield at(field, issue, detail)
    for obtained in holder.obtained:
        for field, issue, detail in (
            *_text(obtained.proof_url, "urlPreuve", 255),
            *_text(obtained.technical_id, "idTechnique", 255),
        ):
            yield at(field, issue, detail, obtained.certification)
        if obtained.valid_until is not None and obtained.valid_until < obtained.valid_from:
            yield at(
                "dateFinValidite", Issue.INVALID_DATE, "< dateDebutValidite", obtained.certification
            )


def _identity(identity: Identity) -> Iterator[tuple[str, Issue, str]]:
    for attribute, field in _REQUIRED:
        if not (getattr(identity, attribute) or "").strip():
            yield field, Issue.MISSING, ""
    for attribute, field, max_length, length in _TEXTS:
        yield from _text(getattr(identity, attribute), field, max_length, length)
    yield from _birth_date(identity)
    if not identity.sex:
        yield "sexe", Issue.MISSING, ""
    else:
        yield from _choice(identity.sex, "sexe", SEXES)
    if not identity.birth_insee_code and not identity.birth_postal_code:
        yield "codeCommuneNaissance", Issue.MISSING, "codeInsee | codePostal"
    yield from _choice(identity.access_route, "modaliteAcces", ACCESS_ROUTES)
    yield from _choice(identity.vae_route, "voieAccessVAE", VAE_ROUTES)
    yield from _choice(identity.registration_initiative, "initiativeInscription", INITIATIVES)


def _birth_date(identity: Identity) -> Iterator[tuple[str, Issue, str]]:
    year, month, day = identity.birth_year, identity.birth_month, identity.birth_day
    if year is None:
        yield "anneeNaissance", Issue.MISSING, ""
    elif not 1900 <= year <= 2099:
        yield "anneeNaissance", Issue.OUT_OF_RANGE, "1900 and 2099"
    if month is not None and not 1 <= month <= 12:
        yield "moisNaissance", Issue.OUT_OF_RANGE, "1 and 12"
    if day is not None and not 1 <= day <= 31:
        yield "jourNaissance", Issue.OUT_OF_RANGE, "1 and 31"
    if day is not None and month is None:
        yield "moisNaissance", Issue.MISSING, ""
    if year and month and day and 1 <= month <= 12 and 1 <= day <= 31:
        try:
            dt.date(year, month, day)
        except ValueError:
            yield "jourNaissance", Issue.INVALID_DATE, f"{year:04d}-{month:02d}-{day:02d}"
