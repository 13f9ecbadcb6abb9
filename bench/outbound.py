"""Benchmark the outbound policy; prints figures, asserts nothing.

The cost of one call through :class:`xapi.outbound.OutboundHttp` (URL and origin checks, a
name lookup, the connected-peer check on each new socket, no redirects, the answer read as a
capped stream) against a bare keep-alive ``requests.Session``, both to the same local HTTP
server on 127.0.0.1 (a small JSON answer, as AGS and NRPS give), in alternating rounds in one
run. Prints the median time per call of each and their ratio. Two bare sessions: the
default one (what Jalon used before; it reads proxy and netrc settings from the
environment on every call) and one with ``trust_env = False`` as the policy's transport has,
which isolates what the policy itself costs.

    .venv/bin/python bench/outbound.py [--calls 2000] [--rounds 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from xapi.outbound import OutboundHttp, OutboundPolicy  # noqa: E402

BODY = b'{"id": "https://lms.example.edu/lineitems/7", "label": "E1", "scoreMaximum": 16}'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without this, delayed ACKs add ~40 ms to both.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


def _time(call: object, url: str, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call(url)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    """Time both clients in A-B-B-A rounds and print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/lineitems/7"
    origins = {f"http://127.0.0.1:{server.server_address[1]}"}
    bare = requests.Session()
    quiet = requests.Session()
    quiet.trust_env = False
    policed = OutboundHttp(OutboundPolicy.for_base_url("http://127.0.0.1:8000"))

    def bare_call(target: str) -> None:
        response = bare.get(target, timeout=(3, 10))
        assert response.content == BODY

    def quiet_call(target: str) -> None:
        response = quiet.get(target, timeout=(3, 10))
        assert response.content == BODY

    def policed_call(target: str) -> None:
        assert policed.request("GET", target, origins=origins).content == BODY

    calls = {"bare": bare_call, "quiet": quiet_call, "policy": policed_call}
    for warm in calls.values():
        _time(warm, url, 200)
    timings: dict[str, list[float]] = {side: [] for side in calls}
    for round_ in range(args.rounds):
        order = list(calls) if round_ % 2 == 0 else list(reversed(calls))
        for side in order:
            timings[side] += _time(calls[side], url, args.calls // args.rounds)
    median = {side: statistics.median(times) * 1e6 for side, times in timings.items()}
    print(f"calls per side                       {len(timings['bare'])}")
    print(f"bare requests.Session                {median['bare']:8.1f} µs median per call")
    print(f"bare requests.Session, no env        {median['quiet']:8.1f} µs median per call")
    print(f"outbound policy                      {median['policy']:8.1f} µs median per call")
    print(f"ratio policy / bare                  {median['policy'] / median['bare']:8.2f}")
    print(f"ratio policy / bare without env      {median['policy'] / median['quiet']:8.2f}")
    print(f"policy cost per call (vs no env)     {median['policy'] - median['quiet']:8.1f} µs")
    server.shutdown()


if __name__ == "__main__":
    main()
