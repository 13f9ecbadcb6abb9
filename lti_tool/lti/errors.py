"""Why a launch is refused: a stable reason code, an HTTP status, and what to check.

The code is what an LMS administrator quotes to support and what the log records; the
texts say, in the user's language, what happened and where an administrator should look.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _
from flask_babel.speaklater import LazyString


@dataclass(frozen=True)
class Reason:
    """One way a launch can fail."""

    status: int
    title: LazyString
    check: LazyString


REASONS: dict[str, Reason] = {
    "LTI_LOGIN_INCOMPLETE": Reason(
        400,
        _("La demande de connexion de la plateforme est incomplète."),
        _(
            "La plateforme doit envoyer iss, login_hint et target_link_uri à l’adresse de "
            "connexion de Jalon (/lti/login)."
        ),
    ),
    "LTI_UNKNOWN_ISSUER": Reason(
        403,
        _("Cette plateforme n’est pas enregistrée dans Jalon."),
        _(
            "Enregistrez la plateforme (émetteur « iss ») dans Jalon : enregistrement "
            "dynamique, commande « jalon platform add » ou page d’administration."
        ),
    ),
    "LTI_ISSUER_TRAILING_SLASH": Reason(
        403,
        _(
            "L’émetteur envoyé par la plateforme ne diffère de celui enregistré que par "
            "une barre oblique finale."
        ),
        _(
            "Le détail donne l’émetteur (iss) reçu, puis celui enregistré dans Jalon. "
            "Enregistrez la plateforme avec l’émetteur exactement comme elle l’envoie "
            "(l’adresse racine de Moodle ou d’Open edX, sans « / » final)."
        ),
    ),
    "LTI_PLATFORM_PENDING": Reason(
        403,
        _("Cette plateforme attend l’approbation d’un administrateur de Jalon."),
        _(
            "La plateforme est enregistrée mais pas encore activée. Un administrateur de "
            "Jalon l’active sur la page « Plateformes LTI » de l’administration (bouton "
            "« Activer ») ou avec « jalon platform activate --issuer … --client-id … » ; "
            "un enregistrement fait avec un lien d’invitation (« jalon platform invite ») "
            "est actif d’emblée."
        ),
    ),
    "LTI_UNKNOWN_CLIENT": Reason(
        403,
        _("Cet identifiant client n’est pas enregistré pour cette plateforme."),
        _(
            "Vérifiez que le client_id (l’identifiant de la clé de développeur dans Canvas, "
            "de l’outil dans Moodle) est celui enregistré dans Jalon pour cet émetteur."
        ),
    ),
    "LTI_AMBIGUOUS_CLIENT": Reason(
        400,
        _("Plusieurs enregistrements correspondent à cette plateforme."),
        _(
            "La plateforme doit envoyer client_id dans la demande de connexion, ou un seul "
            "enregistrement doit exister pour cet émetteur."
        ),
    ),
    "LTI_UNKNOWN_DEPLOYMENT": Reason(
        403,
        _("Ce déploiement de Jalon n’est pas enregistré."),
        _(
            "Ajoutez l’identifiant de déploiement (deployment_id) envoyé par la plateforme à "
            "l’enregistrement de Jalon ; chaque sous-compte Canvas a le sien."
        ),
    ),
    "LTI_BAD_TARGET_LINK_URI": Reason(
        400,
        _("Le lien demandé ne désigne pas cette installation de Jalon."),
        _(
            "L’adresse de lancement (target_link_uri) configurée dans la plateforme doit "
            "commencer par l’adresse publique de Jalon (JALON_BASE_URL)."
        ),
    ),
    "LTI_STATE_MISSING": Reason(
        400,
        _("La réponse de la plateforme ne contient pas de paramètre « state »."),
        _(
            "Le lancement doit passer par l’adresse de connexion de Jalon (/lti/login) avant "
            "l’adresse de lancement (/lti/launch)."
        ),
    ),
    "LTI_STATE_MISMATCH": Reason(
        403,
        _("Ce lancement n’a pas été commencé dans ce navigateur, ou il a expiré."),
        _(
            "Relancez l’activité depuis la plateforme. Si cela se répète dans un cadre "
            "(iframe), le navigateur bloque peut-être les cookies tiers : ouvrez l’activité "
            "dans un nouvel onglet ou activez le stockage LTI de la plateforme."
        ),
    ),
    "LTI_TOKEN_MISSING": Reason(
        400,
        _("La réponse de la plateforme ne contient pas de jeton « id_token »."),
        _("La plateforme doit envoyer id_token et state à /lti/launch par un formulaire POST."),
    ),
    "LTI_MALFORMED_TOKEN": Reason(
        400,
        _("Le jeton de lancement est illisible."),
        _("Le jeton id_token doit être un JWT signé (trois parties en base64url)."),
    ),
    "LTI_BAD_ALGORITHM": Reason(
        403,
        _("Le jeton de lancement n’est pas signé avec l’algorithme attendu."),
        _("Jalon n’accepte que des jetons signés en RS256 avec une clé publiée par la plateforme."),
    ),
    "LTI_ISSUER_MISMATCH": Reason(
        403,
        _("Le jeton ne vient pas de la plateforme qui a demandé la connexion."),
        _(
            "L’émetteur (iss) du jeton doit être celui de la demande de connexion ; "
            "vérifiez l’adresse de connexion configurée pour chaque plateforme."
        ),
    ),
    "LTI_WRONG_AUDIENCE": Reason(
        403,
        _("Le jeton de lancement n’est pas destiné à Jalon."),
        _(
            "L’audience (aud) du jeton doit contenir le client_id enregistré dans Jalon ; "
            "quand elle en contient plusieurs, azp doit le désigner."
        ),
    ),
    "LTI_AZP_MISMATCH": Reason(
        403,
        _("Le jeton de lancement a été émis pour un autre client."),
        _("La partie autorisée (azp) du jeton doit être le client_id enregistré dans Jalon."),
    ),
    "LTI_UNKNOWN_KID": Reason(
        403,
        _("La clé qui a signé ce jeton est inconnue."),
        _(
            "Vérifiez l’adresse du jeu de clés (JWKS) enregistrée pour la plateforme : la "
            "clé désignée par « kid » n’y figure pas, même après un nouveau téléchargement."
        ),
    ),
    "LTI_JWKS_UNAVAILABLE": Reason(
        403,
        _("Les clés publiques de la plateforme sont inaccessibles."),
        _(
            "Vérifiez que l’adresse du jeu de clés (JWKS) enregistrée pour la plateforme "
            "répond en JSON depuis le serveur de Jalon."
        ),
    ),
    "LTI_BAD_SIGNATURE": Reason(
        403,
        _("La signature du jeton de lancement est invalide."),
        _(
            "Le jeton n’a pas été signé par la clé privée de la plateforme : vérifiez "
            "l’adresse du jeu de clés (JWKS) enregistrée."
        ),
    ),
    "LTI_TOKEN_EXPIRED": Reason(
        403,
        _("Le jeton de lancement a expiré."),
        _(
            "Relancez l’activité. Si cela se répète, vérifiez l’horloge des serveurs de la "
            "plateforme et de Jalon (NTP) : une minute d’écart est tolérée."
        ),
    ),
    "LTI_TOKEN_NOT_YET_VALID": Reason(
        403,
        _("Le jeton de lancement est daté du futur."),
        _(
            "L’horloge du serveur de la plateforme avance de plus d’une minute sur celle de "
            "Jalon : synchronisez-les (NTP)."
        ),
    ),
    "LTI_NONCE_MISMATCH": Reason(
        403,
        _("Le jeton ne répond pas à la demande de connexion de Jalon."),
        _(
            "Le nonce du jeton doit être celui que Jalon a envoyé à la plateforme ; relancez "
            "l’activité depuis la plateforme."
        ),
    ),
    "LTI_NONCE_REPLAYED": Reason(
        403,
        _("Ce jeton de lancement a déjà été utilisé."),
        _(
            "Chaque jeton ne sert qu’une fois : relancez l’activité depuis la plateforme. "
            "Un rejeu peut signaler une tentative d’usurpation."
        ),
    ),
    "LTI_UNSUPPORTED_MESSAGE_TYPE": Reason(
        400,
        _("Ce type de message LTI n’est pas pris en charge."),
        _("Jalon accepte LtiResourceLinkRequest et LtiDeepLinkingRequest."),
    ),
    "LTI_WRONG_VERSION": Reason(
        400,
        _("Cette version de LTI n’est pas prise en charge."),
        _("Jalon est un outil LTI 1.3 : la plateforme doit envoyer la version 1.3.0."),
    ),
    "LTI_MISSING_CLAIM": Reason(
        400,
        _("Le jeton de lancement est incomplet."),
        _(
            "Une information obligatoire manque au jeton (voir le détail) ; vérifiez la "
            "configuration de l’outil dans la plateforme."
        ),
    ),
    # Identifiers are stored and looked up as they come; display text is cleaned instead.
    "LTI_UNSTORABLE_CLAIM": Reason(
        400,
        _("Un identifiant du jeton contient un caractère que Jalon ne peut pas enregistrer."),
        _(
            "La plateforme a envoyé un caractère nul ou de contrôle dans l’identifiant "
            "nommé dans le détail (utilisateur, cours, lien ou déploiement) : corrigez-le "
            "dans la plateforme."
        ),
    ),
    "LTI_SESSION_EXPIRED": Reason(
        401,
        _("Votre session Jalon a expiré."),
        _(
            "Rouvrez l’activité depuis la plateforme (Moodle, Canvas, Open edX…) : une session "
            "Jalon prend fin deux heures après le dernier passage, et au plus tard une journée "
            "de travail après l’ouverture de l’activité."
        ),
    ),
    "LTI_ROLE_FORBIDDEN": Reason(
        403,
        _("Votre rôle dans ce cours ne donne pas accès à cette page."),
        _(
            "Les pages d’évaluation sont réservées aux enseignants, concepteurs et "
            "administrateurs du cours dans la plateforme, et à ses assistants d’enseignement "
            "quand le cours le permet ; les réglages du cours, à ses enseignants."
        ),
    ),
}


class LaunchRejected(Exception):  # noqa: N818 (a refusal, not a programming error)
    """A launch (or an LTI session) is refused for ``code``; ``detail`` names a claim."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        if code not in REASONS:
            raise ValueError(f"unknown reason code {code}")
        super().__init__(code)
        self.code = code
        self.detail = detail
        # Filled in by the view when known; the only launch data a refusal may log.
        self.issuer: str | None = None
        self.client_id: str | None = None
        # The language of the launch (from the token, read unchecked), for the error page.
        self.locale: str | None = None
        # The parameters of Jalon's login to start again in a new window (from the signed
        # state), when the browser most likely blocked the state cookie.
        self.relaunch: dict[str, str] | None = None

    @property
    def reason(self) -> Reason:
        """Return what the code means."""
        return REASONS[self.code]

    @property
    def status(self) -> int:
        """Return the HTTP status of the refusal."""
        return self.reason.status
