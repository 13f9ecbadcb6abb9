"""vc+jwt: joserfc signs, jwcrypto (a second JOSE implementation) verifies."""

from __future__ import annotations

import base64
import json

import pytest
from jwcrypto import jwk, jws

from lti_tool.certification.ob3 import JwtError, generate_key, sign_jwt
from lti_tool.certification.ob3.jose import read_jwt, verify_jwt
from tests.lti_tool.certification.ob3_support import KEY_URL, credential


def _jwcrypto_verify(token: str, public_key: object) -> dict[str, object]:
    checker = jws.JWS()
    checker.deserialize(token)
    checker.verify(jwk.JWK.from_pyca(public_key), alg="Ed25519")
    payload: dict[str, object] = json.loads(checker.payload)
    return payload


def test_jwt_is_a_vc_jose_cose_token_verified_by_jwcrypto() -> None:
    key = generate_key()
    document = credential()
    token = sign_jwt(document, key, kid=KEY_URL)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "Ed25519", "typ": "vc+jwt", "cty": "vc", "kid": KEY_URL}
    # The payload is the credential itself: no `vc` claim (VC-JOSE-COSE forbids it).
    assert _jwcrypto_verify(token, key.public_key()) == document
    assert verify_jwt(token, key.public_key()) == document


def test_jwcrypto_refuses_a_tampered_payload_and_another_key() -> None:
    key = generate_key()
    token = sign_jwt(credential(), key, kid=KEY_URL)
    head, payload, signature = token.split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    document["name"] = "Autre"
    forged_payload = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=")
    forged = f"{head}.{forged_payload.decode()}.{signature}"
    with pytest.raises(jws.InvalidJWSSignature):
        _jwcrypto_verify(forged, key.public_key())
    with pytest.raises(JwtError, match="signature"):
        verify_jwt(forged, key.public_key())
    with pytest.raises(jws.InvalidJWSSignature):
        _jwcrypto_verify(token, generate_key().public_key())
    with pytest.raises(JwtError, match="signature"):
        verify_jwt(token, generate_key().public_key())


@pytest.mark.parametrize("bad", ["", "a.b", "not a token", "e30.e30.e30.e30"])
def test_reading_what_is_not_a_token_fails_with_a_reason(bad: str) -> None:
    with pytest.raises(JwtError, match="compact JWS"):
        read_jwt(bad)
