"""verify(): every check a holder's credential goes through, and what each failure says."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from lti_tool.certification.ob3 import Verification, generate_key, sign_jwt, verify
from lti_tool.certification.ob3.messages import MESSAGES
from tests.lti_tool.certification.ob3_support import (
    DECIDED,
    KEY_URL,
    STATUS_URL,
    credential,
    signed,
)

KEY = generate_key()
NOW = DECIDED + timedelta(days=30)
ORDER = ["format", "schema", "key", "signature", "valid_from", "status"]


def run(
    document: dict[str, Any] | str,
    *,
    revoked: bool | None = False,
    now: datetime = NOW,
    keys: dict[str, Any] | None = None,
) -> Verification:
    known = {KEY_URL: KEY.public_key()} if keys is None else keys
    return verify(document, resolve_key=known.get, status_of=lambda u, i: revoked, now=now)


def failed(result: Verification) -> list[str]:
    return [check.code for check in result.checks if not check.ok]


def test_a_signed_credential_passes_every_check_in_order() -> None:
    result = run(signed(KEY))
    assert result.is_valid
    assert [check.code for check in result.checks] == ORDER
    assert result.format == "json"
    assert result.check("key").detail == KEY_URL  # type: ignore[union-attr]
    assert not result.is_revoked
    assert not result.is_expired


def test_the_same_credential_as_json_text_and_as_a_vc_jwt_verifies() -> None:
    assert run(json.dumps(signed(KEY))).is_valid
    document = credential()
    result = run(sign_jwt(document, KEY, kid=KEY_URL))
    assert result.is_valid
    assert result.format == "jwt"
    assert result.credential == document


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, i))
    else:
        yield path


SIGNED = signed(KEY)
LEAVES = [
    path
    for path in _leaves(SIGNED)
    # The signature itself: changing it is tested below.
    if path[:2] != ("proof", 0) or path[2] != "proofValue"
]


@pytest.mark.parametrize("path", LEAVES, ids=["/".join(map(str, p)) for p in LEAVES])
def test_tampering_with_any_field_fails_the_signature(path: tuple[Any, ...]) -> None:
    document = copy.deepcopy(SIGNED)
    target = document
    for step in path[:-1]:
        target = target[step]
    value = target[path[-1]]
    target[path[-1]] = (not value) if isinstance(value, bool) else f"{value}x"
    result = run(document, keys={KEY_URL: KEY.public_key(), f"{KEY_URL}x": KEY.public_key()})
    assert not result.is_valid
    assert "signature" in failed(result) or "key" in failed(result)


def test_a_changed_proof_value_fails_with_the_reason() -> None:
    document = copy.deepcopy(SIGNED)
    value = document["proof"][0]["proofValue"]
    document["proof"][0]["proofValue"] = value[:-2] + ("11" if value[-2:] != "11" else "22")
    result = run(document)
    assert failed(result) == ["signature"]
    assert result.check("signature").message == MESSAGES["signature", "ko"]  # type: ignore[union-attr]
    assert "does not match" in result.check("signature").detail  # type: ignore[union-attr]


def test_a_credential_signed_by_another_key_fails() -> None:
    result = run(signed(generate_key()))
    assert failed(result) == ["signature"]


def test_an_unknown_key_is_reported_and_the_signature_left_unchecked() -> None:
    result = run(signed(KEY), keys={})
    assert failed(result) == ["key", "signature"]
    assert result.check("signature").outcome == "unchecked"  # type: ignore[union-attr]
    assert result.check("key").detail == KEY_URL  # type: ignore[union-attr]


def test_an_unsigned_credential_is_not_valid() -> None:
    result = run(credential())
    assert failed(result) == ["key", "signature"]
    assert "no DataIntegrityProof" in result.check("key").detail  # type: ignore[union-attr]


def test_an_expired_credential_says_so() -> None:
    document = signed(KEY, credential(valid_until=DECIDED + timedelta(days=365)))
    assert run(document).is_valid
    result = run(document, now=DECIDED + timedelta(days=366))
    assert failed(result) == ["valid_until"]
    assert result.is_expired
    assert result.check("valid_until").message == "Le justificatif a expiré."  # type: ignore[union-attr]


def test_a_credential_not_yet_valid_says_so() -> None:
    result = run(signed(KEY), now=DECIDED - timedelta(seconds=1))
    assert failed(result) == ["valid_from"]


def test_the_status_is_read_from_the_credentials_list_and_index() -> None:
    asked: list[tuple[str, int]] = []

    def status_of(url: str, index: int) -> bool | None:
        asked.append((url, index))
        return False

    verify(SIGNED, resolve_key={KEY_URL: KEY.public_key()}.get, status_of=status_of, now=NOW)
    assert asked == [(STATUS_URL, 7)]


def test_a_revoked_credential_says_so() -> None:
    result = run(signed(KEY), revoked=True)
    assert failed(result) == ["status"]
    assert result.is_revoked
    assert result.check("status").message == "Le justificatif a été révoqué."  # type: ignore[union-attr]


def test_an_unreadable_status_list_is_not_taken_for_a_valid_status() -> None:
    result = run(signed(KEY), revoked=None)
    assert failed(result) == ["status"]
    assert result.check("status").outcome == "unknown"  # type: ignore[union-attr]
    assert not result.is_revoked


def test_a_credential_breaking_the_schema_names_where() -> None:
    document = copy.deepcopy(SIGNED)
    del document["credentialSubject"]["achievement"]["criteria"]
    result = run(document)
    assert "schema" in failed(result)
    assert "credentialSubject/achievement" in result.check("schema").detail  # type: ignore[union-attr]
    assert "criteria" in result.check("schema").detail  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", "a.b.c", "🙂"])
def test_what_is_neither_json_nor_a_jwt_stops_at_the_first_check(text: str) -> None:
    result = verify(text, resolve_key=lambda url: None, status_of=lambda url, i: None, now=NOW)
    assert [(c.code, c.ok) for c in result.checks] == [("format", False)]
    assert not result.is_valid
    assert result.credential is None


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="naive"):
        verify(
            SIGNED,
            resolve_key=lambda u: None,
            status_of=lambda u, i: None,
            now=datetime(2027, 1, 1),
        )


def test_every_message_is_translated_in_the_english_catalogue() -> None:
    from babel.messages.pofile import read_po

    from tests.conftest import REPO

    path = REPO / "lti_tool" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    for message in MESSAGES.values():
        entry = catalogue.get(message)
        assert entry is not None, message
        assert entry.string, message
