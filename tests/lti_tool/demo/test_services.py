"""The token endpoint, AGS and NRPS, called by pylti1p3's own service clients."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from flask import Flask
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem as PyltiLineItem
from pylti1p3.message_launch import MessageLaunch

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.demo import DemoServices
from lti_tool.demo.keys import HttpKeySets, KeyPair
from lti_tool.demo.models import Score
from lti_tool.demo.protocol import (
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_MEMBERSHIPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
)
from tests.lti_tool.demo.conftest import demo_state, place
from tests.lti_tool.demo.harness import (
    AGS_CLAIM,
    HUGO,
    INSTRUCTOR,
    ISSUER,
    JALON,
    LEA,
    Browser,
    PyltiTool,
    WsgiTransport,
)

TOKEN_URL = f"{ISSUER}/token"
LINEITEMS = f"{ISSUER}/courses/1/lineitems"
MEMBERSHIPS = f"{ISSUER}/courses/1/memberships"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"


def _now(offset: float = 0) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)).isoformat()


def _launched(lms: Flask, browser: Browser, tool: PyltiTool) -> MessageLaunch:
    """Launch a placed épreuve as the instructor; return pylti1p3's validated launch."""
    link = place(lms, title="E3 — Projet")
    browser.choose(INSTRUCTOR)
    start = browser.open(f"{JALON}/demo/cours/1/activites/{link}/lancement")
    page = browser.follow(start)
    assert browser.submit(page.get_data(as_text=True)).status_code == 200
    return tool.launches[-1]


def _assertion(key: KeyPair, **changes: Any) -> str:
    claims: dict[str, Any] = {
        "iss": "jalon-demo",
        "sub": "jalon-demo",
        "aud": TOKEN_URL,
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
        "jti": str(uuid.uuid4()),
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def _token_request(tool: PyltiTool, scopes: str, **changes: Any) -> dict[str, str]:
    request = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _assertion(tool.key),
        "scope": scopes,
    }
    request.update(changes)
    return request


def _token(tool: PyltiTool, *scopes: str) -> str:
    answer = tool.session.post(TOKEN_URL, data=_token_request(tool, " ".join(scopes)))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


# -- the token endpoint ------------------------------------------------------------------


def test_pylti1p3_gets_a_token_for_the_scopes_it_asks(lms: Flask, tool: PyltiTool) -> None:
    answer = tool.session.post(TOKEN_URL, data=_token_request(tool, f"{SCOPE_SCORE} {SCOPE_SCORE}"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"  # noqa: S105 (the OAuth2 token type)
    assert body["expires_in"] == 3600
    assert body["scope"] == SCOPE_SCORE
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("signed by an unknown key", 401, "invalid_client"),
        ("audience is not the token URL", 401, "invalid_client"),
        ("sub is not the client", 401, "invalid_client"),
        ("issuer is not the client", 401, "invalid_client"),
        ("expired", 401, "invalid_client"),
        ("no jti", 401, "invalid_client"),
        ("grant type", 400, "unsupported_grant_type"),
        ("assertion type", 400, "invalid_request"),
        ("no scope field", 400, "invalid_request"),
        ("only an unknown scope", 400, "invalid_scope"),
    ],
)
def test_the_token_endpoint_refuses(
    lms: Flask, tool: PyltiTool, case: str, status: int, error: str
) -> None:
    changes: dict[str, Any] = {
        "signed by an unknown key": {"client_assertion": _assertion(KeyPair.generate())},
        "audience is not the token URL": {"client_assertion": _assertion(tool.key, aud=ISSUER)},
        "sub is not the client": {"client_assertion": _assertion(tool.key, sub="other")},
        "issuer is not the client": {"client_assertion": _assertion(tool.key, iss="other")},
        "expired": {
            "client_assertion": _assertion(
                tool.key, iat=int(time.time()) - 900, exp=int(time.time()) - 300
            )
        },
        "no jti": {"client_assertion": _assertion(tool.key, jti=None)},
        "grant type": {"grant_type": "password"},
        "assertion type": {"client_assertion_type": "urn:example:other"},
        "no scope field": {},
        "only an unknown scope": {"scope": "https://purl.imsglobal.org/spec/lti-ags/scope/all"},
    }[case]
    data = _token_request(tool, SCOPE_SCORE, **changes)
    if case == "no scope field":
        del data["scope"]
    answer = tool.session.post(TOKEN_URL, data=data)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert "access_token" not in answer.json()


def test_an_assertion_works_once(lms: Flask, tool: PyltiTool) -> None:
    data = _token_request(tool, SCOPE_SCORE)
    assert tool.session.post(TOKEN_URL, data=data).status_code == 200
    replay = tool.session.post(TOKEN_URL, data=data)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"


@pytest.fixture
def scores_only(
    settings: Settings,
    clean_database: Database,
    transport: WsgiTransport,
    tool: PyltiTool,
    platform_key: KeyPair,
) -> Iterator[Flask]:
    """A demo where the tool is allowed to post scores and nothing else."""
    registration = dataclasses.replace(tool.registration, allowed_scopes=(SCOPE_SCORE,))
    services = DemoServices(key_sets=HttpKeySets(tool.session), tool=registration)
    app = create_app(settings, database=clean_database, demo=services)
    tool.trust(demo_state(app).keys.jwks())
    transport.apps.update({"jalon.test": app, "tool.test": tool.app})
    yield app
    demo_state(app).database.engine.dispose()


def test_scopes_granted_are_requested_and_allowed(scores_only: Flask, tool: PyltiTool) -> None:
    refused = tool.session.post(TOKEN_URL, data=_token_request(tool, SCOPE_MEMBERSHIPS))
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"
    answer = tool.session.post(
        TOKEN_URL, data=_token_request(tool, f"{SCOPE_MEMBERSHIPS} {SCOPE_SCORE}")
    )
    assert answer.json()["scope"] == SCOPE_SCORE
    roster = tool.session.get(
        MEMBERSHIPS, headers={"Authorization": f"Bearer {answer.json()['access_token']}"}
    )
    assert roster.status_code == 403
    assert 'error="insufficient_scope"' in roster.headers["WWW-Authenticate"]


def test_the_launch_offers_only_the_allowed_scopes(scores_only: Flask, tool: PyltiTool) -> None:
    browser = Browser({"jalon.test": scores_only, "tool.test": tool.app})
    launch = _launched(scores_only, browser, tool)
    claims = launch.get_launch_data()
    assert claims[AGS_CLAIM]["scope"] == [SCOPE_SCORE]
    assert "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice" not in claims


# -- AGS ---------------------------------------------------------------------------------


def _grade(
    user: int, given: float, comment: str = "Bien argumenté", at: str | None = None
) -> Grade:
    return (
        Grade()
        .set_user_id(str(user))
        .set_score_given(given)
        .set_score_maximum(20)
        .set_comment(comment)
        .set_timestamp(at or _now())
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
    )


def test_a_score_posted_by_pylti1p3_is_stored_and_shown_in_the_gradebook(
    lms: Flask, browser: Browser, tool: PyltiTool
) -> None:
    ags = _launched(lms, browser, tool).get_ags()
    ags.put_grade(_grade(LEA, 14.5))
    with demo_state(lms).database.session() as session:
        score = session.scalars(sa.select(Score)).one()
        assert (score.user_id, score.score_given, score.score_maximum) == (LEA, 14.5, 20)
        assert (score.activity_progress, score.grading_progress) == ("Completed", "FullyGraded")
        assert score.comment == "Bien argumenté"
    page = browser.open(f"{JALON}/demo/cours/1/notes").get_data(as_text=True)
    assert "14.5 / 20" in page
    assert "Bien argumenté" in page
    assert "Terminée · Notée" in page

    results = ags.get_grades(PyltiLineItem({"id": ags._service_data["lineitem"]}))
    assert results == [
        {
            "id": f"{ags._service_data['lineitem']}/results/{LEA}",
            "scoreOf": ags._service_data["lineitem"],
            "userId": str(LEA),
            "resultMaximum": 20.0,
            "resultScore": 14.5,
            "comment": "Bien argumenté",
        }
    ]


def test_an_older_score_is_refused_with_409(lms: Flask, browser: Browser, tool: PyltiTool) -> None:
    ags = _launched(lms, browser, tool).get_ags()
    ags.put_grade(_grade(HUGO, 12, at=_now()))
    with pytest.raises(LtiServiceException, match="409"):
        ags.put_grade(_grade(HUGO, 18, at=_now(-3600)))
    ags.put_grade(_grade(HUGO, 16, at=_now(1)))
    with demo_state(lms).database.session() as session:
        assert [s.score_given for s in session.scalars(sa.select(Score))] == [12, 16]


def _line_item_url(lms: Flask, browser: Browser, tool: PyltiTool) -> str:
    return str(_launched(lms, browser, tool).get_launch_data()[AGS_CLAIM]["lineitem"])


@pytest.mark.parametrize(
    ("score", "content_type", "status"),
    [
        ({"userId": str(LEA)}, SCORE_TYPE, 400),  # no timestamp, no progress
        (
            {
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "timestamp": _now(),
                "userId": "99",
            },
            SCORE_TYPE,
            400,
        ),
        (
            {
                "activityProgress": "Done",
                "gradingProgress": "FullyGraded",
                "timestamp": _now(),
                "userId": str(LEA),
            },
            SCORE_TYPE,
            400,
        ),
        (
            {
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "timestamp": "2024-05-01T10:00:00",
                "userId": str(LEA),
            },
            SCORE_TYPE,
            400,
        ),
        (
            {
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "scoreGiven": 3,
                "timestamp": _now(),
                "userId": str(LEA),
            },
            SCORE_TYPE,
            400,
        ),  # no scoreMaximum
        (
            {
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "scoreGiven": 3,
                "scoreMaximum": 20,
                "timestamp": _now(),
                "userId": str(LEA),
            },
            "application/json",
            415,
        ),
    ],
)
def test_a_bad_score_is_refused(
    lms: Flask,
    browser: Browser,
    tool: PyltiTool,
    score: dict[str, Any],
    content_type: str,
    status: int,
) -> None:
    url = _line_item_url(lms, browser, tool)
    token = _token(tool, SCOPE_SCORE)
    answer = tool.session.post(
        f"{url}/scores",
        data=json.dumps(score),
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    assert answer.status_code == status, answer.text
    with demo_state(lms).database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Score)) == 0


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer not-a-token", 401),
        ("Basic amFsb246ZGVtbw==", 401),
        ("readonly", 403),  # a valid token without the score scope
    ],
)
def test_scores_need_a_token_with_the_score_scope(
    lms: Flask, browser: Browser, tool: PyltiTool, authorization: str | None, status: int
) -> None:
    url = _line_item_url(lms, browser, tool)
    headers = {"Content-Type": SCORE_TYPE}
    if authorization == "readonly":
        authorization = f"Bearer {_token(tool, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY)}"
    if authorization:
        headers["Authorization"] = authorization
    score = {
        "userId": str(LEA),
        "activityProgress": "Completed",
        "timestamp": _now(),
        "gradingProgress": "FullyGraded",
        "scoreGiven": 1,
        "scoreMaximum": 2,
    }
    answer = tool.session.post(f"{url}/scores", data=json.dumps(score), headers=headers)
    assert answer.status_code == status
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_signed_by_someone_else_is_refused(lms: Flask, tool: PyltiTool) -> None:
    forged = jwt.encode(
        {"iss": ISSUER, "sub": "jalon-demo", "scopes": SCOPE_LINEITEM, "exp": time.time() + 60},
        KeyPair.generate().private_key,
        algorithm="RS256",
    )
    answer = tool.session.get(LINEITEMS, headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401


def test_line_items_can_be_listed_created_changed_and_removed(
    lms: Flask, browser: Browser, tool: PyltiTool
) -> None:
    ags = _launched(lms, browser, tool).get_ags()
    created = ags.find_or_create_lineitem(
        PyltiLineItem()
        .set_label("Oral")
        .set_score_maximum(10)
        .set_tag("oral")
        .set_resource_id("E5")
    )
    assert created.get_id().startswith(f"{LINEITEMS}/")
    listed = ags.get_lineitems()
    assert [(i["label"], i["scoreMaximum"]) for i in listed] == [("E3 — Projet", 20), ("Oral", 10)]
    assert listed[0]["resourceLinkId"]

    token = _token(tool, SCOPE_LINEITEM)
    auth = {"Authorization": f"Bearer {token}"}
    tagged = tool.session.get(LINEITEMS, params={"tag": "oral"}, headers=auth)
    assert [i["label"] for i in tagged.json()] == ["Oral"]
    assert tagged.headers["Content-Type"] == "application/vnd.ims.lis.v2.lineitemcontainer+json"
    paged = tool.session.get(LINEITEMS, params={"limit": "1"}, headers=auth)
    assert len(paged.json()) == 1
    assert paged.headers["Link"] == f'<{LINEITEMS}?limit=1&page=2>; rel="next"'

    changed = tool.session.put(
        created.get_id(),
        data=json.dumps({"label": "Oral final", "scoreMaximum": 20}),
        headers={**auth, "Content-Type": LINEITEM_TYPE},
    )
    assert changed.status_code == 200
    assert changed.json()["label"] == "Oral final"
    assert tool.session.delete(created.get_id(), headers=auth).status_code == 204
    assert tool.session.get(created.get_id(), headers=auth).status_code == 404
    bad = tool.session.post(
        LINEITEMS, data=json.dumps({"label": "x"}), headers={**auth, "Content-Type": LINEITEM_TYPE}
    )
    assert bad.status_code == 400
    bad_query = tool.session.get(LINEITEMS, params={"limit": "zero"}, headers=auth)
    assert bad_query.status_code == 400


def test_a_read_only_token_cannot_create_line_items(lms: Flask, tool: PyltiTool) -> None:
    token = _token(tool, SCOPE_LINEITEM_READONLY)
    auth = {"Authorization": f"Bearer {token}"}
    assert tool.session.get(LINEITEMS, headers=auth).status_code == 200
    created = tool.session.post(
        LINEITEMS,
        data=json.dumps({"label": "x", "scoreMaximum": 1}),
        headers={**auth, "Content-Type": LINEITEM_TYPE},
    )
    assert created.status_code == 403


# -- NRPS --------------------------------------------------------------------------------


def test_pylti1p3_reads_the_roster_with_roles(
    lms: Flask, browser: Browser, tool: PyltiTool
) -> None:
    members = _launched(lms, browser, tool).get_nrps().get_members()
    roles = {m["user_id"]: (m["name"], m["roles"], m["status"]) for m in members}
    lis = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
    assert roles == {
        "1": ("Claire Fontaine", [lis + "Instructor"], "Active"),
        "2": ("Léa Moreau", [lis + "Learner"], "Active"),
        "3": ("Hugo Bernard", [lis + "Learner"], "Active"),
        "4": ("Inès Petit", [lis + "Learner"], "Active"),
    }


def test_the_roster_pages_and_filters(lms: Flask, tool: PyltiTool) -> None:
    auth = {"Authorization": f"Bearer {_token(tool, SCOPE_MEMBERSHIPS)}"}
    first = tool.session.get(MEMBERSHIPS, params={"limit": "2"}, headers=auth)
    assert first.headers["Content-Type"] == (
        "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
    )
    body = first.json()
    assert body["id"] == MEMBERSHIPS
    assert body["context"]["title"] == "Community Manager — promotion de démonstration"
    assert [m["user_id"] for m in body["members"]] == ["1", "2"]
    assert first.headers["Link"] == f'<{MEMBERSHIPS}?limit=2&page=2>; rel="next"'
    second = tool.session.get(MEMBERSHIPS, params={"limit": "2", "page": "2"}, headers=auth)
    assert [m["user_id"] for m in second.json()["members"]] == ["3", "4"]
    assert "Link" not in second.headers
    learners = tool.session.get(MEMBERSHIPS, params={"role": "Learner"}, headers=auth)
    assert len(learners.json()["members"]) == 3
    assert tool.session.get(MEMBERSHIPS, params={"rlid": "999"}, headers=auth).status_code == 403
    assert tool.session.get(MEMBERSHIPS).status_code == 401


def test_services_answer_404_for_an_unknown_course(lms: Flask, tool: PyltiTool) -> None:
    auth = {"Authorization": f"Bearer {_token(tool, SCOPE_MEMBERSHIPS)}"}
    answer = tool.session.get(f"{ISSUER}/courses/9/memberships", headers=auth)
    assert answer.status_code == 404
    assert answer.json() == {"error": "unknown course"}
