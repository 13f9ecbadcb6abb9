"""Platform keys: cached, refetched once on an unknown kid (rate-limited), HTTP with limits."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from lti_tool.lti.jwks import (
    HttpJwksFetcher,
    InMemoryJwksFetcher,
    JwksError,
    PlatformKeys,
    UnknownKeyError,
)
from tests.fake_dns import LOOPBACK
from tests.lti_tool.lti.platforms import Browser, JwksServer, TestPlatform, landing_token, new_key
from xapi.outbound import OutboundHttp

URL = "https://lms.example/jwks"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cache(*jwks: dict[str, Any]) -> tuple[PlatformKeys, InMemoryJwksFetcher, Clock]:
    fetcher = InMemoryJwksFetcher({URL: {"keys": list(jwks)}})
    clock = Clock()
    return PlatformKeys(fetcher, clock=clock), fetcher, clock


def test_a_key_set_is_fetched_once_and_cached() -> None:
    _, jwk = new_key()
    cache, fetcher, clock = _cache(jwk)
    first = cache.key(URL, jwk["kid"])
    clock.now += 3000
    assert cache.key(URL, jwk["kid"]) is first
    assert fetcher.fetches == [URL]
    clock.now += 601  # past the hour: the key set is refreshed
    cache.key(URL, jwk["kid"])
    assert fetcher.fetches == [URL, URL]


def test_an_unknown_kid_refetches_once_then_waits_a_minute() -> None:
    _, old = new_key()
    cache, fetcher, clock = _cache(old)
    cache.key(URL, old["kid"])
    _, rotated = new_key()
    fetcher.key_sets[URL] = {"keys": [rotated]}
    assert cache.key(URL, rotated["kid"]) is not None  # the platform rotated: one refetch
    assert len(fetcher.fetches) == 2
    for forged in ("forged-1", "forged-2", "forged-3"):
        with pytest.raises(UnknownKeyError):
            cache.key(URL, forged)
    assert len(fetcher.fetches) == 2  # the rotation's refetch was less than a minute ago
    clock.now += 61
    with pytest.raises(UnknownKeyError):
        cache.key(URL, "forged-4")
    assert len(fetcher.fetches) == 3
    with pytest.raises(UnknownKeyError):
        cache.key(URL, "forged-5")
    assert len(fetcher.fetches) == 3


def test_unusable_keys_are_ignored() -> None:
    _, good = new_key()
    hs_key = {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}
    wrong_alg = {**new_key()[1], "alg": "RS512"}
    encryption = {**new_key()[1], "use": "enc"}
    cache, _, _ = _cache(hs_key, wrong_alg, encryption, {"kty": "RSA", "kid": "broken"}, good)
    assert cache.key(URL, good["kid"]) is not None
    for kid in ("hmac", wrong_alg["kid"], encryption["kid"], "broken"):
        with pytest.raises(UnknownKeyError):
            cache.key(URL, kid)


def test_http_fetcher_reads_a_real_server(key_server: JwksServer) -> None:
    _, jwk = new_key()
    key_server.documents["/http-test/jwks"] = {"keys": [jwk]}
    assert HttpJwksFetcher(OutboundHttp(LOOPBACK)).fetch(key_server.url("/http-test/jwks")) == {
        "keys": [jwk]
    }


@pytest.mark.parametrize(
    ("path", "document"),
    [("/missing/jwks", None), ("/not-a-key-set/jwks", {"keys": "nope"})],
)
def test_http_fetcher_refuses_what_is_not_a_key_set(
    key_server: JwksServer, path: str, document: Any
) -> None:
    if document is not None:
        key_server.documents[path] = document
    with pytest.raises(JwksError):
        HttpJwksFetcher(OutboundHttp(LOOPBACK)).fetch(key_server.url(path))


def test_http_fetcher_times_out(key_server: JwksServer) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        fetcher = HttpJwksFetcher(OutboundHttp(replace(LOOPBACK, read_timeout=0.3)))
        with pytest.raises(JwksError):
            fetcher.fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/")
    finally:
        listener.close()


def test_http_fetcher_refuses_other_schemes() -> None:
    with pytest.raises(JwksError):
        HttpJwksFetcher(OutboundHttp(LOOPBACK)).fetch("file:///etc/passwd")


def test_platform_key_rotation_between_two_launches(browser: Browser, moodle: TestPlatform) -> None:
    landing_token(browser.launch(moodle))
    hits = moodle.server.hits[moodle.jwks_path]
    landing_token(browser.launch(moodle))
    assert moodle.server.hits[moodle.jwks_path] == hits  # cached: no fetch per launch
    moodle.rotate()
    landing_token(browser.launch(moodle))
    assert moodle.server.hits[moodle.jwks_path] == hits + 1  # exactly one refetch


def test_unreachable_key_set(
    registered: Flask, browser: Browser, moodle: TestPlatform, key_server: JwksServer
) -> None:
    key_server.documents.pop(moodle.jwks_path)
    response = browser.launch(moodle)
    assert response.status_code == 403
    assert "LTI_JWKS_UNAVAILABLE" in response.get_data(as_text=True)


def test_an_unreachable_platform_keeps_its_cached_keys() -> None:
    _, jwk = new_key()
    cache, fetcher, clock = _cache(jwk)
    first = cache.key(URL, jwk["kid"])
    fetcher.key_sets.clear()  # the platform's key set URL starts failing
    clock.now += 3601
    assert cache.key(URL, jwk["kid"]) is first
    assert len(fetcher.fetches) == 2
    clock.now += 10
    assert cache.key(URL, jwk["kid"]) is first
    assert len(fetcher.fetches) == 2  # no retry before a minute has passed
