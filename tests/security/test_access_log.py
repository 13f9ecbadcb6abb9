"""Item 4: gunicorn's access and error lines never show the session token or a query secret."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from gunicorn.config import Config

from lti_tool.cli.access_log import FORMAT, AccessLogger, redact
from tests.browser import free_port
from tests.conftest import REPO

LT = "eyJhbGciOi.SESSION-TOKEN-VALUE.sig"
REGISTRATION = "registration-token-7c1d"


def test_item4_redact_keeps_the_path_names_and_safelisted_values_only() -> None:
    line = f"GET /epreuve?lt={LT}&lang=en&registration_token={REGISTRATION}&invite= HTTP/1.1"
    assert redact(line) == (
        "GET /epreuve?lt=[hidden]&lang=en&registration_token=[hidden]&invite=[hidden] HTTP/1.1"
    )
    # A parameter whose name is spelt with an escape is not on the safelist either.
    assert redact("/x?l%61ng=secret&format=json") == "/x?l%61ng=[hidden]&format=json"
    assert redact("/referentiels/C1.1") == "/referentiels/C1.1"


def test_item4_redact_hides_an_invitation_token_in_the_path() -> None:
    invite = "Zk3-invitation-token_9"
    line = f"GET /lti/register/{invite}?openid_configuration=https://lms/x&lang=fr HTTP/1.1"
    assert redact(line) == (
        "GET /lti/register/[hidden]?openid_configuration=[hidden]&lang=fr HTTP/1.1"
    )
    assert redact("POST /lti/register HTTP/1.1") == "POST /lti/register HTTP/1.1"


def _logger(tmp_path: Path) -> AccessLogger:
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("errorlog", str(tmp_path / "error.log"))
    return AccessLogger(config)


def _close(logger: AccessLogger) -> None:
    """Close the log files (the next logger of this process would leave them open)."""
    for handler in [*logger.access_log.handlers, *logger.error_log.handlers]:
        handler.close()


def test_item4_access_and_error_lines_hide_query_secrets(tmp_path: Path) -> None:
    logger = _logger(tmp_path)
    uri = f"/evaluation/?lt={LT}&lang=fr"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": uri,
        "PATH_INFO": "/evaluation/",
        "QUERY_STRING": uri.split("?", 1)[1],
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://jalon.test/epreuve?lt={LT}",
        "HTTP_USER_AGENT": "Firefox",
        "HTTP_X_JALON_LAUNCH": LT,
    }
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    request = SimpleNamespace(headers=[("X-JALON-LAUNCH", LT)])
    logger.cfg.set("access_log_format", '%(r)s %(q)s "%(f)s" %({x-jalon-launch}i)s')
    logger.access(response, request, environ, dt.timedelta(milliseconds=3))
    try:
        raise RuntimeError("the app broke")
    except RuntimeError:
        logger.exception("Error handling request %s", uri)  # as gunicorn's worker says it
    _close(logger)

    access = (tmp_path / "access.log").read_text()
    assert "GET /evaluation/?lt=[hidden]&lang=fr HTTP/1.1" in access
    assert 'lt=[hidden]&lang=fr "https://jalon.test/epreuve?lt=[hidden]"' in access
    errors = (tmp_path / "error.log").read_text()
    assert "Error handling request /evaluation/?lt=[hidden]&lang=fr" in errors
    assert LT not in access + errors


def test_the_proxy_request_id_is_logged_and_nothing_else_in_its_place(tmp_path: Path) -> None:
    logger = _logger(tmp_path)
    logger.cfg.set("access_log_format", FORMAT)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/healthz", "SERVER_PROTOCOL": "HTTP/1.1"}
    response = SimpleNamespace(status="200 OK", sent=2, headers=[])
    for given in ("5f2c0e9a41b7d3c6a8e0f1b2c3d4e5f6", f"lt={LT}", "a b"):
        request = SimpleNamespace(headers=[("X-REQUEST-ID", given)])
        logger.access(response, request, environ, dt.timedelta(milliseconds=1))
    _close(logger)

    lines = (tmp_path / "access.log").read_text().splitlines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == [
        "5f2c0e9a41b7d3c6a8e0f1b2c3d4e5f6",
        "-",
        "-",
    ]
    assert LT not in "".join(lines)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Run `jalon serve` on a free loopback port over a migrated SQLite database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JALON_")}
    env.update(JALON_SECRET_KEY="serve-secret-key-0123456789", JALON_INSTANCE_PATH=str(tmp_path))
    jalon = [sys.executable, "-c", "from lti_tool.cli import main; main()"]
    subprocess.run([*jalon, "db", "upgrade"], env=env, cwd=REPO, check=True, capture_output=True)
    port = free_port()
    output = tmp_path / "server.log"
    with output.open("wb") as log:
        server = subprocess.Popen(
            [*jalon, "serve", "--port", str(port), "--workers", "1", "--no-relay"],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:  # not up yet, or slow to answer under load
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(output.read_text(errors="replace"))
                time.sleep(0.2)
            yield base, output
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_item4_jalon_serve_logs_requests_without_their_secrets(
    served: tuple[str, Path],
) -> None:
    base, output = served
    page = requests.get(f"{base}/referentiels/?lt={LT}&lang=en", timeout=10)
    assert page.status_code == 200
    refused = requests.get(
        f"{base}/lti/register?openid_configuration=http://127.0.0.1:1/nothing"
        f"&registration_token={REGISTRATION}",
        timeout=10,
    )
    assert refused.status_code < 500
    deadline = time.monotonic() + 10
    while "/lti/register" not in output.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)

    logged = output.read_text(errors="replace")
    assert '"GET /referentiels/?lt=[hidden]&lang=en HTTP/1.1" 200' in logged
    assert "/lti/register?openid_configuration=[hidden]&registration_token=[hidden]" in logged
    assert LT not in logged
    assert REGISTRATION not in logged
