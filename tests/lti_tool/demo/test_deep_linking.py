"""The deep-linking round trip, with a pylti1p3 tool answering, and the refused responses."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from flask import Flask
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem as PyltiLineItem
from werkzeug.test import TestResponse

from lti_tool.demo.keys import KeyPair
from lti_tool.demo.models import DeepLinkRequest, LineItem, Placement
from tests.lti_tool.demo.conftest import demo_state
from tests.lti_tool.demo.harness import (
    CLAIM,
    DL_CLAIM,
    INSTRUCTOR,
    ISSUER,
    JALON,
    LEA,
    TOOL,
    Browser,
    PyltiTool,
    csrf_token,
)

RETURN_URL = f"{ISSUER}/deep-link-return"


def _request_deep_link(browser: Browser, user: int = INSTRUCTOR) -> TestResponse:
    browser.choose(user)
    # Any page's token will do: the demo's forms are not bound to a principal.
    home = browser.open(f"{JALON}/demo/").get_data(as_text=True)
    return browser.open(
        f"{JALON}/demo/cours/1/ajouter-une-epreuve", "POST", data={"csrf_token": csrf_token(home)}
    )


def _deep_link_claims(browser: Browser) -> dict[str, Any]:
    """Press "Ajouter une épreuve" and let the tool validate the request; return its claims."""
    start = _request_deep_link(browser)
    assert start.status_code == 302
    page = browser.follow(start)
    answer = browser.submit(page.get_data(as_text=True))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    claims: dict[str, Any] = answer.get_json()
    return claims


def _epreuve(code: str = "E1", url: str = f"{TOOL}/launch") -> DeepLinkResource:
    line_item = (
        PyltiLineItem()
        .set_score_maximum(20)
        .set_label(f"{code} — Étude de cas")
        .set_tag("jalon-epreuve")
        .set_resource_id(f"community-manager-n6/{code}")
    )
    return (
        DeepLinkResource()
        .set_url(url)
        .set_title(f"Épreuve {code}")
        .set_custom_params(
            {"framework": "community-manager-n6", "epreuve": code, "competencies": "C1.1,C1.2"}
        )
        .set_lineitem(line_item)
    )


def _response_jwt(tool: PyltiTool, *resources: DeepLinkResource) -> str:
    deep_link = tool.launches[-1].get_deep_link()
    return str(deep_link.get_response_jwt(list(resources) or [_epreuve()]))


def _stored(app: Flask) -> tuple[int, int]:
    with demo_state(app).database.session() as session:
        placements = session.scalar(sa.select(sa.func.count()).select_from(Placement))
        line_items = session.scalar(sa.select(sa.func.count()).select_from(LineItem))
    return placements or 0, line_items or 0


def test_the_request_carries_moodle_like_settings_and_passes_pylti1p3(
    lms: Flask, browser: Browser, tool: PyltiTool
) -> None:
    claims = _deep_link_claims(browser)
    assert tool.launches[-1].is_deep_link_launch()
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingRequest"
    assert CLAIM + "resource_link" not in claims
    settings = claims[DL_CLAIM + "deep_linking_settings"]
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert settings["accept_multiple"] == "false"  # a string, as some Moodle versions send
    assert settings["deep_link_return_url"] == RETURN_URL
    assert settings["data"]
    assert claims[CLAIM + "roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    ]


def test_the_returned_link_is_placed_with_its_gradebook_column(
    lms: Flask, browser: Browser, tool: PyltiTool
) -> None:
    _deep_link_claims(browser)
    response = browser.open(RETURN_URL, "POST", data={"JWT": _response_jwt(tool)})
    assert response.status_code == 303
    course = browser.follow(response).get_data(as_text=True)
    assert "« Épreuve E1 » a été ajoutée au cours." in course
    with demo_state(lms).database.session() as session:
        placement = session.scalars(sa.select(Placement)).one()
        assert placement.url == f"{TOOL}/launch"
        assert placement.custom["epreuve"] == "E1"
        line_item = session.scalars(sa.select(LineItem)).one()
        assert (line_item.label, line_item.score_maximum) == ("E1 — Étude de cas", 20)
        assert (line_item.tag, line_item.resource_id) == (
            "jalon-epreuve",
            "community-manager-n6/E1",
        )
        assert line_item.placement_id == placement.id
    grades = browser.open(f"{JALON}/demo/cours/1/notes").get_data(as_text=True)
    assert "E1 — Étude de cas" in grades


def test_a_learner_cannot_start_deep_linking(lms: Flask, browser: Browser) -> None:
    assert _request_deep_link(browser, LEA).status_code == 403


def _forge(tool: PyltiTool, key: KeyPair | None = None, **changes: Any) -> str:
    """Sign a deep-linking response like the tool's, with some claims changed."""
    claims = jwt.decode(_response_jwt(tool), options={"verify_signature": False})
    claims.update(changes)
    for name, value in list(claims.items()):
        if value is None:
            del claims[name]
    signer = key or tool.key
    return jwt.encode(claims, signer.private_key, algorithm="RS256", headers={"kid": signer.kid})


def _tampered(tool: PyltiTool) -> str:
    header, payload, signature = _response_jwt(tool).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims[DL_CLAIM + "content_items"][0]["url"] = "https://evil.test/launch"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _signed_by_a_stranger(tool: PyltiTool) -> str:
    stranger = KeyPair.generate()
    claims = jwt.decode(_response_jwt(tool), options={"verify_signature": False})
    # The tool's kid on a key that is not the tool's: the signature cannot verify.
    return jwt.encode(
        claims, stranger.private_key, algorithm="RS256", headers={"kid": tool.key.kid}
    )


REFUSED = {
    "tampered payload": _tampered,
    "signed by another key with the tool's kid": _signed_by_a_stranger,
    "signed by an unknown key": lambda t: _forge(t, KeyPair.generate()),
    "HS256 with the public key": lambda t: jwt.encode(
        jwt.decode(_response_jwt(t), options={"verify_signature": False}),
        t.key.public_pem.encode().hex(),
        algorithm="HS256",
        headers={"kid": t.key.kid},
    ),
    "wrong audience": lambda t: _forge(t, aud=["https://other-lms.test"]),
    "wrong issuer": lambda t: _forge(t, iss="someone-else"),
    "expired": lambda t: _forge(t, iat=int(time.time()) - 900, exp=int(time.time()) - 300),
    "no expiry": lambda t: _forge(t, exp=None),
    "wrong deployment": lambda t: _forge(t, **{CLAIM + "deployment_id": "2"}),
    "no nonce": lambda t: _forge(t, nonce=None),
    "not a deep-linking response": lambda t: _forge(
        t, **{CLAIM + "message_type": "LtiResourceLinkRequest"}
    ),
    "data never sent": lambda t: _forge(t, **{DL_CLAIM + "data": "not-a-request"}),
    "a link off the tool's site": lambda t: _response_jwt(t, _epreuve(url="https://evil.test/x")),
    "two links although accept_multiple is false": lambda t: _response_jwt(
        t, _epreuve("E1"), _epreuve("E2")
    ),
    "an item of another type": lambda t: _forge(
        t, **{DL_CLAIM + "content_items": [{"type": "html", "html": "<p>hi</p>"}]}
    ),
    "an item without a type": lambda t: _forge(
        t, **{DL_CLAIM + "content_items": [{"url": f"{TOOL}/launch"}]}
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_bad_response_is_refused_and_stores_nothing(
    lms: Flask, browser: Browser, tool: PyltiTool, case: str
) -> None:
    _deep_link_claims(browser)
    response = browser.open(RETURN_URL, "POST", data={"JWT": REFUSED[case](tool)})
    assert response.status_code == 400
    assert _stored(lms) == (0, 0)
    # The refusal used nothing up: the genuine answer still goes through.
    assert browser.open(RETURN_URL, "POST", data={"JWT": _response_jwt(tool)}).status_code == 303


def test_a_response_is_taken_once(lms: Flask, browser: Browser, tool: PyltiTool) -> None:
    _deep_link_claims(browser)
    token = _response_jwt(tool)
    assert browser.open(RETURN_URL, "POST", data={"JWT": token}).status_code == 303
    assert browser.open(RETURN_URL, "POST", data={"JWT": token}).status_code == 400
    assert _stored(lms) == (1, 1)
    with demo_state(lms).database.session() as session:
        assert session.scalars(sa.select(DeepLinkRequest)).one().used_at is not None


def test_a_post_without_jwt_is_refused(lms: Flask, browser: Browser) -> None:
    assert browser.open(RETURN_URL, "POST", data={}).status_code == 400


def test_an_empty_answer_places_nothing(lms: Flask, browser: Browser, tool: PyltiTool) -> None:
    _deep_link_claims(browser)
    token = _forge(tool, **{DL_CLAIM + "content_items": []})
    response = browser.open(RETURN_URL, "POST", data={"JWT": token})
    assert response.status_code == 303
    assert "Aucune épreuve n’a été ajoutée." in browser.follow(response).get_data(as_text=True)
    assert _stored(lms) == (0, 0)
