"""Servers for the registration flood tests: a slow platform, and Jalon on a few threads.

Jalon is served as ``jalon serve`` serves it in one gunicorn worker: a fixed pool of
threads (``--threads``, 4 by default), so a request that waits holds one of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer


class PooledServer(BaseWSGIServer):
    """werkzeug's server, handling connections on a fixed pool of threads (gunicorn gthread)."""

    def __init__(self, app: Flask, threads: int) -> None:
        super().__init__("127.0.0.1", 0, app)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="jalon-worker")

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._handle, request, client_address)

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


@contextmanager
def serving_on_threads(app: Flask, threads: int = 4) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 with ``threads`` worker threads; yield its base URL."""
    server = PooledServer(app, threads)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.pool.shutdown(wait=True, cancel_futures=True)
        server.server_close()
        thread.join(timeout=10)


class SlowPlatform:
    """A configuration URL that answers after ``delay`` seconds (a 404: nothing to register)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.served = 0
        self._lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with platform._lock:
                    platform.served += 1
                time.sleep(platform.delay)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/.well-known/openid-configuration"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True

    def __enter__(self) -> SlowPlatform:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def get(url: str, timeout: float = 30.0) -> tuple[int, dict[str, str], float]:
    """GET a URL with a fresh connection; return status, headers and seconds taken."""
    from urllib.error import HTTPError
    from urllib.request import urlopen

    started = time.perf_counter()
    try:
        with urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback only)
            response.read()
            status, headers = response.status, dict(response.headers)
    except HTTPError as error:
        error.read()
        status, headers = error.code, dict(error.headers)
        error.close()
    return status, headers, time.perf_counter() - started
