"""lti_tool/registration.py: the rules every registration path shares."""

from __future__ import annotations

import dataclasses

import pytest

from lti_tool.db import Database
from lti_tool.models import PlatformStatus
from lti_tool.registration import (
    PlatformFields,
    RegistrationError,
    add_deployments,
    get_platform,
    list_platforms,
    register_platform,
    remove_deployment,
    remove_platform,
    validate_platform,
)
from tests.lti_tool.registration.conftest import stored

ACTIVE = PlatformStatus.ACTIVE
CANVAS = PlatformFields(
    issuer="https://canvas.instructure.com",
    client_id="10000000000042",
    auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
    auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
    key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
    name="Canvas de l’université",
    deployment_ids=("2:4dde05e8ca1973bcca9bffc13e1548820eee93a3",),
)


def _problems(fields: PlatformFields) -> list[str]:
    with pytest.raises(RegistrationError) as caught:
        validate_platform(fields)
    return [str(p) for p in caught.value.problems]


def test_values_are_trimmed() -> None:
    clean = validate_platform(
        dataclasses.replace(CANVAS, issuer=" https://canvas.instructure.com ", auth_audience=" ")
    )
    assert clean.issuer == "https://canvas.instructure.com"
    assert clean.auth_audience is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"issuer": ""}, "issuer: is required"),
        ({"issuer": "canvas.instructure.com"}, "issuer: must be an absolute URL"),
        ({"issuer": "http://moodle.example.edu"}, "issuer: must use https"),
        ({"issuer": "https://moodle.example.edu/?x=1"}, "issuer: must not contain a query"),
        ({"client_id": "  "}, "client_id: is required"),
        ({"client_id": "x" * 256}, "client_id: is longer than 255 characters"),
        ({"auth_login_url": "ftp://lms.example.edu/auth"}, "auth_login_url: must be an absolute"),
        ({"auth_token_url": "https://lms.example.edu:99999/t"}, "auth_token_url: must be an"),
        ({"key_set_url": "http://10.0.0.5/jwks"}, "key_set_url: must use https"),
        ({"auth_audience": "not a url"}, "auth_audience: must be an absolute URL"),
        ({"deployment_ids": ("1", "1")}, "deployment_id: deployment '1' is given twice"),
        ({"deployment_ids": ("",)}, "deployment_id: is required"),
    ],
)
def test_bad_values_are_named_with_their_reason(change: dict[str, object], expected: str) -> None:
    problems = _problems(dataclasses.replace(CANVAS, **change))  # type: ignore[arg-type]
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_every_problem_is_reported_at_once() -> None:
    fields = dataclasses.replace(CANVAS, issuer="", client_id="", key_set_url="http://x.org/k")
    assert [p.split(":")[0] for p in _problems(fields)] == ["issuer", "client_id", "key_set_url"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_plain_http_is_accepted_on_this_machine(host: str) -> None:
    local = dataclasses.replace(
        CANVAS,
        issuer=f"http://{host}:8000",
        auth_login_url=f"http://{host}:8000/demo/auth",
        auth_token_url=f"http://{host}:8000/demo/token",
        key_set_url=f"http://{host}:8000/demo/jwks",
    )
    assert validate_platform(local).issuer == f"http://{host}:8000"


def test_register_list_and_remove(clean_database: Database) -> None:
    with clean_database.session() as session:
        register_platform(session, CANVAS, status=ACTIVE)
        register_platform(
            session, dataclasses.replace(CANVAS, client_id="10000000000043"), status=ACTIVE
        )
    assert [p[1] for p in stored(clean_database)] == ["10000000000042", "10000000000043"]
    with clean_database.session() as session:
        assert [p.client_id for p in list_platforms(session)] == [
            "10000000000042",
            "10000000000043",
        ]
        remove_platform(session, get_platform(session, CANVAS.issuer, "10000000000042"))
    assert stored(clean_database) == [(CANVAS.issuer, "10000000000043", [CANVAS.deployment_ids[0]])]


def test_the_same_issuer_and_client_id_twice_is_refused(clean_database: Database) -> None:
    with clean_database.session() as session:
        register_platform(session, CANVAS, status=ACTIVE)
    with pytest.raises(RegistrationError) as caught, clean_database.session() as session:
        register_platform(
            session, dataclasses.replace(CANVAS, deployment_ids=("9",)), status=ACTIVE
        )
    assert caught.value.reasons == {"duplicate_platform"}
    assert stored(clean_database) == [
        (CANVAS.issuer, CANVAS.client_id, list(CANVAS.deployment_ids))
    ]


def test_deployments_are_added_and_removed(clean_database: Database) -> None:
    with clean_database.session() as session:
        platform = register_platform(
            session, dataclasses.replace(CANVAS, deployment_ids=()), status=ACTIVE
        )
        add_deployments(session, platform, ["2:aaa", "3:bbb"])
    with pytest.raises(RegistrationError) as caught, clean_database.session() as session:
        add_deployments(session, get_platform(session, CANVAS.issuer, CANVAS.client_id), ["3:bbb"])
    assert (
        str(caught.value)
        == "deployment_id: deployment '3:bbb' is given twice or is already registered"
    )
    with clean_database.session() as session:
        remove_deployment(session, get_platform(session, CANVAS.issuer, CANVAS.client_id), "2:aaa")
    assert stored(clean_database) == [(CANVAS.issuer, CANVAS.client_id, ["3:bbb"])]
    with clean_database.session() as session:
        platform = get_platform(session, CANVAS.issuer, CANVAS.client_id)
        with pytest.raises(RegistrationError, match="has no deployment '2:aaa'"):
            remove_deployment(session, platform, "2:aaa")


def test_an_unknown_platform_is_named(clean_database: Database) -> None:
    with (
        pytest.raises(RegistrationError, match="no platform is registered"),
        clean_database.session() as session,
    ):
        get_platform(session, CANVAS.issuer, "nope")
