"""What each verification check says, as French msgids the web layer translates.

``N_`` only marks a string for ``pybabel extract`` (one of Babel's default keywords): this
package imports no Flask, so the view calls ``gettext(check.message)`` when it renders.
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 (Babel's keyword for "mark, translate later")
    """Return ``text`` unchanged: it is a msgid, translated where it is shown."""
    return text


MESSAGES: dict[tuple[str, str], str] = {
    ("format", "ok"): N_("Le justificatif est un document JSON ou un JWT lisible."),
    ("format", "ko"): N_("Le justificatif n’est ni un document JSON ni un JWT lisible."),
    ("schema", "ok"): N_("Le justificatif respecte le schéma Open Badges 3.0."),
    ("schema", "ko"): N_("Le justificatif ne respecte pas le schéma Open Badges 3.0."),
    ("key", "ok"): N_("La clé de signature est une clé connue de l’émetteur."),
    ("key", "ko"): N_("La clé de signature n’est pas une clé connue de l’émetteur."),
    ("signature", "ok"): N_("La signature est valide : le justificatif n’a pas été modifié."),
    ("signature", "ko"): N_(
        "La signature n’est pas valide : le justificatif a été modifié "
        "ou n’a pas été signé par l’émetteur."
    ),
    ("signature", "unchecked"): N_("La signature n’a pas pu être vérifiée sans clé connue."),
    ("valid_from", "ok"): N_("Le justificatif est entré en vigueur."),
    ("valid_from", "ko"): N_("Le justificatif n’est pas encore valide."),
    ("valid_until", "ok"): N_("Le justificatif n’a pas expiré."),
    ("valid_until", "ko"): N_("Le justificatif a expiré."),
    ("status", "ok"): N_("Le justificatif n’a pas été révoqué."),
    ("status", "ko"): N_("Le justificatif a été révoqué."),
    ("status", "unknown"): N_("Le statut de révocation du justificatif n’a pas pu être vérifié."),
    ("status", "none"): N_("Le justificatif ne déclare pas de statut de révocation."),
}
