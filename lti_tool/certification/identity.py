"""Holder identity the LMS never sends: its checks, its storage, what the accrochage lacks.

The Caisse des Dépôts' file (``cpf:titulaire``, ``cpf:modalitesInscription`` of
``specs/cdc-cpf-accrochage-1.1.2.xsd``) needs the holder's civil identity: birth name,
first names, birth date and place, sex, and how they came to the certification. A school
imports it (:mod:`lti_tool.certification.identity_import`) or the candidate types it; both
go through :func:`identity_schema`, so a value the XSD would refuse is refused here, with
the field named, before anything is written. The values never reach a log or a statement.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import sqlalchemy as sa
from flask_babel import lazy_gettext
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate
from sqlalchemy.orm import Session

from lti_tool.certification.identity_xsd import (
    ACCESS_ROUTES,
    COUNTRY,
    FIELDS,
    FIRST_YEAR,
    INITIATIVES,
    INSEE,
    NAME_MAX,
    POSTAL,
    SEXES,
    SOURCES,
    UPPER,
    VAE,
    VAE_ROUTES,
    YOUNGEST,
)
from lti_tool.certification.models import HolderIdentity
from lti_tool.db import utcnow
from lti_tool.models import LtiUser


@dataclass(frozen=True)
class IdentityData:
    """A holder's identity as checked, named as :class:`HolderIdentity`'s columns."""

    birth_name: str
    first_name_1: str
    usage_name: str | None = None
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


def _xml_refusal(char: str) -> bool:
    """Return whether XML 1.0 cannot carry ``char`` (its ``Char`` production)."""
    code = ord(char)
    if code in (0x9, 0xA, 0xD):
        return False
    return code < 0x20 or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF)


def _name(value: str) -> None:
    """Refuse what a name cannot hold: characters XML 1.0 refuses, controls, line breaks."""
    for char in value:
        if _xml_refusal(char):
            raise ValidationError(
                str(
                    lazy_gettext(
                        "contient un caractère que le XML 1.0 ne peut pas porter (U+%(code)04X).",
                        code=ord(char),
                    )
                )
            )
        if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}:
            raise ValidationError(
                str(lazy_gettext("contient un caractère de contrôle ou un saut de ligne."))
            )


def _text(*, required: bool = False, maximum: int = NAME_MAX) -> fields.String:
    missing = lazy_gettext("est obligatoire.")
    extra: dict[str, Any] = {"required": True} if required else {"load_default": None}
    return fields.String(
        allow_none=not required,
        **extra,
        validate=[
            validate.Length(
                min=1, max=maximum, error=lazy_gettext("doit faire au plus {max} caractères.")
            ),
            _name,
        ],
        error_messages={
            "required": missing,
            "null": missing,
            "invalid": lazy_gettext("n’est pas un texte."),
        },
    )


def _code(pattern: re.Pattern[str], error: Any) -> fields.String:
    return fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(pattern, error=error),
        error_messages={"invalid": error},
    )


def _choice(values: tuple[str, ...]) -> fields.String:
    error = lazy_gettext("n’est pas une valeur permise ({choices}).")
    return fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(values, error=error),
        error_messages={"invalid": error},
    )


def _number(low: int, high: int) -> fields.Integer:
    return fields.Integer(
        strict=False,
        allow_none=True,
        load_default=None,
        validate=validate.Range(
            low, high, error=lazy_gettext("doit être compris entre {min} et {max}.")
        ),
        error_messages={"invalid": lazy_gettext("n’est pas un nombre entier.")},
    )


class IdentitySchema(Schema):
    """Load a holder's identity: trimmed, checked against the XSD, unknown keys refused."""

    class Meta:  # noqa: D106
        unknown = RAISE

    error_messages: ClassVar[dict[str, Any]] = {
        "unknown": lazy_gettext("champ inconnu."),
        "type": lazy_gettext("données invalides."),
    }

    birth_name = _text(required=True)
    usage_name = _text()
    first_name_1 = _text(required=True)
    first_name_2 = _text()
    first_name_3 = _text()
    birth_year = _number(FIRST_YEAR, 2099)
    birth_month = _number(1, 12)
    birth_day = _number(1, 31)
    sex = _choice(SEXES)
    birth_insee_code = _code(
        INSEE,
        lazy_gettext("doit être un code INSEE de 5 caractères (chiffres, ou 2A/2B en Corse)."),
    )
    birth_postal_code = _code(POSTAL, lazy_gettext("doit être un code postal de 5 chiffres."))
    birth_city = _text()
    birth_country_code = _code(COUNTRY, lazy_gettext("doit être un code pays de 3 caractères."))
    access_route = _choice(ACCESS_ROUTES)
    vae_route = _choice(VAE_ROUTES)
    registration_initiative = _choice(INITIATIVES)
    registration_date = fields.Date(
        allow_none=True,
        load_default=None,
        error_messages={"invalid": lazy_gettext("n’est pas une date (AAAA-MM-JJ).")},
    )

    @pre_load
    def _clean(self, data: Any, **_kwargs: Any) -> Any:
        """Trim every text, collapse inner spaces, NFC; an empty value is no value."""
        if not isinstance(data, dict):
            return data
        cleaned: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = re.sub(r" {2,}", " ", unicodedata.normalize("NFC", value).strip()) or None
                if value is not None and key in UPPER:
                    value = value.upper()
            cleaned[key] = value
        return cleaned

    @post_load
    def _identity(self, data: dict[str, Any], **_kwargs: Any) -> IdentityData:
        errors: dict[str, list[str]] = {}

        def refuse(name: str, message: Any) -> None:
            errors.setdefault(name, []).append(str(message))

        year, month, day = data.get("birth_year"), data.get("birth_month"), data.get("birth_day")
        if day is not None and month is None:
            refuse("birth_month", lazy_gettext("est obligatoire quand le jour est donné."))
        if (month is not None or day is not None) and year is None:
            refuse(
                "birth_year", lazy_gettext("est obligatoire quand le mois ou le jour est donné.")
            )
        today = utcnow().date()
        if year is not None and not errors:
            try:
                born = dt.date(year, month or 1, day or 1)
            except ValueError:
                born = None
                refuse("birth_day", lazy_gettext("n’existe pas dans ce mois."))
            youngest = dt.date(today.year - YOUNGEST, today.month, min(today.day, 28))
            if born is not None and born > youngest:
                refuse(
                    "birth_year",
                    lazy_gettext("donne un âge de moins de %(age)d ans.", age=YOUNGEST),
                )
        if data.get("first_name_3") and not data.get("first_name_2"):
            refuse(
                "first_name_2", lazy_gettext("est obligatoire quand un troisième prénom est donné.")
            )
        if data.get("vae_route") and data.get("access_route") != VAE:
            refuse("vae_route", lazy_gettext("ne s’applique qu’à un accès par la VAE."))
        registered = data.get("registration_date")
        if registered is not None and not dt.date(FIRST_YEAR, 1, 1) <= registered <= today:
            refuse("registration_date", lazy_gettext("doit être passée (et après 1900)."))
        if errors:
            raise ValidationError(errors)
        return IdentityData(**data)


def identity_schema() -> IdentitySchema:
    """Return the load schema of a holder's identity."""
    return IdentitySchema()


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """Return a load's errors as each field's list of messages, as plain text."""
    messages = error.normalized_messages()
    found: dict[str, list[str]] = {}
    for name, value in messages.items():
        items = value if isinstance(value, list) else [value]
        found[str(name)] = [str(item) for item in items]
    return found


def identity_of(db: Session, learner_id: int) -> HolderIdentity | None:
    """Return the stored identity of a learner, if any."""
    return db.scalar(sa.select(HolderIdentity).where(HolderIdentity.learner_id == learner_id))


def save_identity(
    db: Session, learner: LtiUser, data: IdentityData, *, source: str
) -> HolderIdentity:
    """Create or replace the learner's identity with ``data``; flush only.

    ``source`` is where it came from (:data:`SOURCES`). A deletion date already set (the
    learner's session is signed) stays: correcting a name does not extend the retention.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown identity source {source!r}")
    identity = identity_of(db, learner.id)
    if identity is None:
        identity = HolderIdentity(learner_id=learner.id)
        db.add(identity)
    for name, value in asdict(data).items():
        setattr(identity, name, value)
    identity.source = source
    identity.updated_at = utcnow()
    db.flush()
    return identity


def values_of(identity: HolderIdentity | None) -> dict[str, str]:
    """Return a stored identity as the form's text values (empty strings for none)."""
    if identity is None:
        return {}
    values = {}
    for name in FIELDS:
        value = getattr(identity, name)
        values[name] = "" if value is None else str(value)
    return values


def missing_for_accrochage(identity: HolderIdentity | None) -> list[str]:
    """Return the XSD elements the accrochage file would lack for this holder, in order.

    ``codeCommuneNaissance`` is satisfied by an INSEE code or a postal code, or, for a
    holder born abroad (``codePaysNaissance``), by the nil postal code the XSD allows;
    ``voieAccessVAE`` (the XSD's spelling) is asked of an access through the VAE.
    """
    if identity is None:
        return ["nomNaissance", "prenom1", "anneeNaissance", "sexe", "codeCommuneNaissance"]
    missing = []
    if not identity.birth_name:
        missing.append("nomNaissance")
    if not identity.first_name_1:
        missing.append("prenom1")
    if identity.birth_year is None:
        missing.append("anneeNaissance")
    if identity.sex not in SEXES:
        missing.append("sexe")
    if not (identity.birth_insee_code or identity.birth_postal_code or identity.birth_country_code):
        missing.append("codeCommuneNaissance")
    if identity.access_route == VAE and not identity.vae_route:
        missing.append("voieAccessVAE")
    return missing
