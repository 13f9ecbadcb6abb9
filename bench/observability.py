"""What the observability middleware adds to each request: the request id, the timing, the counts.

In process, on a cheap page (``/favicon.ico``, a file read from memory) so that the middleware's
cost is not lost in the noise: the same app with its middleware, then without it, timed
in alternating rounds; the median of each, and of their difference per round. Run once as it
is (values in memory) and once with ``--multiprocess`` (values in files, as under ``jalon
serve``). Also times the middleware alone, the pool gauge, and a scrape.

    .venv/bin/python bench/observability.py [--rounds 20] [--requests 500] [--multiprocess]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--multiprocess", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    if args.multiprocess:
        # Before prometheus-client is imported, as `jalon serve` does.
        (folder / "metrics").mkdir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder / "metrics")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from lti_tool import create_app, migrations
    from lti_tool.config import Settings
    from lti_tool.observability import Observed, metrics

    url = f"sqlite:///{folder / 'jalon.db'}"
    migrations.upgrade(url)
    settings = Settings(
        secret_key="bench-secret-key-0123456789",
        database_url=url,
        instance_path=folder,
        metrics_token="bench-metrics-token-0123456789",
    )
    observed = create_app(settings)
    bare = create_app(settings)
    bare.wsgi_app = bare.wsgi_app.app  # type: ignore[attr-defined,method-assign]
    clients = {"with": observed.test_client(), "without": bare.test_client()}
    for client in clients.values():
        for _ in range(200):
            assert client.get("/favicon.ico").status_code == 200

    per_request: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(args.rounds):
        for name, client in clients.items():
            times = []
            for _ in range(args.requests):
                start = time.perf_counter()
                client.get("/favicon.ico")
                times.append(time.perf_counter() - start)
            per_request[name].append(statistics.median(times))
    with_, without = per_request["with"], per_request["without"]
    extra = [a - b for a, b in zip(with_, without, strict=True)]
    mode = "multiprocess (files)" if metrics.is_multiprocess() else "one process (memory)"
    print(f"values: {mode}; {args.rounds} rounds of {args.requests} GET /favicon.ico")
    print(f"  with it:       median {statistics.median(with_) * 1e6:8.1f} µs per request")
    print(f"  without it:    median {statistics.median(without) * 1e6:8.1f} µs per request")
    print(
        f"  extra:         median {statistics.median(extra) * 1e6:8.1f} µs per request "
        f"(rounds {min(extra) * 1e6:.1f}–{max(extra) * 1e6:.1f}); "
        f"ratio {statistics.median(with_) / statistics.median(without):.3f}"
    )

    # The middleware alone, around a WSGI app that answers at once: its own cost without
    # the test client's noise around it.
    def answer(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b""]

    def passing(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return answer(environ, lambda status, headers, *exc: start_response(status, headers))

    for endpoint in ("learner.epreuve", "lti.launch"):
        wrapped = Observed(answer, metrics.observe)
        rule = SimpleNamespace(endpoint=endpoint)
        environ = {"werkzeug.request": SimpleNamespace(url_rule=rule)}
        alone, bare_calls = [], []
        for _ in range(args.rounds):  # alternating with a pass-through wrapper, the baseline
            for app, times in ((wrapped, alone), (passing, bare_calls)):
                start = time.perf_counter()
                for _ in range(args.requests):
                    app(environ, lambda *_: None)
                times.append((time.perf_counter() - start) / args.requests)
        extra_alone = [a - b for a, b in zip(alone, bare_calls, strict=True)]
        print(
            f"  the middleware alone, {endpoint}: median {statistics.median(alone) * 1e6:.1f} µs, "
            f"a pass-through wrapper {statistics.median(bare_calls) * 1e6:.1f} µs: "
            f"{statistics.median(extra_alone) * 1e6:.1f} µs more"
        )
    # A request that reads the database also moves the pool gauge: one checkout, one checkin.
    pool = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _ in range(args.requests):
            metrics.POOL_CHECKED_OUT.inc()
            metrics.POOL_CHECKED_OUT.dec()
        pool.append((time.perf_counter() - start) / args.requests)
    print(f"  the pool gauge, a checkout and its checkin: {statistics.median(pool) * 1e6:.1f} µs")
    client = clients["with"]
    headers = {"Authorization": f"Bearer {settings.metrics_token}"}
    scrapes = []
    for _ in range(50):
        start = time.perf_counter()
        assert client.get("/metrics", headers=headers).status_code == 200
        scrapes.append(time.perf_counter() - start)
    print(f"  a scrape of /metrics: median {statistics.median(scrapes) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
