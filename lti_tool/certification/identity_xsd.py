"""What the Caisse des Dépôts' XSD allows of a holder's identity, and the form's fields.

From ``specs/cdc-cpf-accrochage-1.1.2.xsd``: its enumerations, in its order, and the
lengths and ranges of ``cpf:titulaire``; a test reads them back from the XSD.
"""

from __future__ import annotations

import re

# Enumerations of the XSD (simple types modaliteAcces, voieAccesVAE, initiativeInscription,
# genre), in its order.
ACCESS_ROUTES = (
    "FORMATION_INITIALE_HORS_APPRENTISSAGE",
    "FORMATION_INITIALE_APPRENTISSAGE",
    "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION",
    "VAE",
    "EQUIVALENCE_DIPLOME_ETRANGER",
    "CANDIDAT_LIBRE",
)
VAE = "VAE"
VAE_ROUTES = ("CONGES_VAE", "VAE_CLASSIQUE")
INITIATIVES = ("CERTIFIE", "OF", "POLE_EMPLOI", "EMPLOYEUR", "AUTRE")
SEXES = ("M", "F")
# Where a row came from: the school's CSV, the candidate's form, an administrator's form.
SOURCES = ("csv", "form", "admin")
NAME_MAX = 60  # nomNaissance, nomUsage, prenom1-3, libelleCommuneNaissance
FIRST_YEAR = 1900  # anneeNaissance's minInclusive
YOUNGEST = 14  # years: nobody younger sits a professional certification
INSEE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}\Z")
POSTAL = re.compile(r"[0-9]{5}\Z")
COUNTRY = re.compile(r"[0-9A-Z]{3}\Z")
# The fields of the schema, in the order a form or the CSV shows them.
FIELDS = (
    "birth_name",
    "usage_name",
    "first_name_1",
    "first_name_2",
    "first_name_3",
    "birth_year",
    "birth_month",
    "birth_day",
    "sex",
    "birth_insee_code",
    "birth_postal_code",
    "birth_city",
    "birth_country_code",
    "access_route",
    "vae_route",
    "registration_initiative",
    "registration_date",
)
UPPER = frozenset(
    {
        "sex",
        "birth_insee_code",
        "birth_country_code",
        "access_route",
        "vae_route",
        "registration_initiative",
    }
)
