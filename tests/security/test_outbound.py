"""Issue 10, items 1 and 2: every call Jalon makes on its own goes through one policy.

Item 1 — https only, public addresses only (judged on the resolved and the connected
address, not on the text), the platform's own origins for its services, no redirects,
short timeouts, a size cap; a page shows a reason code, never what was fetched.
Item 2 — a redirect is never a success: the LRS batch stays pending, the grade unsent.

Nothing here connects anywhere but 127.0.0.1: the "public address" path uses a resolver
that answers a public address and a transport that answers in process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from requests.structures import CaseInsensitiveDict

from lti_tool import create_app
from lti_tool.cli.platforms import platform as platform_cli
from lti_tool.config import LrsSettings, Settings
from lti_tool.db import Database
from lti_tool.evaluation import passback
from lti_tool.evaluation.models import GradePassback, PassbackStatus
from lti_tool.frameworks import install_bundled
from lti_tool.lti import keys as tool_keys
from lti_tool.lti.jwks import HttpJwksFetcher, JwksError
from lti_tool.models import LtiResourceLink, Platform
from lti_tool.registration import set_service_origins
from lti_tool.services import LmsContext, LmsServiceError, lms_services
from lti_tool.services.context import SCOPE_SCORE
from lti_tool.services.tokens import PlatformAccess, ToolSigner
from tests.fake_dns import LOOPBACK, PUBLIC_ADDRESS, loopback_key_sets, public_dns
from tests.lti_tool.evaluation.test_passback import NOW, _grade
from tests.lti_tool.lti.conftest import key_server, moodle
from tests.lti_tool.lti.platforms import NRPS, Browser, JwksServer, TestPlatform, landing_token
from tests.xapi.http_fakes import Fault, LocalHttpServer
from tests.xapi.samples import statements
from xapi import outbox
from xapi.lrs import HttpLrs
from xapi.outbound import OutboundError, OutboundHttp, OutboundPolicy
from xapi.relay import Relay

__all__ = ["key_server", "moodle"]
ADMIN = "admin-token-0123456789-abcdef"
INTERNAL_ANSWER = "INTERNAL-ANSWER-7f3a"  # what an internal service says: never on a page
REDIRECTS = [301, 302, 307, 308]


class Recorder(requests.adapters.BaseAdapter):
    """A transport that answers 200 in process and records what reached it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append((str(request.method), str(request.url)))
        response = requests.Response()
        response.status_code = 200
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response._content = b"{}"
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release."""

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("http://", self)
        session.mount("https://", self)
        return session


@pytest.fixture
def lms() -> Iterator[LocalHttpServer]:
    server = LocalHttpServer().start()
    yield server
    server.stop()


# -- item 1: what the policy refuses --------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "10.1.2.3",
        "192.168.0.10",
        "172.16.5.4",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 (a target refused, not a bind)
        "224.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[fe80::1]",
        "2130706433",  # 127.0.0.1 in decimal
        "0x7f.1",  # …in hexadecimal, short form
        "0177.0.0.1",  # …in octal
    ],
)
def test_item1_internal_and_encoded_addresses_are_refused_before_any_request(host: str) -> None:
    recorder = Recorder()
    # The system resolver: these names and numbers resolve locally, without DNS.
    http = OutboundHttp(OutboundPolicy.for_base_url("https://jalon.test"), recorder.session())
    with pytest.raises(OutboundError) as refused:
        http.request("GET", f"https://{host}/mod/lti/services.php/7/memberships")
    assert refused.value.code == "OUTBOUND_ADDRESS"
    assert recorder.calls == []


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:10.0.0.1",  # IPv4-mapped
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo around 127.0.0.1
        "fd00:ec2::254",  # unique local (the IPv6 metadata service)
        "ff02::1",
    ],
)
def test_item1_ipv4_hidden_in_ipv6_forms_is_judged_as_itself(address: str) -> None:
    recorder = Recorder()
    policy = OutboundPolicy(resolver=public_dns("lms.example.edu", address=address))
    with pytest.raises(OutboundError, match="OUTBOUND_ADDRESS"):
        OutboundHttp(policy, recorder.session()).request("GET", "https://lms.example.edu/x")
    assert recorder.calls == []


def test_item1_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    def resolve(_host: str, _port: int) -> list[str]:
        return [PUBLIC_ADDRESS, "10.0.0.7"]

    recorder = Recorder()
    http = OutboundHttp(OutboundPolicy(resolver=resolve), recorder.session())
    with pytest.raises(OutboundError, match="OUTBOUND_ADDRESS"):
        http.request("GET", "https://lms.example.edu/x")
    assert recorder.calls == []


def test_item1_a_public_address_over_https_goes_through_without_redirects() -> None:
    recorder = Recorder()
    policy = OutboundPolicy(resolver=public_dns("lms.example.edu"))
    answer = OutboundHttp(policy, recorder.session()).request("GET", "https://lms.example.edu/x")
    assert answer.status_code == 200
    assert recorder.calls == [("GET", "https://lms.example.edu/x")]


@pytest.mark.parametrize(
    "url",
    [
        "http://lms.example.edu/token",  # plain http, Jalon on a public base URL
        "ftp://lms.example.edu/keys",
        "file:///etc/passwd",
        "gopher://lms.example.edu/",
    ],
)
def test_item1_only_https_on_a_public_jalon(url: str) -> None:
    recorder = Recorder()
    policy = OutboundPolicy.for_base_url(
        "https://jalon.test", resolver=public_dns("lms.example.edu")
    )
    with pytest.raises(OutboundError, match="OUTBOUND_SCHEME"):
        OutboundHttp(policy, recorder.session()).request("GET", url)
    assert recorder.calls == []


def test_item1_the_demo_may_use_http_on_loopback_and_nothing_else(lms: LocalHttpServer) -> None:
    demo = OutboundPolicy.for_base_url("http://127.0.0.1:8000")
    assert demo.allow_loopback_http
    assert OutboundHttp(demo).request("GET", lms.endpoint).status_code == 200
    for target in ("http://10.0.0.1/x", "http://192.168.1.1/x", "https://169.254.169.254/x"):
        with pytest.raises(OutboundError, match="OUTBOUND_ADDRESS"):
            OutboundHttp(demo).request("GET", target)
    assert len(lms.seen) == 1


def test_item1_the_connected_address_is_checked_not_only_the_dns_answer() -> None:
    """DNS rebinding: the check's lookup says public, the connection lands on loopback."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)
    port = listener.getsockname()[1]
    received: list[bytes] = []

    def accept() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(2)
            try:
                received.append(connection.recv(1024))
            except OSError:
                received.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    # The policy's lookup answers a public address; the socket then resolves "localhost".
    policy = OutboundPolicy(resolver=public_dns("localhost"))
    try:
        with pytest.raises(OutboundError, match="OUTBOUND_ADDRESS"):
            OutboundHttp(policy).request("GET", f"https://localhost:{port}/latest/meta-data/")
        thread.join(5)
    finally:
        listener.close()
    assert received in ([], [b""])  # not one byte (not even a TLS hello) was sent


def test_item1_an_answer_larger_than_the_cap_is_refused() -> None:
    fetcher = HttpJwksFetcher(OutboundHttp(LOOPBACK))
    with _raw_server(_large_key_set) as port, pytest.raises(JwksError, match="OUTBOUND_TOO_LARGE"):
        fetcher.fetch(f"http://127.0.0.1:{port}/jwks")


def test_item1_a_streamed_answer_is_cut_at_the_cap() -> None:
    """No Content-Length to go by: the body is read in chunks and dropped past the cap."""
    with _raw_server(_chunked_forever) as port:
        started = time.monotonic()
        with pytest.raises(OutboundError, match="OUTBOUND_TOO_LARGE"):
            OutboundHttp(LOOPBACK).request("GET", f"http://127.0.0.1:{port}/")
    assert time.monotonic() - started < 5


def test_item1_a_server_that_never_answers_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    policy = dataclasses.replace(LOOPBACK, read_timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(OutboundError, match="OUTBOUND_TIMEOUT"):
            OutboundHttp(policy).request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/")
    finally:
        listener.close()
    assert time.monotonic() - started < 3


def test_item1_a_trickling_server_times_out_on_the_whole_answer() -> None:
    """A byte now and then resets every read timeout; the whole answer has a deadline."""
    policy = dataclasses.replace(LOOPBACK, read_timeout=0.5, total_timeout=1.0)
    with _raw_server(_trickle) as port:
        started = time.monotonic()
        with pytest.raises(OutboundError, match="OUTBOUND_TIMEOUT"):
            OutboundHttp(policy).request("GET", f"http://127.0.0.1:{port}/")
    assert time.monotonic() - started < 4


# -- item 1: the evaluator page, after a launch whose claims point elsewhere -----------------


def _evaluator_page(app: Flask, moodle: TestPlatform, memberships_url: str) -> str:
    def change(claims: dict[str, Any]) -> None:
        claims[NRPS] = {**claims[NRPS], "context_memberships_url": memberships_url}

    landing_token(Browser(app.test_client()).launch(moodle, "learner", change=change))
    staff = landing_token(Browser(app.test_client()).launch(moodle, "instructor", change=change))
    page = Browser(app.test_client()).get(f"/evaluation/?lt={staff}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _public_app(settings: Settings, database: Database, **services: Any) -> Flask:
    app = create_app(settings, database=database, jwks_fetcher=loopback_key_sets(), **services)
    app.config["TESTING"] = True
    return app


def test_item1_a_roster_url_off_the_platforms_origin_is_never_called(
    settings: Settings,
    clean_database: Database,
    moodle: TestPlatform,
    lms: LocalHttpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lms.faults.append(Fault("answer", 200, _roster(INTERNAL_ANSWER)))
    app = _public_app(settings, clean_database, outbound_resolver=public_dns())
    with clean_database.session() as session:
        install_bundled(session)
        moodle.register(session)
    with caplog.at_level(logging.WARNING, logger="lti_tool.services.client"):
        page = _evaluator_page(app, moodle, f"http://127.0.0.1:{lms.port}/internal/members")
    missing = page.split('id="titre-non-remis"')[1]
    assert "OUTBOUND_ORIGIN" in missing
    assert INTERNAL_ANSWER not in page
    assert lms.seen == []  # not even a token was asked for
    # The log names the origin an administrator would allow, never the path or query.
    assert f"--add http://127.0.0.1:{lms.port}" in caplog.text
    assert "/internal/members" not in caplog.text


def test_item1_a_platform_host_resolving_to_an_internal_address_is_refused(
    settings: Settings, clean_database: Database, moodle: TestPlatform, lms: LocalHttpServer
) -> None:
    """The registered host itself now resolves to loopback: no call, a code on the page."""
    lms.faults.append(Fault("answer", 200, _roster(INTERNAL_ANSWER)))
    app = _public_app(
        settings,
        clean_database,
        outbound_resolver=public_dns("moodle.example.edu", address="127.0.0.1"),
    )
    internal = f"https://moodle.example.edu:{lms.port}"
    with clean_database.session() as session:
        install_bundled(session)
        set_service_origins(session, moodle.register(session), add=[internal])
    page = _evaluator_page(app, moodle, f"{internal}/members")
    assert "OUTBOUND_ADDRESS" in page.split('id="titre-non-remis"')[1]
    assert INTERNAL_ANSWER not in page
    assert lms.seen == []


def test_item1_a_grade_column_off_the_platforms_origin_is_refused_and_not_sent(
    settings: Settings, clean_database: Database, lms: LocalHttpServer
) -> None:
    """The AGS claim named an internal URL: the grade fails with a code, nothing is called."""
    app = _public_app(settings, clean_database, outbound_resolver=public_dns())
    with clean_database.session() as session:
        row = _grade(session, scopes=(SCOPE_SCORE,), lineitem_url=f"{lms.endpoint}lineitems/7")
        row_id = row.id
        session.commit()
    with app.app_context():
        report = passback.deliver_due(
            clean_database.sessions,
            NOW,
            lms_services().ags,
            10,
            rng=random.Random(3),  # noqa: S311
        )
    assert report == passback.DeliveryReport(failed=1)
    assert lms.seen == []
    with clean_database.session() as session:
        kept = session.get(GradePassback, row_id)
        assert kept is not None
        assert (kept.status, kept.last_error) == (PassbackStatus.FAILED, "OUTBOUND_ORIGIN")


def test_item1_an_extra_service_origin_set_from_the_cli_is_allowed(
    tmp_path: Any, database_url: str, clean_database: Database, key_server: JwksServer
) -> None:
    runner = CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_BASE_URL": "https://jalon.test",
            "JALON_INTERNAL_ANSWER_KEY": "",
        }
    )
    who = ["https://canvas.instructure.com", "10000000000042"]
    options = ["--issuer", who[0], "--client-id", who[1]]
    added = runner.invoke(
        platform_cli,
        [
            "add",
            "--issuer", who[0],
            "--client-id", who[1],
            "--auth-login-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "--auth-token-url", "https://sso.canvaslms.com/login/oauth2/token",
            "--jwks-url", "https://sso.canvaslms.com/api/lti/security/jwks",
            "--service-origin", "https://school.instructure.com/api/lti",
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    more = runner.invoke(platform_cli, ["origins", *options, "--add", "https://other.instructure.com"])
    assert more.exit_code == 0, more.output
    assert "https://school.instructure.com\textra" in more.output
    assert "https://other.instructure.com\textra" in more.output
    assert "https://canvas.instructure.com\tregistered" in more.output
    less = runner.invoke(
        platform_cli, ["origins", *options, "--remove", "https://other.instructure.com/"]
    )
    assert "other.instructure.com" not in less.output
    refused = runner.invoke(platform_cli, ["origins", *options, "--add", "http://intranet.example"])
    assert refused.exit_code != 0
    assert "--add/--remove: must use https" in refused.output
    with clean_database.session() as session:
        stored = session.scalars(sa.select(Platform)).one()
        assert stored.service_origins == ["https://school.instructure.com"]
        assert "https://school.instructure.com" in stored.origins()


def test_item1_an_lms_refusal_keeps_its_code_and_never_its_text(
    settings: Settings, clean_database: Database, lms: LocalHttpServer
) -> None:
    base = f"http://127.0.0.1:{lms.port}"
    token = json.dumps({"access_token": "t0k", "expires_in": 3600}).encode()
    refusal = json.dumps({"error": f"{INTERNAL_ANSWER} for Léa Martin <lea@example.edu>"})
    lms.faults += [
        Fault("answer", 200, token, {"Content-Type": "application/json"}),
        Fault("answer", 400, refusal.encode(), {"Content-Type": "application/json"}),
    ]
    app = create_app(
        dataclasses.replace(settings, base_url="http://127.0.0.1:8000"), database=clean_database
    )
    with clean_database.session() as session:
        key = tool_keys.current(session)
        signer = ToolSigner(kid=key.kid, private_key=tool_keys.private_key(key))
        session.commit()
    context = LmsContext(
        access=PlatformAccess(1, base, "jalon", f"{base}/token"),
        signer=signer,
        origins=frozenset({base}),
        memberships_url=f"{base}/members",
    )
    with app.app_context(), pytest.raises(LmsServiceError) as refused:
        lms_services().nrps.members(context)
    assert (refused.value.code, refused.value.platform_status) == ("LMS_REQUEST_REFUSED", 400)
    assert refused.value.detail is None
    assert INTERNAL_ANSWER not in str(refused.value)


# -- item 2: a redirect is never a success ----------------------------------------------------


@pytest.mark.parametrize("status", REDIRECTS)
def test_item2_an_lrs_redirect_leaves_the_batch_pending_and_the_journal_says_so(
    status: int, settings: Settings, clean_database: Database, lms: LocalHttpServer
) -> None:
    # Where the LRS redirects, the stub answers 200 to anything: following would "deliver".
    elsewhere = f"http://127.0.0.1:{lms.port}/elsewhere/statements"
    lms.faults.append(Fault("answer", status, headers={"Location": elsewhere}))
    records = statements(3)
    with clean_database.session() as session:
        outbox.enqueue(session, records)
    lrs = HttpLrs(lms.endpoint, "jalon", "secret", policy=LOOPBACK)
    try:
        counts = Relay(clean_database.sessions, lrs, rng=random.Random(1)).run(once=True)  # noqa: S311
    finally:
        lrs.close()
    assert (counts.delivered, counts.retried, counts.requests) == (0, 3, 1)
    assert [(s.method, s.path) for s in lms.seen] == [("POST", "/xAPI/statements")]
    with clean_database.session() as session:
        summary = outbox.summary(session)
        entries = list(outbox.iter_entries(session))
    assert (summary.pending, summary.delivered, summary.dead) == (3, 0, 0)
    assert all("OUTBOUND_REDIRECT" in (e.last_error or "") for e in entries)
    configured = dataclasses.replace(
        settings, admin_token=ADMIN, lrs=LrsSettings(lms.endpoint, "jalon", "secret")
    )
    page = _admin_journal(create_app(configured, database=clean_database))
    assert "Le LRS a répondu par une redirection : rien n’a été enregistré." in page
    assert f"HTTP {status}: OUTBOUND_REDIRECT" in page


@pytest.mark.parametrize("status", REDIRECTS)
def test_item2_a_redirected_score_post_stays_unsent_and_is_retried(
    status: int, settings: Settings, clean_database: Database, lms: LocalHttpServer
) -> None:
    base = f"http://127.0.0.1:{lms.port}"
    token = json.dumps({"access_token": "t0k", "token_type": "bearer", "expires_in": 3600})
    lms.faults += [
        Fault("answer", 200, token.encode(), {"Content-Type": "application/json"}),
        Fault("answer", status, headers={"Location": f"{base}/elsewhere"}),
    ]
    # Jalon and its LMS on loopback (as the demo runs): the real transport, over HTTP.
    demo = dataclasses.replace(settings, base_url="http://127.0.0.1:8000")
    app = create_app(demo, database=clean_database)
    with clean_database.session() as session:
        row = _grade(session, scopes=(SCOPE_SCORE,), lineitem_url=f"{base}/lineitems/7")
        link = session.get(LtiResourceLink, row.resource_link_id)
        assert link is not None
        stored = session.get(Platform, link.platform_id)
        assert stored is not None
        stored.issuer, stored.auth_token_url = base, f"{base}/token"
        row_id = row.id
        session.commit()
    with app.app_context():
        report = passback.deliver_due(
            clean_database.sessions,
            NOW,
            lms_services().ags,
            10,
            rng=random.Random(2),  # noqa: S311
        )
    assert report == passback.DeliveryReport(retried=1)
    assert [(s.method, s.path) for s in lms.seen] == [
        ("POST", "/token"),
        ("POST", "/lineitems/7/scores"),
    ]
    with clean_database.session() as session:
        kept = session.get(GradePassback, row_id)
        assert kept is not None
        assert (kept.status, kept.last_error, kept.sent_at) == (
            PassbackStatus.PENDING,
            "OUTBOUND_REDIRECT",
            None,
        )
        assert kept.next_attempt_at > NOW


# -- helpers -----------------------------------------------------------------------------------


def _roster(name: str) -> bytes:
    learner = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    return json.dumps(
        {"id": "x", "members": [{"user_id": "internal-1", "roles": [learner], "name": name}]}
    ).encode()


def _admin_journal(app: Flask) -> str:
    app.config["TESTING"] = True
    client = app.test_client()
    form = client.get("/admin/connexion").get_data(as_text=True)
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/admin/connexion", data={"token": ADMIN, "csrf_token": csrf})
    page = client.get("/admin/xapi/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _large_key_set(connection: socket.socket) -> None:
    body = b'{"keys": [' + b" " * (1024 * 1024) + b"]}"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    connection.sendall(head % len(body) + body)


def _chunked_forever(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    while True:
        connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def _trickle(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    while True:
        connection.sendall(b"x")
        time.sleep(0.1)


class _raw_server:  # noqa: N801 (used as a context manager, like a function)
    """A TCP server on 127.0.0.1 that reads a request and runs ``behave`` on the socket."""

    def __init__(self, behave: Any) -> None:
        self.behave = behave
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)

    def _serve(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except OSError:
            return
        with connection:
            connection.recv(65536)
            with contextlib.suppress(OSError):  # the client gave up: what the test expects
                self.behave(connection)

    def __enter__(self) -> int:
        threading.Thread(target=self._serve, daemon=True).start()
        return int(self.listener.getsockname()[1])

    def __exit__(self, *_exc: object) -> None:
        self.listener.close()
