"""``/lti/register``: IMS LTI Dynamic Registration, as Moodle 4.x and Canvas start it.

GET shows the administrator which platform asks and what Jalon will request; POST does
the registration and answers a page whose script hands control back to the platform
(``org.imsglobal.lti.close``). The page lives in the LMS's iframe, where cookies may be
blocked, so the form's CSRF token is bound to the registration itself (the configuration
URL and token the platform gave) rather than to a cookie.

The address is public: a platform registered through it stays pending until a Jalon
administrator activates it, unless the LMS administrator was given an invitation link
(``/lti/register/<token>``, from ``jalon platform invite``). Each request fetches a URL
the caller chose, so requests are limited per client address, and only a few are served
at once per process (the others are answered 503 at once, never queued): slow
configuration URLs cannot hold every worker.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from lti_tool import csrf, rate_limits
from lti_tool.db import db_session
from lti_tool.dynamic_registration import (
    SCOPE_LINEITEM,
    SCOPE_NRPS,
    SCOPE_RESULT,
    SCOPE_SCORE,
    SCOPES,
    DynamicRegistrationError,
    OutboundPlatformHttp,
    PlatformHttp,
    fetch_platform_configuration,
    register,
    requested_scopes,
)
from lti_tool.outbound import outbound_policy
from lti_tool.rate_limits import client_address
from lti_tool.registration import find_usable_invite
from lti_tool.views.admin_platforms import field_label, problem_text
from lti_tool.views.install import tool_urls
from xapi.outbound import OutboundHttp

blueprint = Blueprint("lti_registration", __name__, url_prefix="/lti")
log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

# Registrations being served at once per process; each may wait on a platform's answers.
MAX_CONCURRENT = 2
# Seconds a registration request waits for each answer of the platform (connect, read).
PLATFORM_TIMEOUT = 5.0
# What a 503 suggests: about one registration's worth of waiting.
BUSY_RETRY_AFTER = 10


@dataclass(frozen=True)
class _Request:
    """What the platform passed: its configuration URL and the registration token."""

    configuration_url: str
    token: str
    # The administrator's invitation token, from the path (``/lti/register/<invite>``).
    invite: str | None = None

    @classmethod
    def read(cls, values: Mapping[str, str], invite: str | None = None) -> _Request:
        return cls(
            values.get("openid_configuration", "").strip(),
            values.get("registration_token", "").strip(),
            invite,
        )

    @property
    def principal(self) -> str:
        """Name the registration a CSRF token is bound to, without revealing the token."""
        text = f"{self.configuration_url}\n{self.token}\n{self.invite or ''}"
        return f"registration:{hashlib.sha256(text.encode()).hexdigest()}"

    @property
    def query(self) -> dict[str, str]:
        """Return the parameters that reopen this page (e.g. in another language)."""
        values = {"openid_configuration": self.configuration_url}
        if self.token:
            values["registration_token"] = self.token
        return values


def scope_label(scope: str) -> str:
    """Say what a service scope lets Jalon do, in the reader's words."""
    labels = {
        SCOPE_LINEITEM: _("créer les colonnes du carnet de notes des épreuves placées"),
        SCOPE_SCORE: _("envoyer les notes publiées par les évaluateurs"),
        SCOPE_RESULT: _("relire les notes enregistrées dans la plateforme"),
        SCOPE_NRPS: _("lire la liste des participants d’un cours (qui n’a pas rendu)"),
    }
    return labels.get(scope, scope)


def _limited(view: F) -> F:
    """Serve a registration request only within the per-address and per-process limits."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wait = rate_limits.count(rate_limits.REGISTRATION_REQUESTS)
        if wait is not None:
            log.warning("dynamic registration refused: too many requests from %s", client_address())
            raise TooManyRequests(
                description=_(
                    "Trop de demandes d’enregistrement depuis votre adresse : réessayez dans "
                    "%(minutes)d minutes.",
                    minutes=max(1, -(-wait // 60)),
                ),
                retry_after=wait,
            )
        slots: threading.BoundedSemaphore = current_app.extensions.setdefault(
            "jalon.registration_slots", threading.BoundedSemaphore(MAX_CONCURRENT)
        )
        if not slots.acquire(blocking=False):
            log.warning("dynamic registration refused: %d already in progress", MAX_CONCURRENT)
            raise ServiceUnavailable(
                description=_(
                    "Jalon traite déjà d’autres enregistrements : réessayez dans quelques secondes."
                ),
                retry_after=BUSY_RETRY_AFTER,
            )
        try:
            return view(*args, **kwargs)
        finally:
            slots.release()

    return wrapper  # type: ignore[return-value]


@blueprint.get("/register", defaults={"invite": None})
@blueprint.get("/register/<invite>")
@_limited
def start(invite: str | None) -> str | tuple[str, int]:
    """Show which platform asks to register Jalon, and what Jalon will request."""
    asked = _Request.read(request.args, invite)
    try:
        if invite is not None and find_usable_invite(db_session(), invite) is None:
            raise DynamicRegistrationError("invite_invalid", status=410)
        config = fetch_platform_configuration(_http(), asked.configuration_url, asked.token)
    except DynamicRegistrationError as error:
        return _refusal(error, asked)
    csrf.set_principal(asked.principal)
    scopes = requested_scopes(config)
    return render_template(
        "install/register_confirm.html",
        config=config,
        asked=asked,
        urls=tool_urls(),
        scopes=[scope_label(s) for s in scopes],
        missing_scopes=[scope_label(s) for s in SCOPES if s not in scopes],
        language_args=asked.query,
    )


@blueprint.post("/register", defaults={"invite": None})
@blueprint.post("/register/<invite>")
@csrf.exempt  # checked below, against the registration rather than the browser
@_limited
def complete(invite: str | None) -> str | tuple[str, int]:
    """Register Jalon with the platform and store the platform; then hand back control."""
    asked = _Request.read(request.form, invite)
    csrf.set_principal(asked.principal)
    if not csrf.is_valid(request.form.get(csrf.FIELD)):
        abort(
            400,
            description=_("Le formulaire a expiré ou ne vient pas de Jalon : rechargez la page."),
        )
    try:
        registered = register(
            db_session(),
            _http(),
            tool_urls(),
            asked.configuration_url,
            asked.token,
            invite=invite,
        )
    except DynamicRegistrationError as error:
        return _refusal(error, asked)
    result = registered.result
    not_granted = []
    if result.scopes_granted is not None:
        not_granted = [
            scope_label(s) for s in registered.scopes_requested if s not in result.scopes_granted
        ]
    return render_template(
        "install/register_done.html",
        platform=registered.platform,
        config=registered.configuration,
        result=result,
        not_granted=not_granted,
    )


def _http() -> PlatformHttp:
    services = current_app.extensions["jalon.services"]
    http: PlatformHttp | None = services.get("registration_http")
    if http is None:
        # A Jalon served on loopback (the demo) registers with an LMS beside it; a public
        # one never fetches a private address for whoever opened /lti/register.
        # Short: a registration holds one of the few places MAX_CONCURRENT allows.
        policy = outbound_policy(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            read_timeout=PLATFORM_TIMEOUT,
            total_timeout=PLATFORM_TIMEOUT,
        )
        http = services["registration_http"] = OutboundPlatformHttp(OutboundHttp(policy))
    return http


def _refusal(error: DynamicRegistrationError, asked: _Request) -> tuple[str, int]:
    """Explain why nothing was registered, and what to check."""
    # Neither the token nor the URL's query (Canvas puts the token there) reaches the log.
    log.warning(
        "dynamic registration stopped: %s%s (configuration at %s)",
        error.reason,
        f" [{error.field}]" if error.field else "",
        urlsplit(asked.configuration_url).netloc or "-",
    )
    message, hint = _explain(error)
    return render_template(
        "install/register_error.html",
        error=error,
        message=message,
        hint=hint,
        problems=[f"{field_label(p.field)} : {problem_text(p)}" for p in error.problems],
        language_args=asked.query if asked.configuration_url else {},
    ), error.status


def _explain(error: DynamicRegistrationError) -> tuple[str, str]:
    """Return what went wrong and what the administrator can do about it."""
    field = error.field or ""
    restart = _("Relancez l’enregistrement depuis votre plateforme ; le jeton a pu expirer.")
    manual = _(
        "Si votre plateforme ne prend pas en charge l’enregistrement dynamique, suivez la "
        "configuration manuelle de la page d’installation."
    )
    explanations = {
        "invite_invalid": (
            _("Ce lien d’enregistrement a expiré ou a déjà servi : rien n’a été enregistré."),
            _(
                "Demandez un nouveau lien à l’administrateur de Jalon (« jalon platform "
                "invite »), ou utilisez l’adresse d’enregistrement ordinaire : la plateforme "
                "attendra alors qu’il l’active."
            ),
        ),
        "missing_configuration_url": (
            _(
                "Cette adresse s’ouvre depuis votre plateforme, qui lui ajoute l’URL de sa "
                "configuration OpenID (openid_configuration) : elle manque ici."
            ),
            _(
                "Dans Moodle, collez l’adresse dans « Tool URL » puis « Add LTI Advantage » ; "
                "dans Canvas, créez une « LTI Registration » dans « Developer Keys »."
            ),
        ),
        "invalid_configuration_url": (
            _("L’URL de configuration OpenID donnée par la plateforme n’est pas acceptable."),
            manual,
        ),
        "unreachable": (
            _("Jalon n’a pas pu joindre la plateforme (%(detail)s).", detail=error.detail or ""),
            _(
                "Vérifiez que le serveur de Jalon peut atteindre la plateforme en HTTPS "
                "(pare-feu, proxy, certificat), puis recommencez."
            ),
        ),
        "configuration_status": (
            _(
                "La plateforme n’a pas fourni sa configuration OpenID (%(detail)s).",
                detail=error.detail or "",
            ),
            restart,
        ),
        "configuration_not_json": (
            _("La configuration OpenID de la plateforme n’est pas un document JSON valide."),
            manual,
        ),
        "configuration_missing": (
            _("La configuration OpenID de la plateforme n’indique pas « %(field)s ».", field=field),
            manual,
        ),
        "configuration_invalid": (
            _("Dans la configuration OpenID, « %(field)s » n’est pas acceptable.", field=field),
            manual,
        ),
        "origin_mismatch": (
            _(
                "La configuration lue sur %(origin)s annonce l’émetteur %(issuer)s : une "
                "plateforme ne peut parler qu’en son propre nom, Jalon refuse.",
                origin=error.context.get("origin", ""),
                issuer=error.context.get("issuer", ""),
            ),
            _(
                "Vérifiez l’URL publique (wwwroot) de la plateforme, ou configurez Jalon "
                "manuellement."
            ),
        ),
        "registration_elsewhere": (
            _(
                "L’adresse d’enregistrement annoncée (%(origin)s) n’est pas chez l’émetteur "
                "%(issuer)s : Jalon n’y envoie rien.",
                origin=error.context.get("origin", ""),
                issuer=error.context.get("issuer", ""),
            ),
            manual,
        ),
        "refused": (
            _("La plateforme a refusé l’enregistrement : %(detail)s", detail=error.detail or ""),
            restart,
        ),
        "response_invalid": (
            _("La réponse de la plateforme ne contient pas d’identifiant client utilisable."),
            _(
                "La plateforme a peut-être créé l’outil malgré tout : supprimez-le dans la "
                "plateforme avant de recommencer."
            ),
        ),
        "already_registered": (
            _(
                "La plateforme a attribué un identifiant client déjà enregistré dans Jalon : "
                "rien n’a été modifié."
            ),
            _(
                "Supprimez l’outil en double dans la plateforme, ou l’ancien enregistrement "
                "dans l’administration de Jalon, puis recommencez."
            ),
        ),
        "registration_invalid": (
            _("La plateforme a répondu avec des valeurs que Jalon ne peut pas enregistrer."),
            _(
                "La plateforme a peut-être créé l’outil malgré tout : supprimez-le dans la "
                "plateforme, puis configurez Jalon manuellement."
            ),
        ),
    }
    return explanations.get(error.reason, (error.reason, manual))
