"""bench/scale.py starts and says what it does; its locust users load. Nothing is timed."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_scale_bench_imports_and_its_help_names_the_options() -> None:
    from bench import scale

    options = scale.parser().format_help()
    assert "--quick" in options
    assert "--processes" in options
    answer = subprocess.run(
        [sys.executable, str(REPO / "bench" / "scale.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    assert "Scale-out benchmark" in answer.stdout
    assert "--quick" in answer.stdout


def test_the_bare_tool_answers_a_launch_signed_by_the_bench_platform() -> None:
    """The baseline's bare pylti1p3 tool validates the bench platform's launch."""
    from bench.bare_tool import DictCache, bare_pylti1p3_app
    from bench.lms import PlatformSigner, login_params, query

    platform = PlatformSigner()
    tool = "https://bare.test"
    client = bare_pylti1p3_app(platform.issuer, platform.jwk, tool, DictCache()).test_client()
    login = client.post("/login", data=login_params(f"{tool}/launch", 7), base_url=tool)
    assert login.status_code == 302
    sent = query(login.headers["Location"])
    token = platform.token(sent["nonce"], 7, f"{tool}/launch")
    launched = client.post(
        "/launch", data={"id_token": token, "state": sent["state"]}, base_url=tool
    )
    assert launched.status_code == 302
    page = client.get(launched.headers["Location"], base_url=tool)
    assert "Bonjour Learner 7" in page.get_data(as_text=True)


def test_the_locust_users_load() -> None:
    if importlib.util.find_spec("locust") is None:
        if os.environ.get("CI"):
            pytest.fail("locust is not installed, and CI must run this test")
        pytest.skip("locust is not installed (pip install -e '.[test]')")
    answer = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(REPO / "bench" / "scale_users.py"), "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert answer.returncode == 0, answer.stderr
    for user in ("Learner", "Evaluator", "JalonLaunch", "BareLaunch", "BareLaunchPage"):
        assert user in answer.stdout
