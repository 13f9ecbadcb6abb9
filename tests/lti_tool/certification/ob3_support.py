"""What the OB 3.0 tests share: the shipped référentiel, an issuer, a signed credential."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jsonschema
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_tool.certification import links
from lti_tool.certification.ob3 import (
    IssuerProfile,
    Recipient,
    achievement_for_bloc,
    achievement_for_title,
    build_credential,
    sign,
)
from referentiel.loader import load_file
from referentiel.model import Framework
from tests.conftest import BASE_URL, REPO, SHARED

SPECS = SHARED / "specs" / "ob3"
PUBLIC_ID = "0b8f6f0e-6d3c-4d8e-9c56-3d1f2a7b9e10"
KEY_URL = links.key_url(BASE_URL, "2026-12-a")
STATUS_URL = links.status_list_url(BASE_URL, 1)
DECIDED = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
EMAIL = "Lea.Martin@Example.org"


@cache
def framework() -> Framework:
    return load_file(REPO / "referentiel" / "data" / "community-manager-n6.yaml")


def issuer() -> IssuerProfile:
    return IssuerProfile(
        id=links.issuer_url(BASE_URL),
        name="École Jalon de communication",
        url="https://ecole.example",
        email="certification@ecole.example",
    )


@cache
def schema_validator() -> jsonschema.Draft201909Validator:
    """The 1EdTech OB 3.0 schema from shared/specs (not Jalon's copy), with formats checked."""
    schema = json.loads((SPECS / "ob_v3p0_achievementcredential_schema.json").read_text())
    return jsonschema.Draft201909Validator(
        schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER
    )


def schema_errors(credential: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in schema_validator().iter_errors(credential)
    ]


def credential(
    *,
    bloc: str | None = "B2",
    email: str | None = EMAIL,
    valid_from: datetime = DECIDED,
    valid_until: datetime | None = None,
    index: int = 7,
    is_validated: bool = True,
) -> dict[str, Any]:
    achievement = (
        achievement_for_title(framework(), BASE_URL)
        if bloc is None
        else achievement_for_bloc(framework(), bloc, BASE_URL)
    )
    return build_credential(
        public_id=PUBLIC_ID,
        issuer=issuer(),
        achievement=achievement,
        recipient=Recipient.from_email(email) if email else None,
        is_validated=is_validated,
        decided_at=DECIDED,
        valid_from=valid_from,
        valid_until=valid_until,
        status_list_url=STATUS_URL,
        status_index=index,
    )


def signed(key: Ed25519PrivateKey, document: dict[str, Any] | None = None) -> dict[str, Any]:
    return sign(
        document or credential(),
        key,
        verification_method=KEY_URL,
        created=DECIDED + timedelta(minutes=5),
    )
