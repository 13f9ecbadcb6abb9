"""Access tokens: one request per platform and scope set, reused until shortly before expiry."""

from __future__ import annotations

import dataclasses

import jwt
import pytest
import requests

from lti_tool.services import LineItemSpec, LmsServiceError, lms_services
from lti_tool.services.ags import HttpGrades
from lti_tool.services.client import ServiceClient
from lti_tool.services.context import SCOPE_LINEITEM, SCOPE_MEMBERSHIPS, SCOPE_RESULT_READONLY
from lti_tool.services.nrps import HttpRoster
from lti_tool.services.tokens import EXPIRY_MARGIN, AccessTokens
from tests.fake_dns import public_dns
from tests.lti_tool.services.conftest import JALON, Lms
from xapi.outbound import OutboundHttp, OutboundPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_second_call_makes_no_token_request(lms: Lms) -> None:
    context = lms.context(1)
    with lms.app.app_context():
        services = lms_services()
        services.nrps.members(context)
        services.nrps.members(context)
        assert lms.token_requests() == 1
        # Another scope set is another token; then it is reused too.
        column = services.ags.line_item(context, _spec())
        services.ags.results(context, column)
        services.ags.results(context, column)
    assert lms.token_requests() == 3  # memberships, lineitem, result.readonly
    assert services.tokens is not None
    assert services.tokens.requests == 3


def test_a_token_is_renewed_shortly_before_it_expires(lms: Lms) -> None:
    context = lms.context(1)
    clock = Clock()
    tokens = AccessTokens(_http(lms.transport.session()), clock=clock)
    roster = HttpRoster(ServiceClient(tokens.http, tokens))
    with lms.app.app_context():
        roster.members(context)
        clock.now += 3600 - EXPIRY_MARGIN - 1  # the demo's tokens last an hour
        roster.members(context)
        assert tokens.requests == 1
        clock.now += 2
        roster.members(context)
    assert tokens.requests == 2
    tokens.http.close()


def test_the_client_assertion_is_what_lti_security_asks(lms: Lms) -> None:
    context = lms.context(1)
    sent: list[dict[str, str]] = []
    transport = lms.transport.session()
    send = transport.request

    def record(method: str, url: str, **kwargs: object) -> object:
        if url.endswith("/token"):
            sent.append(dict(kwargs["data"]))  # type: ignore[call-overload]
        return send(method, url, **kwargs)  # type: ignore[arg-type]

    transport.request = record  # type: ignore[method-assign]
    http = _http(transport)
    tokens = AccessTokens(http)
    grades = HttpGrades(ServiceClient(http, tokens))
    with lms.app.app_context():
        grades.results(context, grades.line_item(context, _spec()))
        grades.results(context, grades.line_item(context, _spec()))
    http.close()
    # One scope each, among those the launch granted (the demo grants lineitem, not .readonly).
    assert [form["scope"] for form in sent] == [SCOPE_LINEITEM, SCOPE_RESULT_READONLY]
    assert {form["scope"] for form in sent} <= context.granted
    claims = [jwt.decode(f["client_assertion"], options={"verify_signature": False}) for f in sent]
    assert all(c["iss"] == c["sub"] == "jalon-demo" for c in claims)
    assert all(c["aud"] == f"{JALON}/demo/token" for c in claims)
    assert claims[0]["jti"] != claims[1]["jti"]
    assert all(0 < c["exp"] - c["iat"] <= 300 for c in claims)
    assert jwt.get_unverified_header(sent[0]["client_assertion"])["kid"] == context.signer.kid
    assert SCOPE_MEMBERSHIPS not in " ".join(f["scope"] for f in sent)


def test_the_assertion_goes_to_auth_audience_when_the_platform_has_one(lms: Lms) -> None:
    """Brightspace and others want ``aud`` = their audience, not the token URL (problem 10)."""
    context = lms.context(1)
    sent: list[dict[str, str]] = []
    transport = lms.transport.session()
    send = transport.request

    def record(method: str, url: str, **kwargs: object) -> object:
        if url.endswith("/token"):
            sent.append(dict(kwargs["data"]))  # type: ignore[call-overload]
        return send(method, url, **kwargs)  # type: ignore[arg-type]

    transport.request = record  # type: ignore[method-assign]
    http = _http(transport)
    tokens = AccessTokens(http)
    access = dataclasses.replace(context.access, audience="https://auth.example.edu/oauth2")
    with lms.app.app_context(), pytest.raises(LmsServiceError):
        # The demo's token endpoint wants its own URL as audience, so it refuses: the point is
        # what Jalon sent.
        HttpRoster(ServiceClient(http, tokens)).members(dataclasses.replace(context, access=access))
    http.close()
    claims = jwt.decode(sent[0]["client_assertion"], options={"verify_signature": False})
    assert claims["aud"] == "https://auth.example.edu/oauth2"


def _http(transport: requests.Session) -> OutboundHttp:
    """Jalon's client under the app's policy, over the in-process transport."""
    return OutboundHttp(OutboundPolicy(resolver=public_dns("jalon.test")), transport)


def _spec() -> LineItemSpec:
    return LineItemSpec("E1", 16, tag="jalon")
