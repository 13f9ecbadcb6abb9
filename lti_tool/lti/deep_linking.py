"""Deep Linking 2.0: the épreuve an instructor picks, returned as a signed resource link.

The platform's ``LtiDeepLinkingRequest`` settings are read from the stored launch, never from
the picker's form, so the return URL, ``data`` and accepted types cannot be changed by the
browser. The answer is an ``LtiDeepLinkingResponse`` JWT signed RS256 with Jalon's current
tool key (``kid`` in the header), holding one ``ltiResourceLink``:

- custom parameters ``framework``, ``epreuve`` and ``competencies`` (comma-separated codes),
  all strings, which the launch of the placed link reads back, and ``placement`` ("2", "3"…)
  when the same épreuve with the same competencies is already placed in the course;
- a title that tells placements apart: "E2 — … (C1.6–C1.7)" narrowed, "E2 — … (2)" again;
- a ``lineItem`` whose ``scoreMaximum`` is the number of criteria the épreuve judges for the
  chosen competencies: the score Jalon publishes is the number of criteria met, so the LMS
  shows e.g. 12 / 16 without rounding (left out when the platform says ``accept_lineitem``
  false).

Moodle sends the settings' booleans as the strings "true"/"false"; both forms are read.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from flask_babel import gettext
from flask_babel import lazy_gettext as _
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import Session

from lti_tool.evaluation.placement import epreuve_heading
from lti_tool.lti import keys
from lti_tool.lti.errors import Reason
from lti_tool.lti.launch import CLAIM, DEEP_LINKING_REQUEST, DL_CLAIM
from referentiel.model import Epreuve, Framework

RESPONSE_TYPE = "LtiDeepLinkingResponse"
RESOURCE_LINK = "ltiResourceLink"
LINE_ITEM_TAG = "jalon"
# The platform takes the answer at once (auto-posted form); ten minutes leave time to press
# the <noscript> button. pylti1p3's DeepLink uses the same lifetime.
RESPONSE_LIFETIME = 600
# The order in which Jalon prefers to be shown, among the targets the platform accepts.
PRESENTATIONS: dict[str, dict[str, Any]] = {
    "iframe": {"height": 900},
    "window": {"targetName": "jalon"},
}

REASONS: dict[str, Reason] = {
    "DL_NOT_REQUESTED": Reason(
        400,
        _("Cette session ne vient pas d’une demande de sélection de contenu."),
        _(
            "Le choix d’une épreuve s’ouvre depuis la plateforme : « Ajouter une activité » "
            "ou « sélection de contenu » avec l’outil Jalon (message LtiDeepLinkingRequest)."
        ),
    ),
    "DL_TYPE_NOT_ACCEPTED": Reason(
        400,
        _("La plateforme n’accepte pas de lien d’activité LTI à cet endroit."),
        _(
            "Les réglages de sélection de contenu (accept_types) doivent contenir "
            "ltiResourceLink : placez Jalon comme activité du cours."
        ),
    ),
    "DL_BAD_RETURN_URL": Reason(
        400,
        _("L’adresse de retour de la plateforme n’est pas utilisable."),
        _(
            "L’adresse deep_link_return_url envoyée par la plateforme doit être une adresse "
            "http(s) absolue."
        ),
    ),
    "DL_ALREADY_ANSWERED": Reason(
        409,
        _("Une épreuve a déjà été renvoyée pour cette demande."),
        _(
            "Chaque demande de sélection de contenu reçoit une seule réponse : relancez "
            "« Ajouter une activité » depuis la plateforme pour placer une autre épreuve."
        ),
    ),
}


class DeepLinkingRefused(Exception):  # noqa: N818 (a refusal, like LaunchRejected)
    """The deep-linking request cannot be answered, for ``code`` (see :data:`REASONS`)."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        if code not in REASONS:
            raise ValueError(f"unknown reason code {code}")
        super().__init__(code)
        self.code = code
        self.detail = detail

    @property
    def reason(self) -> Reason:
        """Return what the code means."""
        return REASONS[self.code]

    @property
    def status(self) -> int:
        """Return the HTTP status of the refusal."""
        return self.reason.status


def _flag(value: Any) -> bool | None:
    """Read a setting that is a boolean, or the string "true"/"false" (Moodle); else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # a lone value where a list is expected
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


@dataclass(frozen=True)
class DeepLinkingSettings:
    """The platform's ``deep_linking_settings`` claim, read leniently and checked."""

    return_url: str
    accept_types: tuple[str, ...]
    accept_presentation_document_targets: tuple[str, ...]
    accept_multiple: bool | None
    accept_lineitem: bool | None
    auto_create: bool | None
    title: str | None
    text: str | None
    data: Any
    has_data: bool

    @property
    def presentation(self) -> dict[str, dict[str, Any]]:
        """Return the presentation of Jalon's link the platform accepts, preferred first."""
        for target, options in PRESENTATIONS.items():
            if target in self.accept_presentation_document_targets:
                return {target: dict(options)}
        return {}


def read_settings(message_type: str, claims: dict[str, Any]) -> DeepLinkingSettings:
    """Return the deep-linking settings of a launch, or refuse one that cannot be answered."""
    if message_type != DEEP_LINKING_REQUEST:
        raise DeepLinkingRefused("DL_NOT_REQUESTED")
    raw = claims.get(DL_CLAIM + "deep_linking_settings")
    if not isinstance(raw, dict):
        raise DeepLinkingRefused("DL_NOT_REQUESTED")
    return_url = raw.get("deep_link_return_url")
    parts = urlsplit(return_url) if isinstance(return_url, str) else None
    if parts is None or parts.scheme not in {"https", "http"} or not parts.netloc:
        raise DeepLinkingRefused("DL_BAD_RETURN_URL")
    settings = DeepLinkingSettings(
        return_url=str(return_url),
        accept_types=_strings(raw.get("accept_types")),
        accept_presentation_document_targets=_strings(
            raw.get("accept_presentation_document_targets")
        ),
        accept_multiple=_flag(raw.get("accept_multiple")),
        accept_lineitem=_flag(raw.get("accept_lineitem")),
        auto_create=_flag(raw.get("auto_create")),
        title=raw.get("title") if isinstance(raw.get("title"), str) else None,
        text=raw.get("text") if isinstance(raw.get("text"), str) else None,
        data=raw.get("data"),
        has_data="data" in raw,
    )
    if RESOURCE_LINK not in settings.accept_types:
        raise DeepLinkingRefused("DL_TYPE_NOT_ACCEPTED", ", ".join(settings.accept_types))
    return settings


# -- the instructor's choice --------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """An épreuve of a framework, with the competencies it will judge (at least one).

    ``number`` counts the placements of the same épreuve and competencies in the course.
    """

    framework: Framework
    epreuve: Epreuve
    competencies: tuple[str, ...]
    number: int = 1

    @property
    def criteria_count(self) -> int:
        """Return how many criteria the chosen competencies hold."""
        return sum(len(self.framework.competency(c).criteria) for c in self.competencies)

    @property
    def title(self) -> str:
        """Return the link's title in the course: the épreuve, its range, its number."""
        return epreuve_heading(self.epreuve, self.competencies, self.number)

    @property
    def custom(self) -> dict[str, str]:
        """Return the link's custom parameters, all strings, as launches read them back."""
        custom = {
            "framework": self.framework.code,
            "epreuve": self.epreuve.code,
            "competencies": ",".join(self.competencies),
        }
        if self.number > 1:
            custom["placement"] = str(self.number)
        return custom


class ChoiceSchema(Schema):
    """The picker's form: a framework code, an épreuve code and competency codes.

    The frameworks to choose from are given, so the schema never queries the database.
    Unknown fields are errors: the form carries nothing else (the session token and the CSRF
    field are taken off first), so a posted return URL or ``data`` is refused, not ignored.
    """

    class Meta:  # noqa: D106
        unknown = RAISE

    framework = fields.String(required=True, validate=validate.Length(min=1, max=100))
    epreuve = fields.String(required=True, validate=validate.Length(min=1, max=50))
    competencies = fields.List(
        fields.String(validate=validate.Length(min=1, max=50)), required=True
    )

    def __init__(self, frameworks: dict[str, Framework], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.frameworks = frameworks

    @validates_schema
    def _known(self, data: dict[str, Any], **_kwargs: Any) -> None:
        framework = self.frameworks.get(data["framework"])
        if framework is None:
            raise ValidationError(gettext("Référentiel inconnu."), "framework")
        try:
            epreuve = framework.epreuve(data["epreuve"])
        except KeyError:
            raise ValidationError(gettext("Épreuve inconnue."), "epreuve") from None
        if not data["competencies"]:
            raise ValidationError(gettext("Cochez au moins une compétence."), "competencies")
        unknown = [c for c in data["competencies"] if c not in epreuve.competencies]
        if unknown:
            raise ValidationError(
                gettext(
                    "Compétences que l’épreuve n’évalue pas : %(codes)s", codes=", ".join(unknown)
                ),
                "competencies",
            )

    def make_choice(self, data: dict[str, Any]) -> Choice:
        """Return the choice, competencies in the épreuve's order, without duplicates."""
        framework = self.frameworks[data["framework"]]
        epreuve = framework.epreuve(data["epreuve"])
        wanted = set(data["competencies"])
        chosen = tuple(code for code in epreuve.competencies if code in wanted)
        return Choice(framework=framework, epreuve=epreuve, competencies=chosen)


def load_choice(form: dict[str, Any], frameworks: dict[str, Framework]) -> Choice:
    """Validate the picker's fields; raise ``ValidationError`` naming each wrong field."""
    schema = ChoiceSchema(frameworks)
    data = schema.load(form)
    return schema.make_choice(data)


# -- the answer ---------------------------------------------------------------------------


def content_item(choice: Choice, settings: DeepLinkingSettings, launch_url: str) -> dict[str, Any]:
    """Return the ``ltiResourceLink`` that places the chosen épreuve."""
    epreuve = choice.epreuve
    item: dict[str, Any] = {
        "type": RESOURCE_LINK,
        "title": choice.title,
        "text": epreuve.modality_label,
        "url": launch_url,
        "custom": choice.custom,
    }
    item.update(settings.presentation)
    if settings.accept_lineitem is not False:
        item["lineItem"] = {
            "scoreMaximum": choice.criteria_count,
            "label": choice.title,
            "resourceId": f"{choice.framework.code}/{epreuve.code}",
            "tag": LINE_ITEM_TAG,
        }
    return item


def response_claims(
    *,
    client_id: str,
    issuer: str,
    deployment_id: str,
    settings: DeepLinkingSettings,
    items: list[dict[str, Any]],
    now: int | None = None,
) -> dict[str, Any]:
    """Return the claims of an ``LtiDeepLinkingResponse`` (Deep Linking 2.0 §4.2)."""
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": client_id,
        "aud": issuer,
        "iat": issued,
        "exp": issued + RESPONSE_LIFETIME,
        "nonce": secrets.token_urlsafe(24),
        CLAIM + "message_type": RESPONSE_TYPE,
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": deployment_id,
        DL_CLAIM + "content_items": items,
    }
    if settings.has_data:
        claims[DL_CLAIM + "data"] = settings.data
    return claims


def sign(session: Session, claims: dict[str, Any]) -> str:
    """Sign claims RS256 with Jalon's current tool key, naming it by ``kid``."""
    key = keys.current(session)
    return jwt.encode(
        claims, keys.private_key(key), algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"}
    )
