"""A real LRS for the tests and the benchmark: Learning Locker's statement service, in memory.

``.ci/lrs.sh`` installs it (npm ``xapi-statements``, pinned by ``tests/lrs/package-lock.json``)
into ``tests/lrs/node_modules``. It runs on Node 20 with in-memory models, local storage in
a temporary folder, and ``AUTH_REPO=test``, under which any Basic credentials are accepted as
one test client. It forgets everything when it stops.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import requests

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
SERVER = REPO / "tests" / "lrs" / "node_modules" / "xapi-statements" / "dist" / "server.js"
USERNAME = "jalon"
PASSWORD = "test-password-not-secret"  # noqa: S105 (AUTH_REPO=test accepts any)


def missing() -> list[str]:
    """Name what this machine lacks to run the real LRS."""
    problems = []
    if NODE is None:
        problems.append("node (Node.js 20: apt-get install nodejs npm)")
    if not SERVER.exists():
        problems.append("the xapi-statements package (run: bash .ci/lrs.sh)")
    return problems


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LrsProcess:
    """One LRS process on 127.0.0.1, started and stopped by the tests."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.origin}/xAPI/"

    def start(self, timeout: float = 30.0) -> None:
        """Start the LRS and wait until it answers ``/xAPI/about``."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir),
            "MODELS_REPO": "memory",
            "STORAGE_REPO": "local",
            "AUTH_REPO": "test",
            "EVENTS_REPO": "test",
            "EXPRESS_PORT": str(self.port),
            "FS_LOCAL_STORAGE_DIR": str(self.workdir / "storage"),
            "EXPRESS_MORGAN_DIRECTORY": str(self.workdir / "access-logs"),
            "WINSTON_CONSOLE_LEVEL": "error",
            "LANG": "en",
        }
        self._log = (self.workdir / "lrs.log").open("ab")
        # The working folder holds no .env file, so dotenv adds nothing to this environment.
        self._process = subprocess.Popen(
            [NODE or "node", str(SERVER)],
            cwd=self.workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._close_log()
                raise RuntimeError(f"the LRS exited at start-up:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.origin}/xAPI/about", timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the LRS did not answer within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the LRS (it forgets every statement)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / "lrs.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class LrsReader:
    """Reads statements back with the xAPI query API (GET /statements)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.origin = self.endpoint.rsplit("/xAPI", 1)[0]
        self.http = requests.Session()
        self.http.auth = (USERNAME, PASSWORD)
        self.http.headers["X-Experience-API-Version"] = "1.0.3"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> LrsReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def statement(self, statement_id: str) -> dict[str, Any] | None:
        answer = self.http.get(
            f"{self.endpoint}/statements", params={"statementId": statement_id}, timeout=10
        )
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        document: dict[str, Any] = answer.json()
        return document

    def query(self, **params: str) -> list[dict[str, Any]]:
        """Return every statement matching the filters, following ``more`` links."""
        return list(self._pages(params))

    def _pages(self, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self.endpoint}/statements"
        query: dict[str, str] | None = {"limit": "500", **params}
        while url:
            answer = self.http.get(url, params=query, timeout=30)
            answer.raise_for_status()
            page = answer.json()
            yield from page["statements"]
            more = page.get("more")
            url = f"{self.origin}{more}" if more else None
            query = None

    def post(self, documents: list[dict[str, Any]]) -> requests.Response:
        """Store statements directly, as another system would."""
        return self.http.post(
            f"{self.endpoint}/statements",
            data=json.dumps(documents),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
