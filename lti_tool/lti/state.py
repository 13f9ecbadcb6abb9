"""The login state: signed by Jalon, carried by the platform, bound to the browser.

The OIDC login writes nothing on the server. What the launch must know of its login (the
registration it was for, and where the platform offers storage) travels in the ``state``
parameter, signed with the app secret and valid for ten minutes; the platform hands it
back with the id_token. A signed state proves that Jalon started the login, not that this
browser did: that is the browser id's job, a random value inside the signed state that
the login also leaves in the browser (an ``lti1p3-<id>`` cookie, or the platform's
postMessage storage when cookies are blocked). The nonce is derived from the browser id
with a keyed hash, so it is bound to the state without being stored; it becomes
single-use when the launch stores it as used (:meth:`LtiStore.consume`).

A login without platform storage also signs in its own parameters (``login_hint``,
``lti_message_hint``…): when the launch comes back without the cookie, most likely because
the browser blocks third-party cookies, the refusal page rebuilds from them a link to
Jalon's own login, to start again in a window of its own (:meth:`LoginState.relaunch`).
They are signed, so the link says only what the platform sent to the login; and the
platform's authorization step decides again who is logged in.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature

from lti_tool.lti.signed import TokenSerializer

STATE_TTL = 600
COOKIE_PREFIX = "lti1p3-"
SALT = "jalon.lti.state"
# The login parameters a relaunch repeats (``iss`` is the state's issuer), and how many
# characters of them the state carries at most: the state travels in the URL of the
# platform's authorization step, and a longer set is not worth the risk of a refused URL.
RELAUNCH_PARAMS = (
    "login_hint",
    "lti_message_hint",
    "target_link_uri",
    "client_id",
    "lti_deployment_id",
)
RELAUNCH_MAX_CHARS = 2048


@dataclass(frozen=True)
class LoginState:
    """What a login learnt, for its launch: the registration and the platform storage."""

    browser_id: str
    platform_id: int
    issuer: str
    client_id: str
    storage_target: str | None = None
    platform_origin: str | None = None
    # The login's parameters for a relaunch; kept only without platform storage.
    login: tuple[tuple[str, str], ...] = ()

    @property
    def cookie_name(self) -> str:
        """Return the name of the cookie that binds this state to its browser."""
        return COOKIE_PREFIX + self.browser_id

    def relaunch(self) -> dict[str, str] | None:
        """Return the parameters of the login to start again, or None if it cannot be."""
        if not self.login:
            return None
        return {"iss": self.issuer, **dict(self.login)}


def login_params(params: dict[str, str | None]) -> tuple[tuple[str, str], ...]:
    """Return the login parameters a state keeps for a relaunch (none if they are too long)."""
    kept = tuple((name, value) for name in RELAUNCH_PARAMS if (value := params.get(name)))
    if sum(len(name) + len(value) for name, value in kept) > RELAUNCH_MAX_CHARS:
        return ()
    return kept


class StateSigner:
    """Issue and read signed login states; derive each state's nonce."""

    def __init__(self, secret: str) -> None:
        self._serializer = TokenSerializer(secret, salt=SALT)
        self._nonce_key = hashlib.sha256(f"{SALT}.nonce\n{secret}".encode()).digest()

    def issue(self, state: LoginState) -> str:
        """Return the signed text of a state, for the platform to hand back."""
        payload: list[Any] = [state.browser_id, state.platform_id, state.issuer, state.client_id]
        if state.storage_target:
            payload += [state.storage_target, state.platform_origin]
        elif state.login:
            payload.append(dict(state.login))
        return str(self._serializer.dumps(payload))

    def read(self, text: str) -> LoginState | None:
        """Return the state a text signs, or None if forged, altered, expired or garbled."""
        try:
            payload = self._serializer.loads(text, max_age=STATE_TTL)
        except BadSignature:  # SignatureExpired is one
            return None
        if not isinstance(payload, list) or len(payload) not in (4, 5, 6):
            return None
        browser_id, platform_id, issuer, client_id, *rest = payload
        login = rest.pop() if len(rest) == 1 else {}
        if not (
            isinstance(browser_id, str)
            and isinstance(platform_id, int)
            and isinstance(issuer, str)
            and isinstance(client_id, str)
            and all(isinstance(value, str) for value in rest)
            and isinstance(login, dict)
            and all(name in RELAUNCH_PARAMS and isinstance(v, str) for name, v in login.items())
        ):
            return None
        target, origin = rest or (None, None)
        return LoginState(
            browser_id, platform_id, issuer, client_id, target, origin, tuple(login.items())
        )

    def nonce(self, state: LoginState) -> str:
        """Return the nonce of a state: unpredictable without the secret, fixed by the state."""
        digest = hmac.new(self._nonce_key, state.browser_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_browser_id() -> str:
    """Return a fresh browser id: 144 random bits."""
    return secrets.token_urlsafe(18)


@functools.lru_cache(maxsize=8)
def signer_for(secret: str) -> StateSigner:
    """Return the signer of a secret (one per process, not one per login)."""
    return StateSigner(secret)
