"""``jalon serve`` with two gunicorn workers: metrics summed across them, JSON log lines."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO
from tests.lti_tool.observability.scraping import AUTH, TOKEN, samples, value

REQUEST_ID = "nginx-0123456789abcdef"


def _free_ports(count: int) -> list[int]:
    """Return ports of this suite's range (18600-18689) that nothing listens on."""
    found = []
    for port in range(18600, 18690):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    pytest.fail("no free port in 18600-18689")


@dataclass
class Served:
    base: str
    metrics: str
    log: Path
    folder: Path
    server: subprocess.Popen[bytes]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """Run `jalon serve --workers 2` with JSON logs, a metrics token and a metrics port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JALON_", "PROMETHEUS_"))}
    env.update(
        JALON_SECRET_KEY="serve-secret-key-0123456789",
        JALON_INSTANCE_PATH=str(tmp_path),
        JALON_LOG_FORMAT="json",
        JALON_METRICS_TOKEN=TOKEN,
    )
    jalon = [sys.executable, "-c", "from lti_tool.cli import main; main()"]
    subprocess.run([*jalon, "db", "upgrade"], env=env, cwd=REPO, check=True, capture_output=True)
    port, metrics_port = _free_ports(2)
    # A leftover of a previous run: `jalon serve` empties the folder.
    (tmp_path / "metrics" / f"port-{port}").mkdir(parents=True)
    (tmp_path / "metrics" / f"port-{port}" / "counter_1.db").write_bytes(b"stale")
    output = tmp_path / "server.log"
    metrics_option = ["--metrics-port", str(metrics_port)]
    with output.open("wb") as log:
        server = subprocess.Popen(
            [*jalon, "serve", "--port", str(port), "--workers", "2", "--no-relay", *metrics_option],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        served = Served(
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{metrics_port}/metrics",
            output,
            tmp_path / "metrics" / f"port-{port}",
            server,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{served.base}/readyz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:  # not up yet
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(output.read_text(errors="replace"))
                time.sleep(0.2)
            yield served
        finally:
            server.terminate()
            server.wait(timeout=30)


def _workers_seen(folder: Path) -> set[str]:
    return {path.stem.rpartition("_")[2] for path in folder.glob("histogram_*.db")}


def _other(found: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> float:
    return value(found, "jalon_http_request_duration_seconds_count", group="other", status="4xx")


def test_counts_are_summed_across_workers(served: Served) -> None:
    assert not (served.folder / "counter_1.db").exists()
    before = samples(requests.get(f"{served.base}/metrics", headers=AUTH, timeout=10).text)
    sent = 0
    with ThreadPoolExecutor(8) as pool:
        # Until both workers have answered some: the kernel hands connections to either.
        while len(_workers_seen(served.folder)) < 2 and sent < 4000:
            list(
                pool.map(
                    lambda _: requests.get(f"{served.base}/nothing/here", timeout=10), range(40)
                )
            )
            sent += 40
    assert len(_workers_seen(served.folder)) == 2, "one worker answered everything"
    for _ in range(4):  # whichever worker answers the scrape gives the same sums
        after = samples(requests.get(f"{served.base}/metrics", headers=AUTH, timeout=10).text)
        assert _other(after) - _other(before) == sent
    assert requests.get(f"{served.base}/metrics", timeout=10).status_code == 401

    # The local port needs no token and gives the same sums, and the queues.
    local = samples(requests.get(served.metrics, timeout=10).text)
    assert _other(local) - _other(before) == sent
    assert value(local, "jalon_xapi_outbox_pending") == 0
    assert value(local, "jalon_database_up") == 1
    assert value(local, "jalon_db_pool_size") >= 2 * 5


def test_a_dead_workers_gauges_leave_the_sums(served: Served) -> None:
    while len(_workers_seen(served.folder)) < 2:
        requests.get(f"{served.base}/healthz", timeout=10)
    pids = {path.stem.rpartition("_")[2] for path in served.folder.glob("gauge_livesum_*.db")}
    assert pids == _workers_seen(served.folder)  # the workers' only: not the master's
    victim = sorted(pids)[0]
    os.kill(int(victim), signal.SIGKILL)
    deadline = time.monotonic() + 20
    while (served.folder / f"gauge_livesum_{victim}.db").exists():
        assert time.monotonic() < deadline, "the dead worker's gauges stayed"
        time.sleep(0.2)


def test_every_line_is_json_with_the_request_id(served: Served) -> None:
    response = requests.get(
        f"{served.base}/lti/refus/LTI_STATE_MISMATCH?lt=secret-token-value",
        headers={"X-Request-Id": REQUEST_ID},
        timeout=10,
    )
    assert response.status_code == 403
    assert response.headers["X-Request-Id"] == REQUEST_ID
    mine = requests.get(
        f"{served.base}/healthz",
        headers={"X-Request-Id": 'bad id "quoted" ' + "x" * 200},
        timeout=10,
    )
    made = mine.headers["X-Request-Id"]
    assert "bad" not in made
    assert len(made) == 32
    deadline = time.monotonic() + 10
    while made not in served.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    served.server.terminate()
    served.server.wait(timeout=30)

    lines = [json.loads(line) for line in served.log.read_text().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    refusal = [line for line in lines if line["request_id"] == REQUEST_ID]
    loggers = {line["logger"] for line in refusal}
    assert "lti_tool.lti.views" in loggers  # the app's own line: "LTI refused: …"
    assert "gunicorn.access" in loggers
    assert any("LTI_STATE_MISMATCH" in line["message"] for line in refusal)
    assert any(line["request_id"] == made for line in lines)
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # "Booting worker …"
    assert "secret-token-value" not in served.log.read_text()
