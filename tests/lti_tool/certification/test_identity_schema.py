"""The identity schema: what the Caisse's XSD refuses is refused here, the field named."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from marshmallow import ValidationError

from lti_tool.certification.identity import (
    ACCESS_ROUTES,
    INITIATIVES,
    VAE_ROUTES,
    IdentityData,
    field_errors,
    identity_schema,
    missing_for_accrochage,
)
from lti_tool.certification.models import HolderIdentity
from tests.conftest import SHARED

VALID = {
    "birth_name": "  Dupré   de  la Tour ",
    "first_name_1": "Camille",
    "birth_year": "1990",
    "birth_month": "5",
    "birth_day": "14",
    "sex": "f",
    "birth_insee_code": "2a004",
    "birth_city": "Ajaccio",
    "access_route": "vae",
    "vae_route": "CONGES_VAE",
    "registration_initiative": "CERTIFIE",
    "registration_date": "2025-11-20",
}


def errors_of(data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        identity_schema().load(data)
    return field_errors(caught.value)


def test_a_valid_identity_is_trimmed_and_upper_cased() -> None:
    data = identity_schema().load(VALID)
    assert isinstance(data, IdentityData)
    assert data.birth_name == "Dupré de la Tour"
    assert (data.birth_year, data.birth_month, data.birth_day) == (1990, 5, 14)
    assert (data.sex, data.birth_insee_code, data.access_route) == ("F", "2A004", "VAE")
    assert data.registration_date == dt.date(2025, 11, 20)
    assert data.usage_name is None


def test_the_enumerations_are_the_xsds() -> None:
    xsd = (SHARED / "specs" / "cdc-cpf-accrochage-1.1.2.xsd").read_text(encoding="utf-8")
    for name, values in (
        ("modaliteAcces", ACCESS_ROUTES),
        ("voieAccesVAE", VAE_ROUTES),
        ("initiativeInscription", INITIATIVES),
    ):
        block = xsd.split(f'<xsd:simpleType name="{name}">', 1)[1].split("</xsd:simpleType>")[0]
        assert (
            tuple(block.split('value="')[i].split('"')[0] for i in range(1, len(values) + 1))
            == values
        )
        assert block.count("<xsd:enumeration") == len(values)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"zz": "1"}, "zz", "champ inconnu"),
        ({"birth_name": ""}, "birth_name", "obligatoire"),
        ({"first_name_1": "   "}, "first_name_1", "obligatoire"),
        ({"birth_name": "Du\x01pont"}, "birth_name", "XML 1.0 ne peut pas porter (U+0001)"),
        ({"first_name_2": "Jean\ufffe"}, "first_name_2", "XML 1.0 ne peut pas porter (U+FFFE)"),
        ({"usage_name": "Line\u2028Sep"}, "usage_name", "saut de ligne"),
        ({"birth_city": "a\tb"}, "birth_city", "contrôle"),
        ({"birth_name": "x" * 61}, "birth_name", "au plus 60"),
        ({"birth_insee_code": "7505"}, "birth_insee_code", "code INSEE"),
        ({"birth_insee_code": "2C004"}, "birth_insee_code", "code INSEE"),
        ({"birth_insee_code": "750560"}, "birth_insee_code", "code INSEE"),
        ({"birth_postal_code": "750011"}, "birth_postal_code", "5 chiffres"),
        ({"birth_postal_code": "7500A"}, "birth_postal_code", "5 chiffres"),
        ({"birth_country_code": "ESPA"}, "birth_country_code", "3 caractères"),
        ({"sex": "X"}, "sex", "M, F"),
        ({"access_route": "APPRENTISSAGE"}, "access_route", "n’est pas une valeur permise"),
        ({"initiative": "OF"}, "initiative", "champ inconnu"),
        ({"birth_year": "1899"}, "birth_year", "entre 1900 et 2099"),
        ({"birth_year": "mil neuf cent"}, "birth_year", "nombre entier"),
        ({"birth_month": "13"}, "birth_month", "entre 1 et 12"),
        ({"birth_month": "2", "birth_day": "30"}, "birth_day", "n’existe pas"),
        ({"birth_year": "2020"}, "birth_year", "moins de 14 ans"),
        ({"birth_month": None}, "birth_month", "quand le jour est donné"),
        ({"registration_date": "20/11/2025"}, "registration_date", "n’est pas une date"),
        ({"registration_date": "2999-01-01"}, "registration_date", "passée"),
        ({"first_name_2": None, "first_name_3": "Zoé"}, "first_name_2", "troisième prénom"),
        ({"access_route": "CANDIDAT_LIBRE"}, "vae_route", "VAE"),
    ],
)
def test_each_refusal_names_its_field(change: dict[str, Any], field: str, reason: str) -> None:
    errors = errors_of({**VALID, **change})
    assert field in errors, errors
    assert any(reason in message for message in errors[field]), errors[field]


def test_a_year_alone_is_a_birth_date() -> None:
    data = identity_schema().load(
        {"birth_name": "Dupont", "first_name_1": "Ana", "birth_year": "1985"}
    )
    assert (data.birth_year, data.birth_month, data.birth_day) == (1985, None, None)


def test_a_payload_that_is_not_a_mapping_is_refused() -> None:
    assert "_schema" in errors_of(["birth_name"])  # type: ignore[arg-type]


def test_what_the_accrochage_lacks_is_named_as_the_xsd_names_it() -> None:
    assert missing_for_accrochage(None) == [
        "nomNaissance",
        "prenom1",
        "anneeNaissance",
        "sexe",
        "codeCommuneNaissance",
    ]
    identity = HolderIdentity(birth_name="Dupont", first_name_1="Ana", access_route="VAE")
    assert missing_for_accrochage(identity) == [
        "anneeNaissance",
        "sexe",
        "codeCommuneNaissance",
        "voieAccessVAE",
    ]
    identity.birth_year, identity.sex, identity.vae_route = 1985, "F", "VAE_CLASSIQUE"
    identity.birth_country_code = "134"  # born abroad: the XSD's nil postal code
    assert missing_for_accrochage(identity) == []
