"""The words of the identity forms: each field's label, each choice's, each XSD element's."""

from __future__ import annotations

from flask_babel import gettext as _

from lti_tool.certification.identity import ACCESS_ROUTES, INITIATIVES, SEXES, VAE_ROUTES


def labels() -> dict[str, str]:
    """Return each field's label, in the request's language."""
    return {
        "birth_name": _("Nom de naissance"),
        "usage_name": _("Nom d’usage (s’il diffère)"),
        "first_name_1": _("Premier prénom"),
        "first_name_2": _("Deuxième prénom"),
        "first_name_3": _("Troisième prénom"),
        "birth_year": _("Année de naissance"),
        "birth_month": _("Mois de naissance"),
        "birth_day": _("Jour de naissance"),
        "sex": _("Sexe (tel que l’état civil l’indique)"),
        "birth_insee_code": _("Code INSEE de la commune de naissance"),
        "birth_postal_code": _("Code postal de la commune de naissance"),
        "birth_city": _("Commune de naissance"),
        "birth_country_code": _("Pays de naissance, si né·e à l’étranger (code à 3 caractères)"),
        "access_route": _("Voie d’accès à la certification"),
        "vae_route": _("Voie d’accès à la VAE"),
        "registration_initiative": _("À l’initiative de qui l’inscription a été faite"),
        "registration_date": _("Date d’inscription à la certification"),
    }


def choices() -> dict[str, list[tuple[str, str]]]:
    """Return the allowed values of each choice field with their labels."""
    sexes = {"M": _("Masculin"), "F": _("Féminin")}
    routes = {
        "FORMATION_INITIALE_HORS_APPRENTISSAGE": _("Formation initiale, hors apprentissage"),
        "FORMATION_INITIALE_APPRENTISSAGE": _("Apprentissage"),
        "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION": _(
            "Formation continue, hors contrat de professionnalisation"
        ),
        "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION": _(
            "Formation continue, contrat de professionnalisation"
        ),
        "VAE": _("Validation des acquis de l’expérience (VAE)"),
        "EQUIVALENCE_DIPLOME_ETRANGER": _("Équivalence d’un diplôme étranger"),
        "CANDIDAT_LIBRE": _("Candidat libre"),
    }
    vae = {"CONGES_VAE": _("Congé VAE"), "VAE_CLASSIQUE": _("VAE classique")}
    initiatives = {
        "CERTIFIE": _("Le candidat lui-même"),
        "OF": _("L’organisme de formation"),
        "POLE_EMPLOI": _("France Travail (Pôle emploi)"),
        "EMPLOYEUR": _("L’employeur"),
        "AUTRE": _("Autre"),
    }
    return {
        "sex": [(value, sexes[value]) for value in SEXES],
        "access_route": [(value, routes[value]) for value in ACCESS_ROUTES],
        "vae_route": [(value, vae[value]) for value in VAE_ROUTES],
        "registration_initiative": [(value, initiatives[value]) for value in INITIATIVES],
    }


def missing_labels(elements: list[str]) -> list[str]:
    """Return what the accrochage lacks (XSD element names) in the request's words."""
    words = {
        "nomNaissance": _("le nom de naissance"),
        "prenom1": _("le premier prénom"),
        "anneeNaissance": _("l’année de naissance"),
        "sexe": _("le sexe"),
        "codeCommuneNaissance": _(
            "la commune de naissance (code INSEE ou code postal), ou le pays si né·e à l’étranger"
        ),
        "voieAccessVAE": _("la voie d’accès à la VAE"),
    }
    return [words.get(element, element) for element in elements]
