"""Platform public keys: fetched through one small service, cached, refetched on rotation.

A platform that rotates its key signs the next launch with a ``kid`` Jalon has not seen:
the key set is then fetched again at once, but such refetches happen at most once a
minute per key-set URL (one URL per platform; hosted Canvas instances share theirs), so a
flood of forged ``kid`` values cannot turn Jalon into a traffic generator.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt

from xapi.outbound import OutboundError, OutboundHttp

MAX_BYTES = 1024 * 1024


class JwksError(Exception):
    """The key set could not be fetched or read."""


class UnknownKeyError(Exception):
    """No key of the platform's key set has this ``kid``, even after a refetch."""


class JwksFetcher(Protocol):
    """Fetch a JSON Web Key Set."""

    def fetch(self, url: str) -> Mapping[str, Any]:
        """Return the key set document at ``url``; raise :class:`JwksError`."""


class HttpJwksFetcher:
    """Fetch through the outbound policy (https, public address, no redirect, 1 MiB)."""

    def __init__(self, http: OutboundHttp) -> None:
        self.http = http

    def fetch(self, url: str) -> Mapping[str, Any]:
        """GET the key set; a refusal names its outbound code, never the answer's text."""
        try:
            response = self.http.request(
                "GET",
                url,
                headers={"Accept": "application/json", "User-Agent": "Jalon LTI tool"},
                max_bytes=MAX_BYTES,
            )
        except OutboundError as exc:
            raise JwksError(f"cannot fetch the key set: {exc.code}") from exc
        if response.status_code != 200:
            raise JwksError(f"cannot fetch the key set: HTTP {response.status_code}")
        try:
            document = json.loads(response.content)
        except ValueError as exc:
            raise JwksError("the key set is not JSON") from exc
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise JwksError("the key set has no keys list")
        return document


@dataclass
class InMemoryJwksFetcher:
    """Serve key sets from memory (tests, the demo platform in the same process)."""

    key_sets: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    fetches: list[str] = field(default_factory=list)

    def fetch(self, url: str) -> Mapping[str, Any]:
        """Return the stored key set."""
        self.fetches.append(url)
        try:
            return self.key_sets[url]
        except KeyError:
            raise JwksError(f"no key set at {url}") from None


@dataclass
class _KeySet:
    keys: dict[str, Any]
    fetched_at: float
    # When an unknown kid last caused a refetch: at most one such refetch a minute.
    refetched_at: float = float("-inf")


def _rsa_keys(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return the usable RS256 verification keys of a key set, by kid."""
    keys: dict[str, Any] = {}
    for jwk in document.get("keys", []):
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
            continue
        if jwk.get("alg", "RS256") != "RS256" or jwk.get("use", "sig") != "sig":
            continue
        try:
            keys[str(jwk["kid"])] = jwt.PyJWK(jwk, algorithm="RS256").key
        except (jwt.PyJWTError, ValueError, TypeError):
            continue
    return keys


class PlatformKeys:
    """The per-process cache of platform keys, by key-set URL."""

    def __init__(
        self,
        fetcher: JwksFetcher,
        *,
        max_age: float = 3600.0,
        refetch_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetcher = fetcher
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self.clock = clock
        self._sets: dict[str, _KeySet] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, url: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(url, threading.Lock())

    def _fetch(self, url: str) -> _KeySet:
        previous = self._sets.get(url)
        key_set = _KeySet(_rsa_keys(self.fetcher.fetch(url)), self.clock())
        if previous is not None:
            key_set.refetched_at = previous.refetched_at
        self._sets[url] = key_set
        return key_set

    def key(self, url: str, kid: str) -> Any:
        """Return the public key ``kid`` of the key set at ``url``."""
        key_set = self._sets.get(url)
        fresh = key_set is not None and self.clock() - key_set.fetched_at < self.max_age
        if key_set is not None and fresh and kid in key_set.keys:
            return key_set.keys[kid]
        with self._lock(url):
            key_set = self._sets.get(url)  # another thread may have fetched meanwhile
            now = self.clock()
            if key_set is None:
                key_set = self._fetch(url)
            elif now - key_set.fetched_at >= self.max_age:
                try:
                    key_set = self._fetch(url)
                except JwksError:
                    # Keep launching with the keys we have; try the platform again in a minute.
                    key_set.fetched_at = now - self.max_age + self.refetch_interval
            elif kid not in key_set.keys and now - key_set.refetched_at >= self.refetch_interval:
                key_set = self._fetch(url)
                key_set.refetched_at = now
            if kid not in key_set.keys:
                raise UnknownKeyError(kid)
            return key_set.keys[kid]

    def forget(self, url: str | None = None) -> None:
        """Drop cached key sets (all of them without ``url``)."""
        if url is None:
            self._sets.clear()
        else:
            self._sets.pop(url, None)
