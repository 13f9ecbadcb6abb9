"""Why a call to the LMS's services failed: a reason code a page can show, and what to check."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _

from lti_tool.lti.errors import Reason
from xapi.outbound import OutboundError

REASONS: dict[str, Reason] = {
    "LMS_SERVICE_NOT_OFFERED": Reason(
        409,
        _("La plateforme n’offre pas ce service pour cette activité."),
        _(
            "Activez les services LTI Advantage de l’outil dans la plateforme (notes : "
            "« Assignment and Grade Services » ; liste des participants : « Names and Role "
            "Provisioning »), puis relancez l’activité."
        ),
    ),
    "LMS_SCOPE_NOT_GRANTED": Reason(
        403,
        _("La plateforme n’a pas accordé à Jalon le droit nécessaire."),
        _(
            "Le lancement ne contient pas la permission (scope) demandée : dans Moodle, "
            "réglez « Services de notes » sur « Utiliser ce service pour la synchronisation "
            "des notes et la gestion des colonnes » ; dans Canvas, cochez les scopes AGS et "
            "NRPS de la clé de développeur."
        ),
    ),
    "LMS_SCOPE_REFUSED": Reason(
        403,
        _("La plateforme a refusé la permission demandée."),
        _(
            "Le point d’accès des jetons a refusé un scope pourtant annoncé au lancement : "
            "vérifiez les services activés pour l’outil et les scopes de la clé de développeur."
        ),
    ),
    "LMS_TOKEN_REFUSED": Reason(
        401,
        _("La plateforme a refusé de délivrer un jeton d’accès à Jalon."),
        _(
            "Vérifiez l’URL des jetons d’accès, l’audience des jetons (auth_audience) et "
            "l’URL du jeu de clés de Jalon (/lti/jwks) enregistrés de part et d’autre."
        ),
    ),
    "LMS_UNAUTHORIZED": Reason(
        401,
        _("La plateforme n’a pas reconnu le jeton d’accès de Jalon."),
        _(
            "Un serveur Apache devant Moodle supprime souvent l’en-tête Authorization : "
            "ajoutez « CGIPassAuth On » (ou une règle RewriteRule équivalente)."
        ),
    ),
    "LMS_FORBIDDEN": Reason(
        403,
        _("La plateforme a refusé l’opération à Jalon."),
        _("Vérifiez les services et les scopes accordés à l’outil dans la plateforme."),
    ),
    "LMS_NOT_FOUND": Reason(
        404,
        _("La colonne de notes ou la liste demandée n’existe plus dans la plateforme."),
        _(
            "L’activité ou sa colonne de notes a peut-être été supprimée : replacez "
            "l’épreuve dans le cours."
        ),
    ),
    "LMS_REQUEST_REFUSED": Reason(
        400,
        _("La plateforme a refusé les données envoyées par Jalon."),
        _("Le détail donne la réponse de la plateforme ; transmettez-le au support de Jalon."),
    ),
    "LMS_SCORE_OUTDATED": Reason(
        409,
        _("La plateforme garde une note plus récente que celle-ci."),
        _(
            "La plateforme n’accepte qu’une note plus récente que celle qu’elle détient "
            "(Moodle compare à la seconde près) ; Jalon a comparé la note qu’elle détient "
            "quand elle lui permet de la lire, l’a renvoyée plus récente et réessaiera plus "
            "tard."
        ),
    ),
    "LMS_BAD_ANSWER": Reason(
        502,
        _("La plateforme a répondu de façon inattendue."),
        _("La réponse n’est pas celle que décrivent les spécifications LTI Advantage."),
    ),
    "LMS_UNREACHABLE": Reason(
        503,
        _("La plateforme ne répond pas."),
        _(
            "Vérifiez que le serveur de Jalon peut joindre la plateforme (pare-feu, DNS, "
            "certificat) ; réessayez dans quelques minutes."
        ),
    ),
    "OUTBOUND_SCHEME": Reason(
        502,
        _("Jalon n’appelle les services de la plateforme qu’en HTTPS."),
        _(
            "Une adresse de service de la plateforme n’est pas en https:// : corrigez l’URL "
            "enregistrée ou la configuration LTI Advantage de la plateforme."
        ),
    ),
    "OUTBOUND_ADDRESS": Reason(
        502,
        _("L’adresse du service de la plateforme n’est pas une adresse publique."),
        _(
            "Jalon refuse de joindre une adresse locale, privée ou réservée (boucle locale, "
            "réseau interne, service de métadonnées) : la plateforme doit être joignable sur "
            "Internet sous le nom enregistré."
        ),
    ),
    "OUTBOUND_ORIGIN": Reason(
        502,
        _("Le service désigné par la plateforme n’est pas sur son propre site."),
        _(
            "Les adresses des notes et de la liste des participants doivent être sur l’origine "
            "de la plateforme enregistrée ; si elle sert ses services depuis un autre hôte, "
            "un administrateur de Jalon peut l’ajouter (jalon platform origins … --add)."
        ),
    ),
    "OUTBOUND_REDIRECT": Reason(
        502,
        _("La plateforme a répondu par une redirection."),
        _(
            "Jalon ne suit pas les redirections : vérifiez que les URL enregistrées sont les "
            "adresses finales (https, bon nom d’hôte, sans redirection du serveur web)."
        ),
    ),
    "OUTBOUND_TOO_LARGE": Reason(
        502,
        _("La réponse de la plateforme dépasse la taille acceptée par Jalon."),
        _("La réponse a été ignorée ; transmettez ce code au support de Jalon."),
    ),
}

# A refusal of the outbound policy, as the LMS services report it: network failures keep
# the code pages already explain, the policy's own refusals keep theirs.
NETWORK_CODES = frozenset({"OUTBOUND_TIMEOUT", "OUTBOUND_UNREACHABLE"})
# An OAuth-style error code (``invalid_scope``): the only text of an answer Jalon keeps.
_OAUTH_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")


def oauth_code(value: Any) -> str | None:
    """Return an answer's error code when it is one (RFC 6749 style), else ``None``.

    Free text from a platform's answer (an HTML page, a message quoting a learner, whatever
    a misdirected URL returned) never becomes a detail a page or a log could show.
    """
    if isinstance(value, str) and _OAUTH_CODE.fullmatch(value):
        return value
    return None


class LmsServiceError(Exception):
    """A call to AGS, NRPS or the token endpoint failed for ``code``.

    ``status`` is the platform's HTTP status when it answered; ``detail`` a short technical
    hint (an OAuth error code, a scope, an outbound code): never a token, personal data or
    text from the platform's answer.
    """

    def __init__(self, code: str, *, status: int | None = None, detail: str | None = None) -> None:
        if code not in REASONS:
            raise ValueError(f"unknown reason code {code}")
        super().__init__(f"{code} (HTTP {status})" if status else code)
        self.code = code
        self.platform_status = status
        self.detail = detail

    @classmethod
    def outbound(cls, error: OutboundError) -> LmsServiceError:
        """Return the service error for a call the outbound policy refused or lost."""
        if error.code in NETWORK_CODES:
            return cls("LMS_UNREACHABLE", detail=error.code)
        return cls(error.code, status=error.status, detail=error.code)

    @property
    def reason(self) -> Reason:
        """Return what the code means, for a page."""
        return REASONS[self.code]

    @property
    def status(self) -> int:
        """Return the HTTP status a page showing this error should answer with."""
        return self.reason.status
