"""The certifier's settings: its identity, its Caisse des Dépôts identifiers, retention."""

from __future__ import annotations

import pytest

from lti_tool.config import ConfigError, Settings

BASE = {"JALON_SECRET_KEY": "s" * 32}


def test_defaults_name_a_certifier_and_keep_identities_a_year() -> None:
    certifier = Settings.from_env(BASE).certifier
    assert certifier.name == "Organisme certificateur"
    assert certifier.id_client is None
    assert certifier.identity_retention_days == 365


def test_every_variable_is_read() -> None:
    certifier = Settings.from_env(
        BASE
        | {
            "JALON_CERTIFIER_NAME": "École Exemple",
            "JALON_CERTIFIER_URL": "https://ecole.example",
            "JALON_CERTIFIER_EMAIL": "jury@ecole.example",
            "JALON_CERTIFIER_ID_CLIENT": "AB123456",
            "JALON_CERTIFIER_ID_CONTRAT": "MCFCER000123",
            "JALON_RETENTION_IDENTITY_DAYS": "90",
        }
    ).certifier
    assert (certifier.name, certifier.url, certifier.email) == (
        "École Exemple",
        "https://ecole.example",
        "jury@ecole.example",
    )
    assert (certifier.id_client, certifier.id_contrat) == ("AB123456", "MCFCER000123")
    assert certifier.identity_retention_days == 90


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JALON_CERTIFIER_ID_CLIENT", "AB12345"),
        ("JALON_CERTIFIER_ID_CLIENT", "AB1234567"),
        ("JALON_CERTIFIER_ID_CONTRAT", "X" * 21),
        ("JALON_CERTIFIER_URL", "ecole.example"),
        ("JALON_CERTIFIER_EMAIL", "jury"),
        ("JALON_RETENTION_IDENTITY_DAYS", "0"),
    ],
)
def test_a_wrong_value_is_refused_with_its_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(BASE | {name: value})
