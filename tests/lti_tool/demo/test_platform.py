"""The gaps of lti1p3platform 0.1.8 that the demo platform closes, each shown then closed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from lti1p3platform.exceptions import LtiServiceException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration

from lti_tool.demo.keys import KeyPair, PlatformKeys
from lti_tool.demo.platform import DemoPlatform
from lti_tool.demo.protocol import (
    CLAIM,
    DL_CLAIM,
    JWT_BEARER,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_SCORE,
    DeepLinkError,
    DemoTool,
    DemoUrls,
    TokenRequestError,
)

URLS = DemoUrls("https://jalon.test")
TOOL = DemoTool.jalon("https://jalon.test")


@dataclass
class KeySets:
    """The tool's key set as successive fetches return it (the transport, stubbed)."""

    answers: list[dict[str, Any]]
    refreshes: list[bool] = field(default_factory=list)

    def get(self, url: str, *, refresh: bool = False) -> dict[str, Any]:
        assert url == TOOL.jwks_url
        self.refreshes.append(refresh)
        return self.answers[min(len(self.refreshes), len(self.answers)) - 1]


@pytest.fixture(scope="module")
def tool_key() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture(scope="module")
def platform_keys(tmp_path_factory: pytest.TempPathFactory) -> PlatformKeys:
    return PlatformKeys(tmp_path_factory.mktemp("demo"))


def _platform(keys: PlatformKeys, *tool_keys: KeyPair, **kwargs: Any) -> DemoPlatform:
    answers = [{"keys": [k.public_jwk]} for k in tool_keys]
    return DemoPlatform(urls=URLS, tool=TOOL, keys=keys, key_sets=KeySets(answers), **kwargs)


def _sign(key: KeyPair, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def _deep_link_response(key: KeyPair, **changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "jalon-demo",
        "aud": URLS.issuer,
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": "1",
        DL_CLAIM + "content_items": [{"type": "ltiResourceLink", "title": "E1"}],
        DL_CLAIM + "data": "request-1",
    }
    claims.update(changes)
    return _sign(key, {k: v for k, v in claims.items() if v is not None})


def test_signing_uses_a_loaded_key_with_lti1p3platforms_kid(platform_keys: PlatformKeys) -> None:
    registration = _platform(platform_keys).get_registration()
    token = registration.platform_encode_and_sign({"sub": "2"}, expiration=60)
    header = jwt.get_unverified_header(token)
    # The same kid lti1p3platform computes from the PEM on every call (~90 ms a token).
    plain = Registration().set_platform_private_key(platform_keys.current.private_pem)
    assert header["kid"] == plain.get_kid() == platform_keys.current.kid
    claims = jwt.decode(token, platform_keys.current.private_key.public_key(), algorithms=["RS256"])
    assert claims["exp"] - claims["iat"] == 60
    # Access tokens, which lti1p3platform signs without any kid, carry it too.
    access = registration.encode_and_sign({"sub": "x"}, platform_keys.current.private_pem)
    assert jwt.get_unverified_header(access)["kid"] == platform_keys.current.kid


def test_a_deep_linking_response_with_another_audience_is_refused(
    platform_keys: PlatformKeys, tool_key: KeyPair
) -> None:
    token = _deep_link_response(tool_key, aud="https://another-lms.test")
    platform = _platform(platform_keys, tool_key)
    # lti1p3platform alone decodes with verify_aud off: it accepts the token.
    accepted = LTI1P3PlatformConfAbstract.tool_validate_and_decode(platform, token)
    assert accepted["aud"] == "https://another-lms.test"
    with pytest.raises(DeepLinkError, match="Audience"):
        _platform(platform_keys, tool_key).validate_deeplinking_resp({"JWT": token})


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": None}, "exp"),
        ({"iat": None}, "iat"),
        ({"iss": "someone-else"}, "issuer"),
        ({CLAIM + "deployment_id": "2"}, "deployment_id"),
        ({CLAIM + "version": "1.1"}, "version"),
        ({"nonce": None}, "nonce"),
        ({DL_CLAIM + "content_items": [{"title": "no type"}]}, "no type"),
    ],
)
def test_a_deep_linking_response_lti1p3platform_lets_through_is_refused(
    platform_keys: PlatformKeys, tool_key: KeyPair, changes: dict[str, Any], reason: str
) -> None:
    token = _deep_link_response(tool_key, **changes)
    with pytest.raises(DeepLinkError, match=reason):
        _platform(platform_keys, tool_key).validate_deeplinking_resp({"JWT": token})


def test_a_response_within_the_clock_leeway_is_accepted(
    platform_keys: PlatformKeys, tool_key: KeyPair
) -> None:
    token = _deep_link_response(tool_key, iat=int(time.time()) + 30)
    items = _platform(platform_keys, tool_key).validate_deeplinking_resp({"JWT": token})
    assert items[0]["title"] == "E1"


def test_an_unknown_kid_refetches_the_tool_key_set_once(
    platform_keys: PlatformKeys, tool_key: KeyPair
) -> None:
    rotated = KeyPair.generate()
    platform = _platform(platform_keys, tool_key, rotated)
    platform.validate_deeplinking_resp({"JWT": _deep_link_response(rotated)})
    assert platform.key_sets.refreshes == [False, True]  # type: ignore[attr-defined]

    stranger = KeyPair.generate()
    platform = _platform(platform_keys, tool_key)
    with pytest.raises(DeepLinkError, match="Unable to find public key"):
        platform.validate_deeplinking_resp({"JWT": _deep_link_response(stranger)})
    assert platform.key_sets.refreshes == [False, True]  # type: ignore[attr-defined]


def _access_token(platform: DemoPlatform, tool_key: KeyPair, scope: str) -> str:
    now = int(time.time())
    assertion = _sign(
        tool_key,
        {
            "iss": "jalon-demo",
            "sub": "jalon-demo",
            "aud": URLS.token,
            "iat": now,
            "exp": now + 60,
            "jti": f"j-{time.monotonic_ns()}",
        },
    )
    answer = platform.get_access_token(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
            "scope": scope,
        }
    )
    return str(answer["access_token"])


def test_a_token_opens_only_the_operations_of_its_scopes(
    platform_keys: PlatformKeys, tool_key: KeyPair
) -> None:
    platform = _platform(platform_keys, tool_key)
    token = _access_token(platform, tool_key, SCOPE_LINEITEM_READONLY)
    # lti1p3platform's check is "any scope of the service": posting scores would pass.
    assert LTI1P3PlatformConfAbstract.validate_token(
        platform, token, [SCOPE_LINEITEM_READONLY, SCOPE_SCORE]
    )
    assert platform.validate_token(token, [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY])
    with pytest.raises(LtiServiceException) as refused:
        platform.validate_token(token, [SCOPE_SCORE])
    assert refused.value.status_code == 403


def test_a_bad_token_is_a_401_not_an_error(platform_keys: PlatformKeys, tool_key: KeyPair) -> None:
    platform = _platform(platform_keys, tool_key)
    expired = jwt.encode(
        {"iss": URLS.issuer, "sub": "jalon-demo", "scopes": SCOPE_SCORE, "exp": 1},
        platform_keys.current.private_key,
        algorithm="RS256",
    )
    # lti1p3platform alone lets PyJWT's exception through (a 500 in a view).
    with pytest.raises(jwt.ExpiredSignatureError):
        LTI1P3PlatformConfAbstract.validate_token(platform, expired, [SCOPE_SCORE])
    for token in (expired, "garbage", _sign(tool_key, {"iss": URLS.issuer, "sub": "jalon-demo"})):
        with pytest.raises(LtiServiceException) as refused:
            platform.validate_token(token, [SCOPE_SCORE])
        assert refused.value.status_code == 401


def test_the_token_endpoint_consumes_each_jti(
    platform_keys: PlatformKeys, tool_key: KeyPair
) -> None:
    seen: set[str] = set()

    def consume(jti: str, _exp: int) -> bool:
        fresh = jti not in seen
        seen.add(jti)
        return fresh

    platform = _platform(platform_keys, tool_key, consume_jti=consume)
    now = int(time.time())
    assertion = _sign(
        tool_key,
        {
            "iss": "jalon-demo",
            "sub": "jalon-demo",
            "aud": URLS.token,
            "iat": now,
            "exp": now + 60,
            "jti": "once",
        },
    )
    request = {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        "scope": SCOPE_SCORE,
    }
    assert platform.get_access_token(dict(request))["scope"] == SCOPE_SCORE
    with pytest.raises(TokenRequestError, match="already used"):
        platform.get_access_token(dict(request))


def test_the_platform_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    first = PlatformKeys(tmp_path)
    assert (tmp_path / "demo-lms-key.pem").stat().st_mode & 0o777 == 0o600
    assert PlatformKeys(tmp_path).current.kid == first.current.kid
    old = first.current.kid
    new = first.rotate().kid
    reloaded = PlatformKeys(tmp_path)
    assert [k["kid"] for k in reloaded.jwks()["keys"]] == [new, old]
    assert all("d" not in k for k in reloaded.jwks()["keys"])  # public parts only
