"""A second implementation verifies what Jalon signs: Digital Bazaar's Node VC stack.

``.ci/vc.sh`` installs it in tests/vc (pinned by its lock file); ``tests/vc/verify.mjs``
verifies one credential offline, with the documents Jalon would serve at its URLs (the
key, the issuer profile, the status list) and the W3C contexts from its own packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_tool.certification import links
from lti_tool.certification.ob3 import (
    generate_key,
    issuer_profile_document,
    multikey_document,
    sign,
)
from lti_tool.certification.ob3.loader import OB_V3P0, bundled_document
from lti_tool.certification.ob3.status_list import (
    encode_list,
    new_bitstring,
    set_bit,
    status_list_credential,
)
from tests.conftest import BASE_URL, REPO
from tests.lti_tool.certification.ob3_support import (
    DECIDED,
    KEY_URL,
    STATUS_URL,
    credential,
    issuer,
    signed,
)

NODE = shutil.which("node")
VERIFIER = REPO / "tests" / "vc" / "verify.mjs"
LIBRARY = REPO / "tests" / "vc" / "node_modules" / "@digitalbazaar" / "vc" / "package.json"


def missing() -> list[str]:
    """Name what this machine lacks to run the Node verifier."""
    problems = []
    if NODE is None:
        problems.append("node (Node.js 20: apt-get install nodejs npm)")
    if not LIBRARY.exists():
        problems.append("the @digitalbazaar/vc packages (run: bash .ci/vc.sh)")
    return problems


@pytest.fixture(scope="module", autouse=True)
def _node_verifier() -> None:
    """Skip naming what is missing, or fail under CI, where nothing may be missing."""
    problems = missing()
    if problems:
        message = "the Node VC verifier cannot run here: missing " + "; ".join(problems)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def documents(key: Ed25519PrivateKey, revoked: tuple[int, ...] = ()) -> dict[str, Any]:
    """What Jalon serves at its URLs, as the verifier would fetch it."""
    bits = new_bitstring()
    for index in revoked:
        bits = set_bit(bits, index, True)
    statuses = status_list_credential(
        url=STATUS_URL,
        issuer_id=links.issuer_url(BASE_URL),
        encoded_list=encode_list(bits),
        valid_from=DECIDED,
    )
    return {
        KEY_URL: multikey_document(KEY_URL, links.issuer_url(BASE_URL), key.public_key()),
        links.issuer_url(BASE_URL): issuer_profile_document(issuer(), assertion_methods=[KEY_URL]),
        STATUS_URL: sign(statuses, key, verification_method=KEY_URL, created=DECIDED),
        OB_V3P0: bundled_document(OB_V3P0),
    }


def node_verify(
    tmp_path: Path, document: dict[str, Any], served: dict[str, Any], now: str | None = None
) -> dict[str, Any]:
    source = tmp_path / "input.json"
    given = {"credential": document, "documents": served} | ({"now": now} if now else {})
    source.write_text(json.dumps(given))
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(VERIFIER), str(source)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_a_jalon_credential_verifies_with_digital_bazaars_library(tmp_path: Path) -> None:
    key = generate_key()
    for bloc in ("B2", None):
        result = node_verify(tmp_path, signed(key, credential(bloc=bloc)), documents(key))
        assert result == {"verified": True, "revoked": False, "errors": []}


def test_a_credential_without_recipient_verifies_too(tmp_path: Path) -> None:
    key = generate_key()
    result = node_verify(tmp_path, signed(key, credential(email=None)), documents(key))
    assert result["verified"] is True


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Autre titre"), ("validFrom", "2020-01-01T00:00:00Z")],
)
def test_a_tampered_credential_does_not_verify(tmp_path: Path, field: str, value: str) -> None:
    key = generate_key()
    document = signed(key)
    document[field] = value
    result = node_verify(tmp_path, document, documents(key))
    assert result["verified"] is False
    assert "Invalid signature." in result["errors"]


def test_a_tampered_achievement_does_not_verify(tmp_path: Path) -> None:
    key = generate_key()
    document = signed(key)
    document["credentialSubject"]["achievement"]["criteria"]["narrative"] += " (modifié)"
    assert node_verify(tmp_path, document, documents(key))["verified"] is False


def test_another_key_does_not_verify(tmp_path: Path) -> None:
    key = generate_key()
    result = node_verify(tmp_path, signed(generate_key()), documents(key))
    assert result["verified"] is False


def test_a_key_its_controller_does_not_list_is_refused(tmp_path: Path) -> None:
    key = generate_key()
    served = documents(key)
    served[links.issuer_url(BASE_URL)] = issuer_profile_document(issuer())
    result = node_verify(tmp_path, signed(key), served)
    assert result["verified"] is False


def test_the_status_list_reports_a_revoked_credential(tmp_path: Path) -> None:
    key = generate_key()
    result = node_verify(tmp_path, signed(key, credential(index=7)), documents(key, revoked=(7,)))
    assert result["revoked"] is True
    neighbour = node_verify(
        tmp_path, signed(key, credential(index=8)), documents(key, revoked=(7,))
    )
    assert neighbour["revoked"] is False


def test_an_expired_credential_does_not_verify(tmp_path: Path) -> None:
    key = generate_key()
    document = signed(key, credential(valid_until=DECIDED + timedelta(days=365)))
    assert node_verify(tmp_path, document, documents(key), now="2027-06-01T00:00:00Z")["verified"]
    late = node_verify(tmp_path, document, documents(key), now="2028-01-01T00:00:00Z")
    assert late["verified"] is False
    assert any('is after "validUntil"' in error for error in late["errors"])
