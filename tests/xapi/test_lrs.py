"""The HTTP LRS client against a local HTTP server: headers, bytes, keep-alive, verdicts."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from tests.fake_dns import LOOPBACK
from tests.xapi.http_fakes import Fault, LocalHttpServer
from tests.xapi.lrs_process import free_port
from tests.xapi.samples import statement, statements
from xapi.lrs import HttpLrs, InMemoryLrs, LrsAnswer, LrsUnavailableError, Outcome, batch_body

PASSWORD = "s3cret-lrs-password"  # noqa: S105 (a test value)


@pytest.fixture
def stub() -> Iterator[LocalHttpServer]:
    server = LocalHttpServer().start()
    yield server
    server.stop()


@pytest.fixture
def client(stub: LocalHttpServer) -> Iterator[HttpLrs]:
    lrs = HttpLrs(
        stub.endpoint, "jalon", PASSWORD, policy=LOOPBACK, connect_timeout=1, read_timeout=0.5
    )
    yield lrs
    lrs.close()


def test_a_batch_is_the_stored_texts_joined_byte_for_byte(
    stub: LocalHttpServer, client: HttpLrs
) -> None:
    bodies = [s.json for s in statements(3)] + ['{"id": "x",  "verb" :{}}']
    assert client.post_statements(bodies).outcome is Outcome.DELIVERED
    (seen,) = stub.seen
    assert seen.method == "POST"
    assert seen.path == "/xAPI/statements"
    assert seen.body == b"[" + b",".join(b.encode() for b in bodies) + b"]"
    assert seen.body == batch_body(bodies)
    assert json.loads(seen.body)[0]["object"]["definition"]["name"]["fr-FR"].startswith("Épreuve")


def test_xapi_headers_and_basic_auth(stub: LocalHttpServer, client: HttpLrs) -> None:
    client.post_statements([statement().json])
    headers = stub.seen[0].headers
    assert headers["X-Experience-API-Version"] == "1.0.3"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    expected = base64.b64encode(f"jalon:{PASSWORD}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"


def test_batches_reuse_one_keep_alive_connection(stub: LocalHttpServer, client: HttpLrs) -> None:
    stub.faults += [Fault("answer", 204), Fault("answer", 200, b'["a"]')]
    for _ in range(5):
        assert client.post_statements([statement().json]).outcome is Outcome.DELIVERED
    assert len(stub.seen) == 5
    assert stub.connections == 1


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, b'["id-1"]', Outcome.DELIVERED),
        (200, b"", Outcome.DELIVERED),
        (204, b"", Outcome.DELIVERED),  # Ralph, for an already-stored batch
        (400, b'{"warnings":["statements.1.result.score.scaled"]}', Outcome.REJECTED),
        (409, b'{"message":"x is conflicting"}', Outcome.REJECTED),
        (413, b"too large", Outcome.REJECTED),
        (422, b'{"detail":"invalid"}', Outcome.REJECTED),  # Ralph's "invalid statement"
        (500, b"boom", Outcome.RETRY),
        (502, b"", Outcome.RETRY),
        (503, b"maintenance", Outcome.RETRY),
        (401, b"bad credentials", Outcome.RETRY),  # configuration, not content: keep them
        (404, b"no such endpoint", Outcome.RETRY),
        (429, b"slow down", Outcome.RETRY),
    ],
)
def test_answers_are_classified(
    stub: LocalHttpServer, client: HttpLrs, status: int, body: bytes, outcome: Outcome
) -> None:
    stub.faults.append(Fault("answer", status, body))
    answer = client.post_statements([statement().json])
    assert answer == LrsAnswer(outcome, status, body.decode())
    # The connection stays usable after any answer.
    assert client.post_statements([statement().json]).outcome is Outcome.DELIVERED


def test_a_rejection_keeps_the_lrs_answer(stub: LocalHttpServer, client: HttpLrs) -> None:
    stub.faults.append(Fault("answer", 400, b'{"warnings":["Problem in statements.0.id"]}'))
    answer = client.post_statements([statement().json])
    assert answer.describe() == 'HTTP 400: {"warnings":["Problem in statements.0.id"]}'


def test_a_read_timeout_means_retry(stub: LocalHttpServer, client: HttpLrs) -> None:
    stub.faults.append(Fault("hang"))
    answer = client.post_statements([statement().json])
    assert (answer.outcome, answer.status) == (Outcome.RETRY, None)
    assert answer.detail == "timeout: OUTBOUND_TIMEOUT"
    stub.release.set()
    assert client.post_statements([statement().json]).outcome is Outcome.DELIVERED


def test_a_refused_connection_means_retry() -> None:
    port = free_port()  # nothing listens there
    lrs = HttpLrs(
        f"http://127.0.0.1:{port}/xAPI", "jalon", PASSWORD, policy=LOOPBACK, connect_timeout=1
    )
    try:
        answer = lrs.post_statements([statement().json])
    finally:
        lrs.close()
    assert (answer.outcome, answer.status) == (Outcome.RETRY, None)
    assert answer.detail == "connection error: OUTBOUND_UNREACHABLE"
    assert PASSWORD not in answer.detail


def test_a_dropped_connection_means_retry(stub: LocalHttpServer) -> None:
    proxy = LocalHttpServer(upstream=f"http://127.0.0.1:{stub.port}").start()
    lrs = HttpLrs(
        proxy.endpoint, "jalon", PASSWORD, policy=LOOPBACK, connect_timeout=1, read_timeout=2
    )
    try:
        proxy.faults.append(Fault("forward-then-drop"))
        answer = lrs.post_statements([statement().json])
    finally:
        lrs.close()
        proxy.stop()
    assert (answer.outcome, answer.status) == (Outcome.RETRY, None)
    assert len(stub.posted) == 1  # it reached the LRS; only the answer was lost


def test_the_password_is_never_shown(client: HttpLrs) -> None:
    assert PASSWORD not in repr(client)
    assert "jalon" not in repr(client)


def test_fetch_statement(stub: LocalHttpServer, client: HttpLrs) -> None:
    held = {"id": "4b5d…", "stored": "2026-11-29T10:00:00.000Z"}
    stub.faults += [
        Fault("answer", 200, json.dumps(held).encode()),
        Fault("answer", 404, b'{"message":"No Statement found"}'),
        Fault("answer", 503, b"down"),
    ]
    assert client.fetch_statement("4b5d") == held
    assert stub.seen[0].path == "/xAPI/statements?statementId=4b5d"
    assert stub.seen[0].headers["X-Experience-API-Version"] == "1.0.3"
    assert client.fetch_statement("4b5d") is None
    with pytest.raises(LrsUnavailableError, match="HTTP 503"):
        client.fetch_statement("4b5d")


def test_fetch_statement_on_a_network_error_raises() -> None:
    lrs = HttpLrs(
        f"http://127.0.0.1:{free_port()}/xAPI/",
        "jalon",
        PASSWORD,
        policy=LOOPBACK,
        connect_timeout=1,
    )
    try:
        with pytest.raises(LrsUnavailableError, match="connection error"):
            lrs.fetch_statement("x")
    finally:
        lrs.close()


def test_endpoint_with_or_without_trailing_slash() -> None:
    for endpoint in ("http://127.0.0.1:9/xAPI", "http://127.0.0.1:9/xAPI/"):
        lrs = HttpLrs(endpoint, "u", "p", policy=LOOPBACK)
        assert lrs.statements_url == "http://127.0.0.1:9/xAPI/statements"
        lrs.close()


def test_in_memory_lrs_behaves_like_learning_locker() -> None:
    lrs = InMemoryLrs()
    first, second = statement(), statement()
    assert lrs.post_statements([first.json]).status == 200
    # Identical re-send: accepted again.
    assert lrs.post_statements([first.json, second.json]).outcome is Outcome.DELIVERED
    # Same id, other content: 409, and the batch is refused whole.
    changed = first.json.replace("1001", "1002")
    third = statement()
    assert lrs.post_statements([third.json, changed]).status == 409
    assert third.id not in lrs.stored
    # A statement without a verb: 400 naming it, batch refused whole.
    bad = json.dumps({"id": third.id, "actor": {}, "object": {}})
    answer = lrs.post_statements([third.json, bad])
    assert (answer.status, "statements.1: missing verb" in answer.detail) == (400, True)
    assert third.id not in lrs.stored
