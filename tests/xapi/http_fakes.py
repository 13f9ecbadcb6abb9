"""A local HTTP server for the LRS tests: a scripted stub, or a fault-injecting proxy.

It listens on 127.0.0.1 only. In front of the real LRS (``upstream``) it forwards every
request unless a fault is queued: answer with a status without forwarding, hang, or forward
and then hang, drop the connection, or go down altogether (the port then refuses
connections until ``start`` is called again on it). Without an upstream it answers 200 ``[]``.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PASSED_HEADERS = ("Content-Type", "X-Experience-API-Version", "Last-Modified")


@dataclass(frozen=True)
class Fault:
    """What the server does with the next request.

    kinds: ``forward`` (as if no fault), ``answer`` (status and body, not forwarded),
    ``hang`` (never answers),
    ``forward-then-answer`` (the LRS stores it, the client gets ``status``),
    ``forward-then-hang``, ``forward-then-drop`` (connection closed without an answer),
    ``forward-then-go-down`` (and the port refuses connections from then on).
    """

    kind: str
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalHttpServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def setup(self) -> None:
        super().setup()
        self.server.owner._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._closed(self.connection)

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_GET  # noqa: N815

    def _handle(self) -> None:
        owner = self.server.owner
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        owner._record(Seen(self.command, self.path, dict(self.headers.items()), body))
        fault = owner._next_fault()
        if fault is None or fault.kind == "forward":
            if owner.upstream is None:
                self._reply(200, b"[]", {"Content-Type": "application/json"})
            else:
                self._reply(*owner._forward(self.command, self.path, self.headers, body))
            return
        if fault.kind == "answer":
            self._reply(fault.status, fault.body, fault.headers)
            return
        if fault.kind == "hang":
            owner.release.wait(30)
            self.close_connection = True
            return
        forwarded = owner._forward(self.command, self.path, self.headers, body)
        if fault.kind == "forward-then-answer":
            self._reply(fault.status, fault.body, fault.headers)
        elif fault.kind == "forward-then-hang":
            owner.release.wait(30)
            self.close_connection = True
        elif fault.kind == "forward-then-drop":
            self.close_connection = True
        elif fault.kind == "forward-then-go-down":
            owner.go_down(keep=self.connection)
            self.close_connection = True
        else:
            raise ValueError(f"unknown fault {fault.kind}")
        del forwarded

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


class LocalHttpServer:
    """A stub or proxy on 127.0.0.1 that tests can make misbehave."""

    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.connections = 0
        self.release = threading.Event()
        self.port = 0
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._servers: list[_Server] = []
        self._server: _Server | None = None
        self._loop: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    @property
    def posted(self) -> list[bytes]:
        """The bodies of the POSTs received, in order."""
        return [s.body for s in self.seen if s.method == "POST"]

    def start(self) -> LocalHttpServer:
        """Listen (again, on the same port after a stop or a fault) and serve."""
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.owner = self
        self.port = server.server_address[1]
        self.release.clear()
        self._server = server
        self._servers.append(server)
        self._loop = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._loop.start()
        return self

    def go_down(self, keep: socket.socket | None = None) -> None:
        """Stop accepting and cut open connections: the port now refuses connections."""
        server = self._server
        if server is None:
            return
        self._server = None
        server.shutdown()
        server.socket.close()
        with self._lock:
            live = [s for s in self._live if s is not keep]
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """Go down, release hanging requests and wait for every handler to finish."""
        self.release.set()
        self.go_down()
        for server in self._servers:
            server.server_close()  # joins the handler threads
        self._servers.clear()
        if self._loop is not None:
            self._loop.join(timeout=5)

    def _opened(self, sock: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            self._live.add(sock)

    def _closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._live.discard(sock)

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def _forward(
        self, method: str, path: str, headers: object, body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        assert self.upstream is not None
        parts = urlsplit(self.upstream)
        sent = {
            name: value
            for name, value in headers.items()  # type: ignore[attr-defined]
            if name.lower() not in {"host", "connection", "keep-alive", "content-length"}
        }
        upstream = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            upstream.request(method, path, body=body or None, headers=sent)
            answer = upstream.getresponse()
            data = answer.read()
            passed = {h: answer.headers[h] for h in PASSED_HEADERS if h in answer.headers}
            return answer.status, data, passed
        finally:
            upstream.close()
