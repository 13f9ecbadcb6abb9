"""Name resolution for tests: public-looking hosts that exist only in process.

The apps of the tests are served as https://jalon.test and call their LMS through an
in-process transport. The outbound policy resolves every host it lets through; these
resolvers answer with a public address that no test ever connects to (the transport
answers before any socket is opened), and refuse every other name.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from lti_tool.lti.jwks import HttpJwksFetcher
from xapi.outbound import OutboundHttp, OutboundPolicy

# A globally routable address (documentation ranges are not global, so the policy would
# refuse them). Nothing connects to it: the tests' transports answer in process.
PUBLIC_ADDRESS = "93.184.215.14"
# The policy of a Jalon served on loopback (the demo), for clients built in tests.
LOOPBACK = OutboundPolicy(allow_loopback_http=True)


def public_dns(*hosts: str, address: str = PUBLIC_ADDRESS) -> Callable[[str, int], list[str]]:
    """Return a resolver that gives ``address`` for ``hosts`` and knows no other name."""
    known = {host.lower() for host in hosts}

    def resolve(host: str, _port: int) -> list[str]:
        if host.lower() not in known:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not known to the test")
        return [address]

    return resolve


def loopback_key_sets() -> HttpJwksFetcher:
    """The real key-set fetcher, allowed to reach the test platforms' server on 127.0.0.1.

    The apps of the tests have a public base URL, under which Jalon fetches nothing on
    loopback; the test platforms (tests/lti_tool/lti/platforms.py) publish their keys there.
    """
    return HttpJwksFetcher(OutboundHttp(LOOPBACK))
