"""The signed login state: what it carries, what it refuses, and launches that misuse it."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from itsdangerous import TimestampSigner

from lti_tool.db import Database
from lti_tool.lti.state import STATE_TTL, LoginState, StateSigner, signer_for
from tests.lti_tool.lti.conftest import counts
from tests.lti_tool.lti.platforms import Browser, TestPlatform
from tests.lti_tool.lti.test_rejections import _refused

SECRET = "a-secret-of-the-tests-0123456789abcdef"  # noqa: S105 (a test secret)
MOODLE = LoginState("browser-id-0123456789ab", 7, "https://moodle.example.edu", "Xq3k")
CANVAS = LoginState(
    "browser-id-ba9876543210",
    8,
    "https://canvas.instructure.com",
    "10000000000042",
    "post_message_forwarding",
    "https://sso.canvaslms.com",
)
OPEN_EDX = LoginState(
    "browser-id-0e0e0e0e0e0e",
    9,
    "https://courses.example.edu",
    "8f3c2a1b-lti",
    login=(
        ("login_hint", "a1b2c3d4e5f6"),
        ("lti_message_hint", "block-v1:Jalon+CM6+2026+type@lti_consumer+block@e3"),
        ("target_link_uri", "https://jalon.example.edu/lti/launch"),
    ),
)


@pytest.mark.parametrize(
    "state", [MOODLE, CANVAS, OPEN_EDX], ids=["cookie", "platform storage", "relaunch"]
)
def test_a_state_reads_back_as_issued(state: LoginState) -> None:
    signer = StateSigner(SECRET)
    assert signer.read(signer.issue(state)) == state


def test_the_nonce_is_fixed_by_the_state_and_the_secret() -> None:
    signer = StateSigner(SECRET)
    other_browser = LoginState("another-browser-id-0000", 7, MOODLE.issuer, MOODLE.client_id)
    assert signer.nonce(MOODLE) == signer.nonce(MOODLE)
    assert len(signer.nonce(MOODLE)) == 43
    assert signer.nonce(MOODLE) != signer.nonce(other_browser)
    assert signer.nonce(MOODLE) != StateSigner(SECRET + "x").nonce(MOODLE)
    # Nothing in the state text gives the nonce away.
    assert signer.nonce(MOODLE) not in signer.issue(MOODLE)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "state-made-up",
        "not.a.signed.value",
        StateSigner(SECRET + "-another-install").issue(MOODLE),
    ],
)
def test_a_state_jalon_did_not_sign_is_refused(text: str) -> None:
    assert StateSigner(SECRET).read(text) is None


def test_an_altered_state_is_refused() -> None:
    text = StateSigner(SECRET).issue(MOODLE)
    payload, rest = text.split(".", 1)
    altered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest
    assert StateSigner(SECRET).read(altered) is None


def test_a_state_expires_after_ten_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = StateSigner(SECRET)
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - STATE_TTL + 5)
    fresh = signer.issue(MOODLE)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - STATE_TTL - 5)
    stale = signer.issue(MOODLE)
    monkeypatch.undo()
    assert signer.read(fresh) == MOODLE
    assert signer.read(stale) is None


def test_a_well_signed_payload_of_another_shape_is_refused() -> None:
    signer = StateSigner(SECRET)
    serializer = signer._serializer
    for payload in (
        {"browser": "x"},
        ["id", "7", "iss", "client"],  # platform id not an integer
        ["id", 7, "iss"],
        ["id", 7, "iss", "client", "target"],
        ["id", 7, "iss", "client", "target", 5],
        ["id", 7, "iss", "client", {"login_hint": 42}],
        # Only login parameters: never an address of the signer's choosing.
        ["id", 7, "iss", "client", {"redirect_uri": "https://elsewhere.example"}],
    ):
        assert signer.read(str(serializer.dumps(payload))) is None


def test_a_relaunch_repeats_the_login_with_the_states_issuer() -> None:
    assert MOODLE.relaunch() is None
    assert OPEN_EDX.relaunch() == {
        "iss": "https://courses.example.edu",
        "login_hint": "a1b2c3d4e5f6",
        "lti_message_hint": "block-v1:Jalon+CM6+2026+type@lti_consumer+block@e3",
        "target_link_uri": "https://jalon.example.edu/lti/launch",
    }


# At the launch ---------------------------------------------------------------------------


def test_an_expired_state_is_refused_at_the_launch(
    registered: Flask,
    browser: Browser,
    clean_database: Database,
    moodle: TestPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login = browser.login(moodle)
    state = signer_for(registered.config["SECRET_KEY"]).read(login.state)
    assert state is not None
    at = int(time.time()) - STATE_TTL - 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: at)
    stale = signer_for(registered.config["SECRET_KEY"]).issue(state)
    monkeypatch.undo()
    token = moodle.sign(moodle.claims(login.nonce))
    before = counts(clean_database)
    _refused(browser.post_token(token, stale), "LTI_STATE_MISMATCH")
    assert counts(clean_database) == before


def test_a_state_signed_by_another_secret_is_refused_at_the_launch(
    registered: Flask, browser: Browser, clean_database: Database, moodle: TestPlatform
) -> None:
    """A forged state naming the browser's own cookie, with a nonce the forger chose."""
    login = browser.login(moodle)
    state = signer_for(registered.config["SECRET_KEY"]).read(login.state)
    assert state is not None
    forger = StateSigner("the-forger-guessed-this-secret-000000")
    token = moodle.sign(moodle.claims(forger.nonce(state)))
    before = counts(clean_database)
    _refused(browser.post_token(token, forger.issue(state)), "LTI_STATE_MISMATCH")
    assert counts(clean_database) == before


def test_a_state_naming_another_registration_is_refused_at_the_launch(
    registered: Flask,
    browser: Browser,
    clean_database: Database,
    moodle: TestPlatform,
    canvas: TestPlatform,
) -> None:
    """The Canvas login's state cannot carry a Moodle token, even with the right nonce."""
    login = browser.login(canvas)
    token = moodle.sign(moodle.claims(login.nonce))
    before = counts(clean_database)
    _refused(browser.post_token(token, login.state), "LTI_ISSUER_MISMATCH")
    assert counts(clean_database) == before


def test_pylti1p3_is_given_no_http_client(registered: Flask) -> None:
    """The launch never lets pylti1p3 fetch anything: keys come from PlatformKeys."""
    from lti_tool.lti import services
    from lti_tool.lti.launch import JalonMessageLaunch
    from lti_tool.lti.views import _flask_request, _states

    with registered.test_request_context("/lti/launch", method="POST"):
        message = JalonMessageLaunch(
            _flask_request(), None, None, services().platform_keys, _states()
        )  # type: ignore[arg-type]
        with pytest.raises(RuntimeError, match="Jalon does its own"):
            message._requests_session.get("https://platform.example/jwks")
