"""The processes ``bench/scale.py`` runs beside its stack: the baseline's tools, and locust.

Every process listens on 127.0.0.1 only and writes its output to a log file in the run's
folder; :class:`Process` stops it with SIGTERM (then SIGKILL) by its own id.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

from bench.lms import PlatformSigner, wait_for_port

REPO = Path(__file__).resolve().parents[1]
JALON = [sys.executable, "-c", "from lti_tool.cli import main; main()"]
TICKS = os.sysconf("SC_CLK_TCK")


class Process:
    """One process of the run, its output in ``log``."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log: IO[bytes] = log.open("ab")
        self.popen = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def workers(self) -> list[int]:
        """Return the ids of this process's children (gunicorn's workers)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()


def cpu_seconds(pids: list[int]) -> float:
    """Return the CPU time (user + system) the processes have used, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / TICKS


def jalon_env(
    database_url: str, redis_url: str, base_url: str, instance: Path, secret: str
) -> dict[str, str]:
    """Return the environment of a Jalon process without an LRS (statements wait)."""
    return {
        **os.environ,
        "JALON_DATABASE_URL": database_url,
        "JALON_REDIS_URL": redis_url,
        "JALON_SECRET_KEY": secret,
        "JALON_BASE_URL": base_url,
        "JALON_INSTANCE_PATH": str(instance),
    }


def platform_env(signer: PlatformSigner, folder: Path) -> dict[str, str]:
    """Write the platform's key for the locust users; return the variables that name it."""
    key = folder / "platform.pem"
    key.write_bytes(signer.private_pem())
    key.chmod(0o600)
    return {
        "BENCH_KEY_FILE": str(key),
        "BENCH_ISSUER": signer.issuer,
        "BENCH_JWKS_URL": signer.jwks_url,
        "BENCH_LINEITEM": signer.lineitem or "",
    }


def serve(env: dict[str, str], port: int, workers: int, threads: int, log: Path) -> Process:
    """Start ``jalon serve`` on 127.0.0.1:``port`` without its in-worker relays."""
    command = [
        *JALON,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--no-relay",
    ]
    return _listening(Process(command, env, log), port, "/healthz")


def serve_bare(env: dict[str, str], port: int, workers: int, threads: int, log: Path) -> Process:
    """Start the bare pylti1p3 tool under gunicorn with the settings ``jalon serve`` uses."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--access-logfile",
        "-",
        "--pythonpath",
        str(REPO),
        "bench.bare_tool:from_env()",
    ]
    return _listening(Process(command, env, log), port, "/login")


def _listening(process: Process, port: int, path: str = "/healthz") -> Process:
    """Return the process once it answers ``path``; stop it if it never does."""
    try:
        wait_for_port(port, 60)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code < 500:
                    return process
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"127.0.0.1:{port}{path} does not answer")
            time.sleep(0.2)
    except TimeoutError:
        process.stop()
        raise


@dataclass
class Figures:
    """One line of locust's statistics."""

    count: int
    failures: int
    rate: float
    p50: float
    p95: float
    p99: float


def locust(
    users: list[str],
    count: int,
    seconds: float,
    host: str,
    env: dict[str, str],
    prefix: Path,
    ramp: float = 0,
) -> dict[str, Figures]:
    """Run locust headless with ``count`` users of the classes named; return its figures.

    With a ``ramp``, users start over that many seconds and the figures count only the
    ``seconds`` after it (locust's ``--reset-stats``); without, all start at once.
    """
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(REPO / "bench" / "scale_users.py"),
        "--headless",
        "--only-summary",
        "-u",
        str(count),
        "-r",
        str(count / ramp if ramp else count),
        "-t",
        f"{int(seconds + ramp)}s",
        *(["--reset-stats"] if ramp else []),
        "--host",
        host,
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
        *users,
    ]
    env = {**env, "PYTHONPATH": str(REPO)}
    with (prefix.parent / f"{prefix.name}.log").open("ab") as log:
        subprocess.run(
            command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    figures = {}
    with Path(f"{prefix}_stats.csv").open(newline="") as table:
        for row in csv.DictReader(table):
            name = row["Name"] if row["Type"] != "flow" else f"= {row['Name']}"
            figures[name] = Figures(
                count=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                rate=float(row["Requests/s"]),
                p50=float(row["50%"] or 0),
                p95=float(row["95%"] or 0),
                p99=float(row["99%"] or 0),
            )
    return figures
