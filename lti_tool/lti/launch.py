"""The OIDC login and the message launch: pylti1p3's Flask classes, hardened.

pylti1p3 2.0.0 runs the protocol; these subclasses close its measured gaps:

- the state is signed by Jalon and bound to the browser (a partitioned cookie set at login,
  :mod:`lti_tool.lti.cookies`, or the platform's postMessage storage), never to a
  server-side "state is valid" record another browser could reuse; the login stores
  nothing (:mod:`lti_tool.lti.state`);
- the nonce is the one derived from this state at login, and single-use: it is added
  atomically to the store when the launch succeeds (with the launch data), and kept until
  the token expires;
- ``aud`` must contain the client id, ``azp`` must equal it when present (and be present
  when ``aud`` names several clients);
- the signature is checked with RS256 only, the platform key cached per process and the key
  set refetched once (rate-limited) on an unknown ``kid``; ±60 s of clock leeway;
- message type, LTI version and required claims are checked; ``sub`` may be absent only
  for an anonymous resource-link launch (LTI Core §5.3.6.1); an optional claim of the
  wrong type is dropped with a log line (:mod:`lti_tool.lti.claims`).

Every refusal is a :class:`LaunchRejected` with a reason code.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from pylti1p3.actions import Action
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.message_validators.deep_link import DeepLinkMessageValidator
from pylti1p3.session import SessionService

from lti_tool.lti.claims import drop_mistyped
from lti_tool.lti.cookies import StateCookies
from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.jwks import JwksError, PlatformKeys, UnknownKeyError
from lti_tool.lti.state import (
    RELAUNCH_PARAMS,
    STATE_TTL,
    LoginState,
    StateSigner,
    login_params,
    new_browser_id,
)
from lti_tool.lti.storage import LtiStore
from lti_tool.lti.tool_config import DatabaseToolConf, RegisteredPlatform
from lti_tool.storable import first_unstorable

LEEWAY = 60
LAUNCH_TTL = 2 * 3600
ALGORITHM = "RS256"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
MESSAGE_TYPES = frozenset({RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST})


def nonce_key(issuer: str, nonce: str) -> str:
    """Return the store key that marks a nonce of an issuer as used."""
    digest = hashlib.sha256(f"{issuer}\n{nonce}".encode()).hexdigest()
    return f"nonce:{digest}"


def launch_key(launch_id: str) -> str:
    """Return the store key of a launch's data."""
    return f"launch:{launch_id}"


class StoreDataStorage(LaunchDataStorage[Any]):
    """pylti1p3's launch data storage on a Jalon store: JSON values, no session cookie."""

    def __init__(self, store: LtiStore) -> None:
        super().__init__()
        self.store = store

    def get_session_cookie_name(self) -> None:
        """Keys are random and unguessable; no per-browser session id is needed."""
        return None

    def can_set_keys_expiration(self) -> bool:
        """Every value expires."""
        return True

    def get_value(self, key: str) -> Any:
        """Return a stored value."""
        text = self.store.get(key)
        return None if text is None else json.loads(text)

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        """Store a value with a time to live."""
        self.store.set(key, json.dumps(value, separators=(",", ":")), exp or LAUNCH_TTL)

    def check_value(self, key: str) -> bool:
        """Return whether a value exists."""
        return self.store.get(key) is not None


class StoreSessionService(SessionService):
    """pylti1p3's session service without the Flask session cookie.

    pylti1p3 keeps nonces, states and launch data in the signed session cookie by default,
    which grows ~190 bytes per launch and overflows after ~20 launches. Here the login
    keeps nothing (the state is signed, the nonce derived from it) and the launch view
    stores the launch data once the launch is persisted.
    """

    def __init__(self, request: FlaskRequest, store: LtiStore | None = None) -> None:
        self.data_storage = StoreDataStorage(store) if store is not None else None
        self.store = store

    def save_nonce(self, nonce: str) -> None:
        """Keep nothing: the nonce is derived from the signed state."""

    def check_nonce(self, nonce: str) -> bool:
        """Unused: :meth:`JalonMessageLaunch.validate_nonce` compares with the state's."""
        raise NotImplementedError

    def save_state_params(self, state: str, params: dict[str, object]) -> None:
        """Unused: the state carries its parameters, signed."""
        raise NotImplementedError

    def get_state_params(self, state: str) -> Any:
        """Unused: the state carries its parameters, signed."""
        raise NotImplementedError

    def get_launch_data(self, key: str) -> Any:
        """Return a stored launch's claims (for ``MessageLaunch.from_cache``)."""
        if self.data_storage is None:
            return None
        record = self.data_storage.get_value(launch_key(key))
        return None if record is None else record.get("claims")

    def save_launch_data(self, key: str, jwt_body: Any) -> None:
        """Unused: the launch view stores launch data once the launch is persisted."""
        raise NotImplementedError


class _NoHttp:
    """Given to pylti1p3 instead of the ``requests.Session`` it would build per launch.

    Jalon fetches platform keys through :class:`PlatformKeys` and calls services through
    its own clients, so pylti1p3 must never go to the network itself.
    """

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"pylti1p3 tried to use HTTP ({name}); Jalon does its own")


_NO_HTTP: Any = _NoHttp()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class LoginStart:
    """What the login step decided: where to send the browser, and the state's storage."""

    state: LoginState
    nonce: str
    auth_url: str


class JalonOIDCLogin(FlaskOIDCLogin):
    """Third-party initiated login, with reason codes, storing nothing on the server."""

    def __init__(
        self,
        request: FlaskRequest,
        tool_conf: DatabaseToolConf,
        states: StateSigner,
        base_url: str,
    ) -> None:
        super().__init__(
            request,
            tool_conf,
            session_service=StoreSessionService(request),
            cookie_service=StateCookies(request),
        )
        self.tool_conf = tool_conf
        self.states = states
        self.base_url = base_url
        self.platform: RegisteredPlatform | None = None

    def param(self, key: str) -> str | None:
        """Return a login parameter, from the query (GET) or the form (POST)."""
        value = self._get_request_param(key)
        return str(value) if value else None

    def validate_oidc_login(self) -> Any:
        """Find the registration of the login request, or refuse with a reason code."""
        iss, login_hint = self.param("iss"), self.param("login_hint")
        target_link_uri = self.param("target_link_uri")
        if not iss or not login_hint or not target_link_uri:
            raise LaunchRejected("LTI_LOGIN_INCOMPLETE")
        if _origin(target_link_uri) != _origin(self.base_url):
            raise LaunchRejected("LTI_BAD_TARGET_LINK_URI")
        client_id = self.param("client_id")
        registrations = self.tool_conf.platforms(iss)
        if not registrations:
            raise unknown_issuer(self.tool_conf, iss)
        registration = self._tool_config.find_registration_by_params(
            iss, client_id, action=Action.OIDC_LOGIN, request=self._request
        )
        if registration is None:
            raise LaunchRejected("LTI_UNKNOWN_CLIENT" if client_id else "LTI_AMBIGUOUS_CLIENT")
        if not registration.platform.is_active:
            # Known, but no administrator approved it yet: nothing is sent to the platform.
            raise LaunchRejected("LTI_PLATFORM_PENDING")
        self.platform = registration.platform
        deployment_id = self.param("lti_deployment_id")
        if deployment_id and not self.tool_conf.has_deployment(
            registration.platform, deployment_id
        ):
            raise LaunchRejected("LTI_UNKNOWN_DEPLOYMENT")
        return registration

    def _relaunch_params(self) -> dict[str, str | None]:
        # Without platform storage, the cookie is the only proof: the state keeps what a
        # relaunch in a new window needs if the browser does not send the cookie back.
        return {name: self.param(name) for name in RELAUNCH_PARAMS}

    def start(self, launch_url: str) -> tuple[LoginStart, Any]:
        """Check the login; return where to go and the redirect (which sets the cookie).

        pylti1p3's own preparation is replaced: it stores the nonce and the state's
        parameters in the session, where Jalon stores nothing.
        """
        self._registration = self.validate_oidc_login()
        platform = self.platform
        assert platform is not None  # noqa: S101 (set by validate_oidc_login)
        storage_target = self.param("lti_storage_target")
        state = LoginState(
            browser_id=new_browser_id(),
            platform_id=platform.id,
            issuer=platform.issuer,
            client_id=platform.client_id,
            storage_target=storage_target,
            platform_origin=_origin(platform.auth_login_url) if storage_target else None,
            login=() if storage_target else login_params(self._relaunch_params()),
        )
        text, nonce = self.states.issue(state), self.states.nonce(state)
        self._cookie_service.set_cookie(state.browser_id, state.browser_id, STATE_TTL)
        auth_params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": platform.client_id,
            "redirect_uri": launch_url,
            "state": text,
            "nonce": nonce,
            "login_hint": self.param("login_hint") or "",
        }
        message_hint = self.param("lti_message_hint")
        if message_hint:
            auth_params["lti_message_hint"] = message_hint
        # A login URL that has a query of its own keeps it (pylti1p3 would add a second "?").
        separator = "&" if "?" in platform.auth_login_url else "?"
        auth_url = platform.auth_login_url + separator + urlencode(auth_params)
        start = LoginStart(state=state, nonce=nonce, auth_url=auth_url)
        return start, self.get_redirect(auth_url)


def unknown_issuer(tool_conf: DatabaseToolConf, iss: str) -> LaunchRejected:
    """Return the refusal of an issuer no registration has, naming it.

    An issuer that differs from a registered one only by a trailing slash gets its own
    code, naming both (received, then registered): the administrator sees at once which
    one to correct. The two are not taken for one another: the token's ``iss`` is checked
    as the registration states it.
    """
    other = iss[:-1] if iss.endswith("/") else iss + "/"
    if tool_conf.platforms(other):
        return LaunchRejected("LTI_ISSUER_TRAILING_SLASH", f"{iss[:255]} ≠ {other[:255]}")
    return LaunchRejected("LTI_UNKNOWN_ISSUER", iss[:255])


class JalonMessageLaunch(FlaskMessageLaunch):
    """The launch (an id_token posted back with its state), validated strictly."""

    def __init__(
        self,
        request: FlaskRequest,
        tool_conf: DatabaseToolConf,
        store: LtiStore,
        platform_keys: PlatformKeys,
        states: StateSigner,
        *,
        storage_checked: bool = False,
    ) -> None:
        super().__init__(
            request,
            tool_conf,
            session_service=StoreSessionService(request, store),
            cookie_service=StateCookies(request),
            requests_session=_NO_HTTP,
        )
        self.tool_conf = tool_conf
        self.store = store
        self.platform_keys = platform_keys
        self.states = states
        self.storage_checked = storage_checked
        self.platform: RegisteredPlatform | None = None
        self.login_state: LoginState | None = None
        self.validated_client_id: str | None = None
        self.needs_storage_check = False

    # Helpers -------------------------------------------------------------------------

    def param(self, key: str) -> str | None:
        """Return a form parameter of the launch."""
        value = self._get_request_param(key)
        return str(value) if value else None

    def body(self) -> dict[str, Any]:
        """Return the token's claims (checked only once validation has passed)."""
        return dict(self._jwt.get("body", {}))

    def unverified_claim(self, name: str) -> Any:
        """Return a claim read without any check (for logs and the error page's language)."""
        return self._jwt.get("body", {}).get(name)

    def get_client_id(self) -> str:
        """Return the client id the launch was validated for (not blindly ``aud[0]``)."""
        if self.validated_client_id is None:
            raise LtiException("client id not yet validated")
        return self.validated_client_id

    # Validation, in order -----------------------------------------------------------

    def validate(self) -> JalonMessageLaunch:
        """Validate everything; on success the caller persists and consumes the nonce.

        When the state cookie comes back, nothing is read from the store: a replayed token
        is refused when its nonce cannot be marked used (:meth:`complete`), atomically, in
        the launch's own transaction.
        """
        if self._restored:
            raise LtiException("Can't validate restored launch")
        self._validated = True
        try:
            self.validate_jwt_format()
            self.validate_identifiers()
            self.validate_state()
            if self.needs_storage_check:
                return self
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_nonce()
            self.validate_deployment()
            self.validate_message()
        except Exception:
            self._validated = False
            raise
        return self

    def validate_jwt_format(self) -> JalonMessageLaunch:
        """Decode the token's parts (pylti1p3), refusing a missing or garbled token."""
        if not self.param("state"):
            raise LaunchRejected("LTI_STATE_MISSING")
        if not self.param("id_token"):
            raise LaunchRejected("LTI_TOKEN_MISSING")
        try:
            super().validate_jwt_format()
        except LtiException:
            raise LaunchRejected("LTI_MALFORMED_TOKEN") from None
        if not isinstance(self._jwt.get("header"), dict) or not isinstance(
            self._jwt.get("body"), dict
        ):
            raise LaunchRejected("LTI_MALFORMED_TOKEN")
        return self

    def validate_identifiers(self) -> JalonMessageLaunch:
        """Refuse identifiers the database could not hold, before any is looked up.

        They are keys (of the nonce, the platform, the user, the course, the link): cleaning
        one would name another. Display text is cleaned after validation instead.
        """
        body = self._jwt["body"]
        context, link = body.get(CLAIM + "context"), body.get(CLAIM + "resource_link")
        aud = body.get("aud")
        identifiers = {
            "iss": body.get("iss"),
            "nonce": body.get("nonce"),
            "aud": aud if isinstance(aud, list) else [aud],
            "azp": body.get("azp"),
            "sub": body.get("sub"),
            CLAIM + "deployment_id": body.get(CLAIM + "deployment_id"),
            CLAIM + "context": context.get("id") if isinstance(context, dict) else None,
            CLAIM + "resource_link": link.get("id") if isinstance(link, dict) else None,
        }
        for name, value in identifiers.items():
            if first_unstorable(value) is not None:
                raise LaunchRejected("LTI_UNSTORABLE_CLAIM", name)
        return self

    def validate_state(self) -> JalonMessageLaunch:
        """Check that the state is Jalon's, recent, and from a login in this browser.

        pylti1p3 also accepts a state it recorded as valid on the server, so a replayed
        token succeeds from any browser; here only the browser's own proof counts: the
        state cookie, or the platform storage check done by the launch page's script.
        """
        state = self.states.read(self.param("state") or "")
        if state is None:
            raise LaunchRejected("LTI_STATE_MISMATCH")
        self.login_state = state
        cookie = self._cookie_service.get_cookie(state.browser_id)
        if cookie is not None and secrets.compare_digest(cookie, state.browser_id):
            return self
        # No cookie: a launch with platform storage, or a replay (the cookie goes at the
        # first launch). Name a replay as such; the read is only on this path.
        self._refuse_if_replayed()
        if state.storage_target:
            if self.storage_checked:
                return self
            self.needs_storage_check = True
            return self
        # Most likely a browser blocking third-party cookies (partitioned ones too): the
        # page offers the same login again in a new window, where the cookie is first-party.
        # Not a replay (refused above), and the platform issues a new token only to the
        # user logged in there.
        refusal = LaunchRejected("LTI_STATE_MISMATCH")
        refusal.relaunch = state.relaunch()
        raise refusal

    def _refuse_if_replayed(self) -> None:
        iss, nonce = self.unverified_claim("iss"), self.unverified_claim("nonce")
        if (
            isinstance(iss, str)
            and isinstance(nonce, str)
            and self.store.get(nonce_key(iss, nonce)) is not None
        ):
            raise LaunchRejected("LTI_NONCE_REPLAYED")

    def validate_registration(self) -> JalonMessageLaunch:
        """Find the registration: the login's, which the token must be addressed to."""
        assert self.login_state is not None  # noqa: S101 (set by validate_state)
        header = self._jwt["header"]
        if header.get("alg") != ALGORITHM:
            raise LaunchRejected("LTI_BAD_ALGORITHM")
        body = self._jwt["body"]
        iss = body.get("iss")
        if not isinstance(iss, str) or not iss:
            raise LaunchRejected("LTI_MISSING_CLAIM", "iss")
        platform = self.tool_conf.platform(iss, self.login_state.client_id)
        if platform is None or platform.id != self.login_state.platform_id:
            if not self.tool_conf.platforms(iss):
                raise unknown_issuer(self.tool_conf, iss)
            if iss != self.login_state.issuer:
                raise LaunchRejected(
                    "LTI_ISSUER_MISMATCH", f"{iss[:255]} ≠ {self.login_state.issuer[:255]}"
                )
            raise LaunchRejected("LTI_UNKNOWN_CLIENT")  # removed since the login
        if not platform.is_active:
            # Set back to pending since the login, or a state from before the approval.
            raise LaunchRejected("LTI_PLATFORM_PENDING")
        aud = body.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not audiences:
            raise LaunchRejected("LTI_MISSING_CLAIM", "aud")
        client_id = platform.client_id
        azp = body.get("azp")
        if client_id not in audiences:
            raise LaunchRejected("LTI_WRONG_AUDIENCE")
        if azp is not None and azp != client_id:
            raise LaunchRejected("LTI_AZP_MISMATCH")
        if len(audiences) > 1 and azp is None:
            raise LaunchRejected("LTI_WRONG_AUDIENCE")
        self.validated_client_id = client_id
        registration = self._tool_config.find_registration_by_params(
            iss, client_id, action=Action.MESSAGE_LAUNCH, request=self._request, jwt_body=body
        )
        if registration is None:
            raise LaunchRejected("LTI_UNKNOWN_CLIENT")
        self._registration = registration
        self.platform = platform
        return self

    def validate_jwt_signature(self) -> JalonMessageLaunch:
        """Check signature, audience, issuer and times with the cached platform key."""
        assert self.platform is not None  # noqa: S101 (set by validate_registration)
        kid = self._jwt["header"].get("kid")
        if not isinstance(kid, str) or not kid:
            raise LaunchRejected("LTI_UNKNOWN_KID")
        try:
            key = self.platform_keys.key(self.platform.key_set_url, kid)
        except UnknownKeyError:
            raise LaunchRejected("LTI_UNKNOWN_KID") from None
        except JwksError:
            raise LaunchRejected("LTI_JWKS_UNAVAILABLE") from None
        try:
            jwt.decode(
                self._get_id_token(),
                key,
                algorithms=[ALGORITHM],
                audience=self.get_client_id(),
                issuer=self.platform.issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise LaunchRejected("LTI_TOKEN_EXPIRED") from None
        except jwt.ImmatureSignatureError:
            raise LaunchRejected("LTI_TOKEN_NOT_YET_VALID") from None
        except jwt.InvalidSignatureError:
            raise LaunchRejected("LTI_BAD_SIGNATURE") from None
        except jwt.InvalidAudienceError:
            raise LaunchRejected("LTI_WRONG_AUDIENCE") from None
        except jwt.InvalidIssuerError:
            raise LaunchRejected("LTI_ISSUER_MISMATCH") from None
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchRejected("LTI_MISSING_CLAIM", exc.claim) from None
        except jwt.InvalidTokenError:
            raise LaunchRejected("LTI_MALFORMED_TOKEN") from None
        return self

    def validate_nonce(self) -> JalonMessageLaunch:
        """Check that the nonce is the one this state's login sent to the platform."""
        assert self.login_state is not None  # noqa: S101 (set by validate_state)
        nonce = self._jwt["body"].get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchRejected("LTI_MISSING_CLAIM", "nonce")
        if not secrets.compare_digest(nonce, self.states.nonce(self.login_state)):
            raise LaunchRejected("LTI_NONCE_MISMATCH")
        return self

    def validate_deployment(self) -> JalonMessageLaunch:
        """Check that the deployment is registered for this platform (pylti1p3's check)."""
        deployment_id = self._jwt["body"].get(CLAIM + "deployment_id")
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LaunchRejected("LTI_MISSING_CLAIM", CLAIM + "deployment_id")
        try:
            super().validate_deployment()
        except LtiException:
            raise LaunchRejected("LTI_UNKNOWN_DEPLOYMENT") from None
        return self

    def validate_message(self) -> JalonMessageLaunch:
        """Check message type, version and the claims each message type requires."""
        body = self._jwt["body"]
        message_type = body.get(CLAIM + "message_type")
        if not message_type:
            raise LaunchRejected("LTI_MISSING_CLAIM", CLAIM + "message_type")
        if message_type not in MESSAGE_TYPES:
            raise LaunchRejected("LTI_UNSUPPORTED_MESSAGE_TYPE")
        if body.get(CLAIM + "version") != "1.3.0":
            raise LaunchRejected("LTI_WRONG_VERSION")
        roles = body.get(CLAIM + "roles")
        if not isinstance(roles, list):
            # Required even for an anonymous launch; it may be empty.
            raise LaunchRejected("LTI_MISSING_CLAIM", CLAIM + "roles")
        sub = body.get("sub")
        if sub is not None and (not isinstance(sub, str) or not sub or len(sub) > 255):
            raise LaunchRejected("LTI_MISSING_CLAIM", "sub")
        context = body.get(CLAIM + "context")
        if context is not None and not (isinstance(context, dict) and context.get("id")):
            raise LaunchRejected("LTI_MISSING_CLAIM", CLAIM + "context")
        if message_type == RESOURCE_LINK_REQUEST:
            link = body.get(CLAIM + "resource_link")
            if not isinstance(link, dict) or not link.get("id"):
                raise LaunchRejected("LTI_MISSING_CLAIM", CLAIM + "resource_link")
            if not body.get(CLAIM + "target_link_uri"):
                raise LaunchRejected("LTI_MISSING_CLAIM", CLAIM + "target_link_uri")
        else:
            # Deep Linking 2.0 §3.4: sub is required, and the settings with their return URL.
            if not sub:
                raise LaunchRejected("LTI_MISSING_CLAIM", "sub")
            settings = body.get(DL_CLAIM + "deep_linking_settings")
            if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
                raise LaunchRejected("LTI_MISSING_CLAIM", DL_CLAIM + "deep_linking_settings")
            try:
                DeepLinkMessageValidator().validate(body)
            except LtiException as exc:
                raise LaunchRejected("LTI_MISSING_CLAIM", str(exc)) from None
        drop_mistyped(body)
        return self

    # After validation ---------------------------------------------------------------

    def complete(self, launch_id: str, record: str) -> None:
        """Use up the nonce and store the launch's data, in one step.

        The nonce is kept until the token has expired (plus leeway). Refuse the launch if
        it was used already: a replay, or another request with the same token first.
        """
        body = self._jwt["body"]
        ttl = int(float(body["exp"]) + LEEWAY - time.time()) + 1
        if not self.store.consume(
            nonce_key(body["iss"], body["nonce"]),
            max(ttl, 1),
            (launch_key(launch_id), record, LAUNCH_TTL),
        ):
            raise LaunchRejected("LTI_NONCE_REPLAYED")
