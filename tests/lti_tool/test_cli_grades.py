"""``jalon grades send`` as the worker systemd runs (deploy/systemd/jalon-grades.service)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from lti_tool.db import Database
from tests.conftest import REPO


def test_the_grade_worker_stops_cleanly_on_sigterm(
    tmp_path: Path, database_url: str, clean_database: Database
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JALON_")}
    env.update(JALON_DATABASE_URL=database_url, JALON_INSTANCE_PATH=str(tmp_path))
    code = "from lti_tool.cli import main; main(['grades', 'send'])"
    worker = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        started = worker.stdout.readline()
        worker.send_signal(signal.SIGTERM)  # what `systemctl stop` sends
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert started == "Delivering grades to the LMS (SIGTERM or Ctrl+C to stop)\n"
    assert worker.returncode == 0, output
    assert output.rstrip().endswith("Stopped")
