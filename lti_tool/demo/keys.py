"""The demo platform's own RSA keys, and where it finds the tool's public keys.

The platform key lives in the instance folder (``demo-lms-key.pem``, mode 0600) and is loaded
once: signing with a loaded key costs a fraction of a millisecond, against ~90 ms when
lti1p3platform re-reads the PEM and recomputes the ``kid`` for every token. A rotation keeps
the previous key published, so tokens signed just before it still verify.

The tool's keys come from a :class:`KeySetProvider`: over HTTP in production, and by an
in-process call when the tool is the very app serving the request (the Flask test client cannot
call itself over a socket).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, current_app
from jwcrypto.jwk import JWK  # type: ignore[import-untyped]
from werkzeug.test import Client

from lti_tool.instance import private_file

KEY_FILE = "demo-lms-key.pem"
PREVIOUS_KEY_FILE = "demo-lms-key.previous.pem"
JWKS = dict[str, list[dict[str, Any]]]


class KeySetError(RuntimeError):
    """The tool's key set could not be fetched or is not a JWKS."""


@dataclass(frozen=True)
class KeyPair:
    """An RSA key loaded once, with its PEM forms (lti1p3platform wants PEM) and JWK."""

    private_key: rsa.RSAPrivateKey
    private_pem: str
    public_pem: str
    kid: str
    public_jwk: dict[str, Any]

    @classmethod
    def from_pem(cls, pem: str) -> KeyPair:
        """Load a PEM private key (once per process: loading checks the key, ~50 ms)."""
        known = _LOADED.get(pem)
        if known is not None:
            return known
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the demo platform key must be an RSA key")
        return cls._remember(key, pem)

    @classmethod
    def generate(cls) -> KeyPair:
        """Make a new 2048-bit key."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return cls._remember(key, pem)

    @classmethod
    def _remember(cls, key: rsa.RSAPrivateKey, pem: str) -> KeyPair:
        """Derive the public forms; the ``kid`` is the RFC 7638 thumbprint, as lti1p3platform's."""
        public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        jwk = JWK.from_pyca(key.public_key())
        public_jwk: dict[str, Any] = json.loads(jwk.export_public())
        kid = jwk.thumbprint()
        public_jwk.update(kid=kid, alg="RS256", use="sig")
        pair = cls(key, pem, public_pem, kid, public_jwk)
        _LOADED[pem] = pair
        while len(_LOADED) > _MAX_LOADED:
            del _LOADED[next(iter(_LOADED))]
        return pair


# Keys already loaded, by PEM: lti1p3platform hands PEM strings around.
_LOADED: dict[str, KeyPair] = {}
_MAX_LOADED = 32


class PlatformKeys:
    """The platform's current key and, after a rotation, the previous one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self.current = self._load_or_create(folder / KEY_FILE)
        previous = folder / PREVIOUS_KEY_FILE
        self.previous = KeyPair.from_pem(previous.read_text("ascii")) if previous.exists() else None

    def jwks(self) -> JWKS:
        """Return the published key set: the current key first."""
        keys = [self.current.public_jwk]
        if self.previous is not None:
            keys.append(self.previous.public_jwk)
        return {"keys": keys}

    def rotate(self) -> KeyPair:
        """Sign with a new key from now on; keep publishing the replaced one."""
        with self._lock:
            fresh = KeyPair.generate()
            _write_private(self.folder / PREVIOUS_KEY_FILE, self.current.private_pem)
            _write_private(self.folder / KEY_FILE, fresh.private_pem)
            self.previous, self.current = self.current, fresh
            return fresh

    @staticmethod
    def _load_or_create(path: Path) -> KeyPair:
        if path.exists():
            return KeyPair.from_pem(path.read_text("ascii"))
        pair = KeyPair.generate()
        _write_private(path, pair.private_pem)
        return pair


def _write_private(path: Path, pem: str) -> None:
    private_file(path)
    path.write_text(pem, encoding="ascii")


class KeySetProvider(Protocol):
    """Where the platform gets a tool's public keys from."""

    def get(self, url: str, *, refresh: bool = False) -> JWKS:
        """Return the key set published at ``url``; ``refresh`` skips any cache."""


def _checked(document: Any, url: str) -> JWKS:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeySetError(f"{url} did not answer a JSON Web Key Set")
    return document


class HttpKeySets:
    """Fetch key sets over HTTP, cache them, and refetch at most every few seconds."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        max_age: float = 300.0,
        min_refetch_interval: float = 5.0,
        timeout: float = 5.0,
    ) -> None:
        self.session = session or requests.Session()
        self.max_age = max_age
        self.min_refetch_interval = min_refetch_interval
        self.timeout = timeout
        self._cache: dict[str, tuple[float, JWKS]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, *, refresh: bool = False) -> JWKS:
        """Return the cached key set, or fetch it when stale or when asked to refresh.

        A refresh comes from an unknown ``kid`` (the tool rotated its key); it is rate-limited
        so a flood of tokens with made-up ``kid`` values cannot make the platform hammer the tool.
        """
        with self._lock:
            cached = self._cache.get(url)
            now = time.monotonic()
            if cached is not None:
                age = now - cached[0]
                if age < self.max_age and (not refresh or age < self.min_refetch_interval):
                    return cached[1]
            try:
                response = self.session.get(url, timeout=self.timeout)
                response.raise_for_status()
                document = response.json()
            except (requests.RequestException, ValueError) as exc:
                raise KeySetError(f"cannot fetch the key set at {url}: {exc}") from exc
            key_set = _checked(document, url)
            self._cache[url] = (now, key_set)
            return key_set


class InProcessKeySets:
    """Call the app serving this request for a key set it publishes itself.

    Used when Jalon and the demo LMS share a process that cannot call itself over a socket
    (the Flask test client): the demo reads Jalon's ``/lti/jwks`` this way, and, given to
    ``create_app`` as ``jwks_fetcher``, Jalon reads the demo's ``/demo/jwks``. The call runs
    in a fresh app context, so the nested request has its own ``g`` and its own database
    session and leaves the outer request's untouched.
    """

    def __init__(self, app: Flask | None = None) -> None:
        self.app = app

    def get(self, url: str, *, refresh: bool = False) -> JWKS:
        """Return the key set the app serves at ``url``'s path."""
        app: Flask = self.app or current_app._get_current_object()  # type: ignore[attr-defined]
        parts = urlsplit(url)
        with app.app_context():
            response = Client(app).get(
                parts.path,
                query_string=parts.query,
                base_url=f"{parts.scheme}://{parts.netloc}",
            )
            try:
                if response.status_code != 200:
                    raise KeySetError(f"{url} answered {response.status_code}")
                document = json.loads(response.get_data(as_text=True))
            except ValueError as exc:
                raise KeySetError(f"{url} did not answer JSON") from exc
            finally:
                response.close()
        return _checked(document, url)

    def fetch(self, url: str) -> JWKS:
        """Return the key set at ``url`` (Jalon's ``JwksFetcher`` protocol, for its launches)."""
        return self.get(url)
