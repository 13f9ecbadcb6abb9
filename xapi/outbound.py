"""Every HTTP call Jalon makes on its own, under one policy.

Platform key sets and token endpoints, AGS and NRPS URLs (which arrive in launch claims),
Dynamic Registration and the LRS all go through :class:`OutboundHttp`, which enforces:

* **https only**; plain http only to a loopback address, and only when Jalon itself is
  served on loopback (the demo: ``OutboundPolicy.for_base_url``);
* **public addresses only**: the host is resolved and every address must be globally
  routable — no loopback, private, shared (100.64/10), link-local (the cloud metadata
  service at 169.254.169.254), multicast, reserved or unspecified address, including when
  one hides inside an IPv6 form (IPv4-mapped, 6to4, NAT64, Teredo). Decimal, octal or
  hexadecimal spellings of an address resolve to the address itself, so they are judged as
  it is. The real transport checks the address of the socket it actually connected to as
  well, so a DNS answer that changes between the check and the connection (rebinding)
  gains nothing;
* **the caller's origins**, when it names them (a platform's services must live on the
  platform's own origins);
* **no redirects**: a 3xx is a refusal (``OUTBOUND_REDIRECT``), never followed — following
  one would turn a POST into a GET that "succeeds" while nothing was stored;
* **short timeouts** (connect 3 s, read 10 s, the whole answer within 30 s) and **a
  size cap** on the answer (1 MiB unless the caller allows more), read as a stream.

A refusal raises :class:`OutboundError`, whose ``code`` is what a page or a journal
shows: never the body of the answer. Proxies from the environment are not used (the peer
address check would otherwise see the proxy).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MIB = 1024 * 1024
CODES = frozenset(
    {
        "OUTBOUND_SCHEME",  # not https (or http where only loopback may be reached)
        "OUTBOUND_ADDRESS",  # the host resolves (or connected) to a non-public address
        "OUTBOUND_ORIGIN",  # not on the origins the caller allows (the platform's)
        "OUTBOUND_REDIRECT",  # the server answered 3xx
        "OUTBOUND_TOO_LARGE",  # the answer is larger than the cap
        "OUTBOUND_TIMEOUT",  # no connection, or no answer, in time
        "OUTBOUND_UNREACHABLE",  # connection refused or broken, TLS failure
    }
)
# Where NAT64 gateways put an IPv4 address (RFC 6052 well-known and RFC 8215 local-use).
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
SHARED = ipaddress.ip_network("100.64.0.0/10")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})

Resolver = Callable[[str, int], Iterable[str]]


class OutboundError(Exception):
    """A call was refused by the policy, or failed on the way; ``code`` says which.

    ``status`` is the HTTP status when the server answered (a redirect).
    """

    def __init__(self, code: str, *, status: int | None = None) -> None:
        if code not in CODES:
            raise ValueError(f"unknown outbound code {code}")
        super().__init__(f"{code} (HTTP {status})" if status else code)
        self.code = code
        self.status = status


def system_resolver(host: str, port: int) -> list[str]:
    """Return the addresses ``host`` resolves to, as the connection will look them up."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text.split("%", 1)[0])


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 form carries to (mapped, 6to4, NAT64, Teredo)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_private
        and not address.is_unspecified
        and address not in SHARED
    )


def is_public_address(text: str) -> bool:
    """Tell whether an address (text) is globally routable, looking inside IPv6 forms."""
    try:
        address = _address(text)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return _is_public(inner)
    return _is_public(address)


def is_loopback_address(text: str) -> bool:
    """Tell whether an address (text) is a loopback one (127/8, ::1, or ::ffff:127.x)."""
    try:
        address = _address(text)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def is_loopback_host(hostname: str | None) -> bool:
    """Tell whether a URL's host names this machine's loopback (``localhost``, 127.x, ::1)."""
    host = (hostname or "").lower().rstrip(".")
    return host in LOOPBACK_NAMES or is_loopback_address(host)


def origin_of(url: str) -> str | None:
    """Return ``scheme://host[:port]`` of an http(s) URL, lower-cased, default port left out."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class OutboundPolicy:
    """What Jalon's own HTTP calls may reach, and how long and how much they may take."""

    # Plain http to loopback addresses (only those): for a Jalon served on loopback.
    allow_loopback_http: bool = False
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    # The whole answer, however slowly it trickles in.
    total_timeout: float = 30.0
    max_bytes: int = MIB
    resolver: Resolver = field(default=system_resolver, compare=False, repr=False)

    @classmethod
    def for_base_url(cls, base_url: str, **values: Any) -> OutboundPolicy:
        """Return the policy of a Jalon served at ``base_url`` (loopback: the demo)."""
        return cls(allow_loopback_http=is_loopback_host(urlsplit(base_url).hostname), **values)

    def address_allowed(self, address: str, scheme: str) -> bool:
        """Tell whether a connection to ``address`` over ``scheme`` is allowed."""
        if self.allow_loopback_http and is_loopback_address(address):
            return True
        return scheme == "https" and is_public_address(address)

    @staticmethod
    def check_origin(url: str, origins: Collection[str]) -> None:
        """Refuse a URL that is not on one of ``origins``."""
        if origin_of(url) not in origins:
            raise OutboundError("OUTBOUND_ORIGIN")

    def check(self, url: str, origins: Collection[str] | None = None) -> None:
        """Refuse a URL that this policy does not allow (scheme, origin, resolved addresses)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise OutboundError("OUTBOUND_SCHEME") from None
        scheme = parts.scheme.lower()
        if scheme not in {"http", "https"} or not parts.hostname:
            raise OutboundError("OUTBOUND_SCHEME")
        if scheme == "http" and not self.allow_loopback_http:
            raise OutboundError("OUTBOUND_SCHEME")
        if origins is not None:
            self.check_origin(url, origins)
        try:
            addresses = list(
                self.resolver(parts.hostname, port or (443 if scheme == "https" else 80))
            )
        except (OSError, UnicodeError):
            raise OutboundError("OUTBOUND_ADDRESS") from None
        if not addresses or not all(self.address_allowed(a, scheme) for a in addresses):
            raise OutboundError("OUTBOUND_ADDRESS")


# --- The transport that checks the connected peer --------------------------------------


def _checked(base: type[HTTPConnection], policy: OutboundPolicy, scheme: str) -> type[Any]:
    class _Checked(base):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> socket.socket:
            sock: socket.socket = super()._new_conn()
            peer = str(sock.getpeername()[0])
            if not policy.address_allowed(peer, scheme):
                sock.close()
                raise OutboundError("OUTBOUND_ADDRESS")
            return sock

    return _Checked


class _CheckedAdapter(HTTPAdapter):
    """An adapter whose connections refuse a peer address the policy does not allow."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http = _checked(HTTPConnection, self._policy, "http")
        https = _checked(HTTPSConnection, self._policy, "https")
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }


def checked_session(policy: OutboundPolicy) -> requests.Session:
    """Return a keep-alive session whose sockets are checked against ``policy`` once open."""
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the peer must be the server
    adapter = _CheckedAdapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --- The client -------------------------------------------------------------------------


class OutboundHttp:
    """Make HTTP calls under an :class:`OutboundPolicy`.

    ``transport`` is the ``requests.Session`` that carries the calls: by default one that
    also checks the address of every socket it opens. Tests may hand in another (routed
    to in-process apps); the policy still checks every URL before it gets there.
    """

    def __init__(
        self,
        policy: OutboundPolicy,
        transport: requests.Session | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.policy = policy
        self.transport = transport if transport is not None else checked_session(policy)
        self.headers = dict(headers or {})
        self.auth = auth

    def with_timeouts(self, connect: float, read: float) -> OutboundHttp:
        """Return a client on the same connections whose calls give up sooner."""
        policy = dataclasses.replace(
            self.policy,
            connect_timeout=min(connect, self.policy.connect_timeout),
            read_timeout=min(read, self.policy.read_timeout),
            total_timeout=min(connect + read, self.policy.total_timeout),
        )
        return OutboundHttp(policy, self.transport, headers=self.headers, auth=self.auth)

    def request(
        self,
        method: str,
        url: str,
        *,
        origins: Collection[str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        params: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> requests.Response:
        """Make one call; return the answer (any status but 3xx), its body read in full.

        Raise :class:`OutboundError` when the policy refuses the URL, the server
        redirects, the answer is too large, or the call times out or fails.
        """
        self.policy.check(url, origins)
        deadline = time.monotonic() + self.policy.total_timeout
        try:
            response = self.transport.request(
                method,
                url,
                headers={**self.headers, **(headers or {})},
                data=data,
                params=params,
                auth=self.auth,
                timeout=(self.policy.connect_timeout, self.policy.read_timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout:
            raise OutboundError("OUTBOUND_TIMEOUT") from None
        except requests.RequestException:
            raise OutboundError("OUTBOUND_UNREACHABLE") from None
        try:
            if 300 <= response.status_code < 400:
                raise OutboundError("OUTBOUND_REDIRECT", status=response.status_code)
            body = self._read(response, max_bytes or self.policy.max_bytes, deadline)
        except BaseException:
            response.close()  # an answer not read to its end: drop the connection
            raise
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        response.close()  # hands the connection back to the pool
        return response

    @staticmethod
    def _read(response: requests.Response, limit: int, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise OutboundError("OUTBOUND_TOO_LARGE")
        raw = response.raw
        if not isinstance(raw, urllib3.HTTPResponse):
            body = response.content or b""  # a transport that answered in memory
            if len(body) > limit:
                raise OutboundError("OUTBOUND_TOO_LARGE")
            return body
        chunks: list[bytes] = []
        size = 0
        try:
            # One network read at a time, so the deadline is looked at between reads.
            while chunk := raw.read1(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > limit:
                    raise OutboundError("OUTBOUND_TOO_LARGE")
                if time.monotonic() > deadline:
                    raise OutboundError("OUTBOUND_TIMEOUT")
                chunks.append(chunk)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            raise OutboundError("OUTBOUND_TIMEOUT") from None
        except (urllib3.exceptions.HTTPError, OSError):
            raise OutboundError("OUTBOUND_UNREACHABLE") from None
        return b"".join(chunks)

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()
