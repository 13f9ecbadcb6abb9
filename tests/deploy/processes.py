"""The processes of a ``Stack``: how each is run, waited for, and read when it fails."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests


class StackError(RuntimeError):
    """A process of the stack did not start; the message holds the end of its log."""


def free_port() -> int:
    """Return a port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Tell whether nothing listens on 127.0.0.1:``port`` (nor on every address)."""
    with socket.socket() as probe:
        # As nginx and gunicorn bind: connections of a stack just stopped do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Instance:
    """One ``jalon serve``: its port, process and log file."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the instance's own address, without the proxy (plain http)."""
        return f"http://127.0.0.1:{self.port}"


def wait_until_answering(
    url: str, process: subprocess.Popen[bytes] | None, log: Path, ca_file: str
) -> None:
    """Wait until ``url`` answers 200; fail at once if ``process`` ends, after 60 s if not."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StackError(f"{url}: the process ended ({process.returncode}):\n{tail(log)}")
        try:
            if requests.get(url, timeout=2, verify=ca_file).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise StackError(f"{url} did not answer within 60 s:\n{tail(log)}")


def jalon_command() -> list[str]:
    """Return the installed ``jalon`` script of this interpreter's environment."""
    script = Path(sys.executable).parent / "jalon"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from lti_tool.cli import main; main()"]


def tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file (nothing when it does not exist)."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
