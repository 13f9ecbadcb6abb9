"""JSON log lines carry the request id; the id comes from the proxy only when well-formed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from lti_tool.config import ConfigError, Settings, log_format
from lti_tool.observability.logs import JsonFormatter, request_id_from


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_a_refusal_is_logged_as_json_with_the_proxys_request_id(
    client: FlaskClient, json_lines: io.StringIO
) -> None:
    response = client.get(
        "/lti/refus/LTI_STATE_MISMATCH?lt=secret-token", headers={"X-Request-Id": "abc-123.X:9"}
    )
    assert response.status_code == 403
    assert response.headers["X-Request-Id"] == "abc-123.X:9"
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    (refusal,) = [line for line in lines if line["logger"] == "lti_tool.lti.views"]
    assert refusal["request_id"] == "abc-123.X:9"
    assert refusal["level"] == "WARNING"
    assert refusal["message"].startswith("LTI refused: LTI_STATE_MISMATCH")
    assert refusal["time"].endswith("+00:00")
    assert "secret-token" not in json_lines.getvalue()


def test_outside_a_request_the_id_is_null(json_lines: io.StringIO) -> None:
    logging.getLogger("xapi.relay").warning("LRS unreachable")
    (line,) = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    assert line["request_id"] is None
    assert line["logger"] == "xapi.relay"


@pytest.mark.parametrize(
    "sent", [None, "", "a" * 129, "has space", 'quote"', "new\nline", "é", "<script>"]
)
def test_a_malformed_request_id_is_replaced(client: FlaskClient, sent: str | None) -> None:
    made = request_id_from(sent)
    assert made != sent
    assert len(made) == 32
    assert int(made, 16) >= 0
    assert request_id_from("a" * 128) == "a" * 128


def test_each_request_gets_its_own_id(client: FlaskClient) -> None:
    ids = {client.get("/healthz").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_the_log_format_is_checked() -> None:
    assert log_format({}) == "text"
    assert log_format({"JALON_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ConfigError, match="JALON_LOG_FORMAT"):
        log_format({"JALON_LOG_FORMAT": "yaml"})
    env = {"JALON_SECRET_KEY": "x" * 32, "JALON_LOG_FORMAT": "json"}
    assert Settings.from_env(env).log_format == "json"


def test_jalon_refuses_an_unknown_log_format() -> None:
    from click.testing import CliRunner

    from lti_tool.cli import main

    result = CliRunner(env={"JALON_LOG_FORMAT": "xml"}).invoke(main, ["db", "--help"])
    assert result.exit_code != 0
    assert "JALON_LOG_FORMAT must be text or json" in result.output
