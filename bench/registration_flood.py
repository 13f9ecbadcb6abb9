"""Registration flood: how long ``/healthz`` takes while registrations hang on a slow platform.

Jalon is served as one ``jalon serve`` worker serves it (a pool of 4 threads), on SQLite,
with its own Dynamic Registration transport; N clients open ``/lti/register`` with a
configuration URL that never answers in time. Once they are in flight, ``/healthz`` is
timed. Two runs: as before (no per-process cap, 10 s platform timeout) and as now (2
registrations at once, the others answered 503 at once; 5 s timeout).

Prints figures; asserts nothing. ``python bench/registration_flood.py --help``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lti_tool import create_app, migrations  # noqa: E402
from lti_tool.config import Settings  # noqa: E402
from lti_tool.views import registration  # noqa: E402
from tests.security.slow_servers import SlowPlatform, get, serving_on_threads  # noqa: E402


def run(flood: int, threads: int, *, cap: int, timeout: float) -> tuple[float, list[int]]:
    """Return /healthz's seconds and the registrations' statuses."""
    registration.MAX_CONCURRENT, registration.PLATFORM_TIMEOUT = cap, timeout
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/jalon.db"
        migrations.upgrade(url)
        settings = Settings(
            secret_key="bench-secret-key-0123456789",
            database_url=url,
            base_url="http://127.0.0.1:8000",  # loopback: the transport may reach 127.0.0.1
            instance_path=Path(folder),
        )
        app = create_app(settings)
        with SlowPlatform(60.0) as slow, serving_on_threads(app, threads) as base:
            target = f"{base}/lti/register?" + urlencode({"openid_configuration": slow.url})
            with ThreadPoolExecutor(flood) as pool:
                started = threading.Barrier(flood + 1)

                def register() -> int:
                    started.wait()
                    return get(target, timeout=120)[0]

                futures = [pool.submit(register) for _ in range(flood)]
                started.wait()
                time.sleep(0.5)
                _status, _headers, seconds = get(f"{base}/healthz", timeout=120)
                statuses = sorted(f.result() for f in futures)
        app.extensions["jalon.db"].engine.dispose()
    return seconds, statuses


def main() -> None:
    """Run both configurations and print /healthz's latency."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=6, help="registrations in flight")
    parser.add_argument("--threads", type=int, default=4, help="threads of the worker")
    args = parser.parse_args()
    # The refusals and the access log would drown the figures.
    for name in ("werkzeug", "lti_tool"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    for label, cap, timeout in (
        ("before (no cap, 10 s)", 10**6, 10.0),
        ("now (cap 2, 5 s)", 2, 5.0),
    ):
        seconds, statuses = run(args.flood, args.threads, cap=cap, timeout=timeout)
        print(
            f"{label:24} /healthz {seconds * 1000:8.1f} ms with {args.flood} slow registrations "
            f"on {args.threads} threads; registrations answered {statuses}"
        )


if __name__ == "__main__":
    main()
