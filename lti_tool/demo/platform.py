"""The platform side of LTI 1.3, on lti1p3platform, with its gaps closed.

lti1p3platform builds and signs the id_token, checks the tool's JWTs (client assertions and
deep-linking responses) and the access tokens the AGS/NRPS endpoints receive. Measured gaps,
each closed here (and tested in ``tests/lti_tool/demo/test_platform.py``):

- it signs every token with a PEM string and recomputes the ``kid`` from the private key each
  time (~90 ms a token) → :class:`DemoRegistration` signs with a key loaded once;
- the tool's JWTs are decoded with ``verify_aud`` off and no issuer, expiry or ``iat``
  requirement → :meth:`DemoPlatform.tool_validate_and_decode` requires and checks them;
- the tool's key set is fetched once per registration object and never refetched on an
  unknown ``kid`` → an injected :class:`~lti_tool.demo.keys.KeySetProvider`, refetched once;
- the token endpoint ignores ``client_assertion_type``, ``sub`` and ``jti`` and grants every
  LTI scope asked for → checked, single-use assertions, scopes ⊆ requested ∩ allowed;
- an access token with *any* scope of a service opens every operation of it, and a bad token
  raises instead of answering 401 → per-operation scopes, 401 for bad tokens, 403 for
  missing scopes;
- the deep-linking response is not checked for ``deployment_id``, ``nonce``, version or the
  echoed ``data``, and a content item without ``type`` crashes → checked;
- the OIDC request, the deep-linking settings, the launch presentation and the launch form
  have gaps of their own, closed in :mod:`lti_tool.demo.launches`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from lti1p3platform.constants import LTI_1P3_ACCESS_TOKEN_REQUIRED_CLAIMS
from lti1p3platform.exceptions import (
    LtiDeepLinkingResponseException,
    LtiException,
    LtiServiceException,
)
from lti1p3platform.ltiplatform import JWKS, AccessTokenResponse, LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration

from lti_tool.demo.keys import KeyPair, KeySetError, KeySetProvider, PlatformKeys
from lti_tool.demo.protocol import (
    CLAIM,
    JWT_BEARER,
    LEEWAY,
    DeepLinkError,
    DemoTool,
    DemoUrls,
    TokenRequestError,
)


class DemoRegistration(Registration):  # type: ignore[misc]
    """lti1p3platform's registration, signing with a loaded key and publishing every key."""

    def __init__(self, keys: PlatformKeys) -> None:
        self.keys = keys
        self.set_platform_private_key(keys.current.private_pem)
        self.set_platform_public_key(keys.current.public_pem)

    def get_kid(self) -> str:
        """Return the current key's id without re-reading the PEM."""
        return self.keys.current.kid

    def get_jwks(self) -> list[dict[str, Any]]:
        """Publish the current key and the one it replaced."""
        return self.keys.jwks()["keys"]

    @staticmethod
    def encode_and_sign(
        payload: dict[str, Any],
        private_key: str,
        headers: Mapping[str, Any] | None = None,
        expiration: int | None = None,
    ) -> str:
        """Sign like lti1p3platform does, with the key loaded once and its ``kid`` set."""
        pair = KeyPair.from_pem(private_key)
        if expiration:
            now = int(time.time())
            payload.update(iat=now, exp=now + expiration)
        return jwt.encode(
            payload,
            pair.private_key,
            algorithm="RS256",
            headers={"kid": pair.kid, **(headers or {})},
        )

    def platform_encode_and_sign(
        self, payload: dict[str, Any], expiration: int | None = None
    ) -> str:
        """Sign a platform message (id_token) with the current key."""
        return self.encode_and_sign(payload, self.keys.current.private_pem, expiration=expiration)


class DemoPlatform(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
    """The demo LMS's side of one tool registration, built per request."""

    def init_platform_config(
        self,
        *,
        urls: DemoUrls,
        tool: DemoTool,
        keys: PlatformKeys,
        key_sets: KeySetProvider,
        consume_jti: Callable[[str, int], bool] | None = None,
    ) -> None:
        """Keep what the protocol checks need; ``consume_jti`` makes assertions single-use."""
        self.urls = urls
        self.tool = tool
        self.keys = keys
        self.key_sets = key_sets
        self.consume_jti = consume_jti
        self._jwt_audience: str | None = None
        self._tool_key_set: JWKS | None = None
        self.set_accepted_deeplinking_types(["ltiResourceLink"])
        self.get_registration()

    def get_registration_by_params(self, **kwargs: Any) -> DemoRegistration:
        """Return the one registration this platform holds: the tool's."""
        registration: DemoRegistration = (
            DemoRegistration(self.keys)
            .set_iss(self.urls.issuer)
            .set_client_id(self.tool.client_id)
            .set_deployment_id(self.tool.deployment_id)
            .set_oidc_login_url(self.tool.login_url)
            .set_launch_url(self.tool.launch_url)
            .set_deeplink_launch_url(self.tool.deep_link_url)
            .set_tool_key_set_url(self.tool.jwks_url)
        )
        return registration

    # -- the tool's keys -----------------------------------------------------------------

    def get_tool_key_set(self) -> JWKS:
        """Return the tool's key set from the injected provider."""
        if self._tool_key_set is None:
            self._tool_key_set = self._fetch_tool_keys(refresh=False)
        return self._tool_key_set

    def _fetch_tool_keys(self, *, refresh: bool) -> JWKS:
        try:
            return self.key_sets.get(self.tool.jwks_url, refresh=refresh)
        except KeySetError as exc:
            raise LtiException(str(exc)) from exc

    def get_tool_public_key(self) -> bytes:
        """Find the key of the JWT's ``kid``; refetch the key set once if it is unknown."""
        try:
            return super().get_tool_public_key()  # type: ignore[no-any-return]
        except LtiException as exc:
            if str(exc) != "Unable to find public key":
                raise
            self._tool_key_set = self._fetch_tool_keys(refresh=True)
            return super().get_tool_public_key()  # type: ignore[no-any-return]

    def tool_validate_and_decode(self, jwt_token_string: str) -> dict[str, Any]:
        """Verify a JWT the tool signed: signature, RS256, issuer, audience, exp and iat."""
        self.validate_jwt_format(jwt_token_string)
        public_key = self.get_tool_public_key()
        claims: dict[str, Any] = jwt.decode(
            jwt_token_string,
            public_key,
            algorithms=["RS256"],
            audience=self._jwt_audience,
            issuer=self.tool.client_id,
            leeway=LEEWAY,
            options={"require": ["iss", "aud", "exp", "iat"]},
        )
        return claims

    # -- OAuth2 client credentials (AGS/NRPS tokens) -------------------------------------

    def get_access_token(self, token_request_data: dict[str, Any]) -> AccessTokenResponse:
        """Check the client assertion, grant requested ∩ allowed scopes, sign a token."""
        missing = sorted(LTI_1P3_ACCESS_TOKEN_REQUIRED_CLAIMS - token_request_data.keys())
        if missing:
            raise TokenRequestError("invalid_request", f"missing {', '.join(missing)}")
        if token_request_data["grant_type"] != "client_credentials":
            raise TokenRequestError("unsupported_grant_type", "only client_credentials")
        if token_request_data["client_assertion_type"] != JWT_BEARER:
            detail = f"client_assertion_type must be {JWT_BEARER}"
            raise TokenRequestError("invalid_request", detail)
        self._jwt_audience = self.urls.token
        try:
            claims = self.tool_validate_and_decode(token_request_data["client_assertion"])
        except (jwt.InvalidTokenError, LtiException) as exc:
            raise TokenRequestError("invalid_client", f"client assertion: {exc}", 401) from exc
        if claims.get("sub") != self.tool.client_id:
            detail = "client assertion: sub is not the client id"
            raise TokenRequestError("invalid_client", detail, 401)
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise TokenRequestError("invalid_client", "client assertion: jti is missing", 401)
        if self.consume_jti is not None and not self.consume_jti(jti, int(claims["exp"])):
            raise TokenRequestError("invalid_client", "client assertion already used", 401)
        requested = list(dict.fromkeys(str(token_request_data["scope"]).split()))
        granted = [scope for scope in requested if scope in self.tool.allowed_scopes]
        if not granted:
            raise TokenRequestError("invalid_scope", "none of the requested scopes is granted")
        response: AccessTokenResponse = super().get_access_token(
            {**token_request_data, "scope": " ".join(granted)}
        )
        return response

    def validate_token(
        self,
        token: str,
        allowed_scopes: list[str] | None = None,
        audience: str | None = None,
    ) -> bool:
        """Accept a token this platform issued to the tool with one of ``allowed_scopes``.

        A bad token is a 401; a good token without the operation's scope is a 403.
        """
        try:
            super().validate_token(token, None, audience)
            claims = jwt.decode(token, options={"verify_signature": False})
        except (jwt.InvalidTokenError, LtiException) as exc:
            raise LtiServiceException("Invalid LTI 1.3 authentication token", 401) from exc
        if claims.get("sub") != self.tool.client_id:
            raise LtiServiceException("Invalid LTI 1.3 authentication token", 401)
        granted = set(str(claims.get("scopes", "")).split())
        if allowed_scopes and not granted.intersection(allowed_scopes):
            raise LtiServiceException("insufficient_scope", 403)
        return True

    # -- deep linking --------------------------------------------------------------------

    def validate_deeplinking_resp(self, token_request_data: dict[str, Any]) -> list[dict[str, Any]]:
        """Verify a deep-linking response; the checked claims stay in :attr:`response_claims`."""
        if not token_request_data.get("JWT"):
            raise DeepLinkError("the JWT field is missing")
        self._jwt_audience = self.urls.issuer
        try:
            items = super().validate_deeplinking_resp(token_request_data)
        except (jwt.InvalidTokenError, LtiException, LtiDeepLinkingResponseException) as exc:
            raise DeepLinkError(str(exc)) from exc
        except (KeyError, TypeError) as exc:
            raise DeepLinkError("a content item has no type") from exc
        # The same string was just verified; lti1p3platform keeps its body here.
        body: dict[str, Any] = self._jwt["body"]
        if body.get(CLAIM + "version") != "1.3.0":
            raise DeepLinkError("version is not 1.3.0")
        if body.get(CLAIM + "deployment_id") != self.tool.deployment_id:
            raise DeepLinkError("unknown deployment_id")
        if not body.get("nonce"):
            raise DeepLinkError("nonce is missing")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise DeepLinkError("content_items is not a list of objects")
        self.response_claims = body
        return items
