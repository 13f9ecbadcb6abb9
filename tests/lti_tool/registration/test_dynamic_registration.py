"""``/lti/register`` end to end, against Moodle- and Canvas-shaped platforms over real HTTP."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import socket

import pytest
from flask.testing import FlaskClient

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.dynamic_registration import CLOSE_SUBJECT, OutboundPlatformHttp, PlatformHttpError
from lti_tool.models import PlatformStatus
from lti_tool.registration import PlatformFields, register_platform
from tests.conftest import REPO
from tests.lti_tool.registration.conftest import csrf_token, stored
from tests.lti_tool.registration.fake_platform import (
    AGS,
    NRPS,
    TOOL_CONFIGURATION,
    Answer,
    FakePlatform,
)
from xapi.outbound import OutboundHttp, OutboundPolicy

BASE = "https://jalon.test"  # tests/conftest.py's base_url
SCOPES = {f"{AGS}lineitem", f"{AGS}score", f"{AGS}result.readonly", NRPS}


def _open(client: FlaskClient, platform: FakePlatform, lang: str = "fr") -> str:
    response = client.get(
        "/lti/register",
        query_string={
            "openid_configuration": platform.configuration_url,
            "registration_token": platform.token,
            "lang": lang,
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _confirm(client: FlaskClient, platform: FakePlatform, page: str, **changes: str):  # type: ignore[no-untyped-def]
    form = {
        "openid_configuration": platform.configuration_url,
        "registration_token": platform.token,
        "csrf_token": csrf_token(page),
        **changes,
    }
    return client.post("/lti/register?lang=fr", data=form)


def _registration_posts(platform: FakePlatform) -> int:
    return sum(1 for method, _path, _auth in platform.requests if method == "POST")


def test_moodle_registration_stores_the_platform_and_its_deployment(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    page = _open(client, moodle)
    assert f"Enregistrer Jalon dans Moodle (127.0.0.1:{moodle.base.rsplit(':', 1)[1]})" in page
    assert moodle.issuer in page
    assert "aucune donnée nominative" in page
    assert stored(database) == []  # looking is not registering

    done = _confirm(client, moodle, page)

    assert done.status_code == 200, done.get_data(as_text=True)
    html = done.get_data(as_text=True)
    assert '<script src="/static/registration-close.js" defer></script>' in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, "inline script breaks the CSP"
    assert moodle.client_id in html
    assert "Activate" in html
    assert stored(database) == [(moodle.issuer, moodle.client_id, ["7"])]
    with database.session() as session:
        from lti_tool.registration import find_platform

        platform = find_platform(session, moodle.issuer, moodle.client_id)
        assert platform is not None
        assert platform.auth_login_url == f"{moodle.issuer}/mod/lti/auth.php"
        assert platform.auth_token_url == f"{moodle.issuer}/mod/lti/token.php"
        assert platform.key_set_url == f"{moodle.issuer}/mod/lti/certs.php"
        assert platform.auth_audience is None
        assert platform.product_family_code == "moodle"
        assert platform.name.startswith("Moodle (127.0.0.1:")


def test_the_registration_sent_to_moodle_is_what_the_brief_and_the_spec_ask(
    client: FlaskClient, moodle: FakePlatform
) -> None:
    _confirm(client, moodle, _open(client, moodle))

    assert len(moodle.registrations) == 1
    sent = moodle.registrations[0]
    assert sent["application_type"] == "web"
    assert sent["response_types"] == ["id_token"]
    assert set(sent["grant_types"]) == {"implicit", "client_credentials"}
    assert sent["initiate_login_uri"] == f"{BASE}/lti/login"
    assert sent["redirect_uris"] == [f"{BASE}/lti/launch"]
    assert sent["jwks_uri"] == f"{BASE}/lti/jwks"
    assert sent["client_name"] == "Jalon"
    assert sent["token_endpoint_auth_method"] == "private_key_jwt"  # noqa: S105
    assert set(sent["scope"].split()) == SCOPES
    tool = sent[TOOL_CONFIGURATION]
    assert tool["domain"] == "jalon.test"
    assert tool["target_link_uri"] == f"{BASE}/lti/launch"
    assert tool["claims"] == ["iss", "sub"]  # pseudonymous: no name, no e-mail
    messages = {m["type"]: m for m in tool["messages"]}
    assert set(messages) == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert messages["LtiDeepLinkingRequest"]["target_link_uri"] == f"{BASE}/lti/launch"
    assert messages["LtiDeepLinkingRequest"]["placements"] == ["ContentArea"]
    assert "custom_parameters" not in tool  # Canvas variables would reach Moodle unexpanded
    # Both the configuration GET and the registration POST carried the token.
    assert [auth for _m, _p, auth in moodle.requests] == [f"Bearer {moodle.token}"] * 3


def test_canvas_registration_needs_a_deployment_id_later(
    client: FlaskClient, canvas: FakePlatform, database: Database
) -> None:
    page = _open(client, canvas)
    assert "Université de Test" in page

    done = _confirm(client, canvas, page)

    assert done.status_code == 200, done.get_data(as_text=True)
    html = done.get_data(as_text=True)
    assert "jalon platform add-deployment" in html
    assert "« Enable & Close »" in html
    # Canvas's issuer is its host; no deployment exists until the key is installed.
    assert stored(database) == [(canvas.issuer, canvas.client_id, [])]
    sent = canvas.registrations[0]
    tool = sent[TOOL_CONFIGURATION]
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "anonymous"
    assert tool["messages"][0] == {
        "type": "LtiDeepLinkingRequest",
        "target_link_uri": f"{BASE}/lti/launch",
        "label": "Jalon",
        "placements": ["assignment_selection", "link_selection"],
    }
    assert tool["custom_parameters"] == {"canvas_course_id": "$Canvas.course.id"}
    assert set(sent["scope"].split()) == SCOPES


def test_canvas_payload_passes_canvas_schema_for_tool_configuration(
    client: FlaskClient, canvas: FakePlatform
) -> None:
    import jsonschema

    # Canvas's Schemas::Lti::IMS::LtiToolConfiguration (lib/schemas/lti/ims).
    schema = {
        "type": "object",
        "required": ["domain", "messages", "claims"],
        "properties": {
            "domain": {"type": "string"},
            "target_link_uri": {"type": "string"},
            "custom_parameters": {"type": "object", "additionalProperties": {"type": "string"}},
            "description": {"type": "string"},
            "messages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"enum": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]},
                        "placements": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "claims": {"type": "array", "items": {"type": "string"}},
        },
    }
    _confirm(client, canvas, _open(client, canvas))
    jsonschema.validate(canvas.registrations[0][TOOL_CONFIGURATION], schema)


def test_the_confirmation_page_is_in_english_on_request(
    client: FlaskClient, moodle: FakePlatform
) -> None:
    page = _open(client, moodle, lang="en")
    assert '<html lang="en">' in page
    assert "Register Jalon in Moodle" in page
    # The language links keep the registration parameters.
    assert "openid_configuration=http%3A%2F%2F127.0.0.1" in page
    assert f"registration_token={moodle.token}&amp;lang=fr" in page


def test_scopes_the_platform_lacks_are_not_requested(
    client: FlaskClient, moodle: FakePlatform
) -> None:
    moodle.configuration_changes = {"scopes_supported": [f"{AGS}score", f"{AGS}lineitem"]}
    page = _open(client, moodle)
    assert "lire la liste des participants" in page.split("Jalon fonctionnera sans")[1]
    _confirm(client, moodle, page)
    assert set(moodle.registrations[0]["scope"].split()) == {f"{AGS}score", f"{AGS}lineitem"}


def test_a_url_shaped_authorization_server_becomes_the_token_audience(
    client: FlaskClient, canvas: FakePlatform, database: Database
) -> None:
    canvas.configuration_changes = {"authorization_server": f"{canvas.base}/auth/token"}
    _confirm(client, canvas, _open(client, canvas))
    with database.session() as session:
        from lti_tool.registration import find_platform

        platform = find_platform(session, canvas.issuer, canvas.client_id)
        assert platform is not None
        assert platform.auth_audience == f"{canvas.base}/auth/token"


# --- Refusals: a 4xx page, nothing stored ------------------------------------------------


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({}, "missing_configuration_url"),
        ({"openid_configuration": "http://moodle.example.edu/x"}, "invalid_configuration_url"),
        ({"openid_configuration": "ftp://127.0.0.1/x"}, "invalid_configuration_url"),
        ({"openid_configuration": "javascript:alert(1)"}, "invalid_configuration_url"),
        ({"openid_configuration": "https://"}, "invalid_configuration_url"),
    ],
)
def test_a_bad_configuration_url_is_refused_without_any_request(
    client: FlaskClient, database: Database, query: dict[str, str], reason: str
) -> None:
    response = client.get("/lti/register", query_string=query)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"<code>{reason}</code>" in page
    assert "Rien n’a été enregistré" in page
    assert stored(database) == []


def test_a_configuration_speaking_for_another_origin_is_refused(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    moodle.configuration_changes = {"issuer": "https://moodle.example.edu"}
    response = client.get(
        "/lti/register", query_string={"openid_configuration": moodle.configuration_url}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<code>origin_mismatch</code>" in page
    assert "https://moodle.example.edu" in page
    assert stored(database) == []


def test_the_origin_is_checked_again_when_the_form_is_posted(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    page = _open(client, moodle)
    moodle.configuration_changes = {"issuer": f"http://localhost:{moodle.base.rsplit(':', 1)[1]}"}
    response = _confirm(client, moodle, page)
    assert response.status_code == 400
    assert "<code>origin_mismatch</code>" in response.get_data(as_text=True)
    assert _registration_posts(moodle) == 0
    assert stored(database) == []


@pytest.mark.parametrize(
    "missing",
    ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"],
)
def test_a_configuration_without_an_endpoint_is_refused(
    client: FlaskClient, moodle: FakePlatform, database: Database, missing: str
) -> None:
    moodle.removed = {missing}
    response = client.get(
        "/lti/register", query_string={"openid_configuration": moodle.configuration_url}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<code>configuration_missing</code>" in page
    assert f"« {missing} »" in page
    assert stored(database) == []


def test_a_configuration_with_a_plain_http_endpoint_elsewhere_is_refused(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    moodle.configuration_changes = {"token_endpoint": "http://moodle.example.edu/token.php"}
    response = client.get(
        "/lti/register", query_string={"openid_configuration": moodle.configuration_url}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<code>configuration_invalid</code>" in page
    assert "https://" in page
    assert stored(database) == []


def test_a_configuration_that_is_not_json_is_refused(
    client: FlaskClient, moodle: FakePlatform
) -> None:
    moodle.configuration_answer = Answer(200, b"<html>Moodle</html>", "text/html")
    response = client.get(
        "/lti/register", query_string={"openid_configuration": moodle.configuration_url}
    )
    assert response.status_code == 400
    assert "<code>configuration_not_json</code>" in response.get_data(as_text=True)


def test_a_redirect_is_not_followed(client: FlaskClient, moodle: FakePlatform) -> None:
    moodle.configuration_answer = Answer(302, b"", headers={"Location": "http://127.0.0.1:9/x"})
    response = client.get(
        "/lti/register", query_string={"openid_configuration": moodle.configuration_url}
    )
    assert response.status_code == 424
    page = response.get_data(as_text=True)
    assert "<code>unreachable</code>" in page
    assert "OUTBOUND_REDIRECT (HTTP 302)" in page


def test_canvas_without_the_token_does_not_show_its_configuration(
    client: FlaskClient, canvas: FakePlatform, database: Database
) -> None:
    url = canvas.configuration_url.split("?")[0]
    response = client.get("/lti/register", query_string={"openid_configuration": url})
    assert response.status_code == 424
    page = response.get_data(as_text=True)
    assert "HTTP 401" in page
    # What an arbitrary URL answered is not shown: the page must not be a way to read it.
    assert "registration token required" not in page
    assert stored(database) == []


def test_a_registration_endpoint_elsewhere_than_the_issuer_is_refused(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    moodle.configuration_changes = {"registration_endpoint": "https://intranet.example.org/x"}
    page = client.get(
        "/lti/register", query_string={"openid_configuration": moodle.configuration_url}
    )
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "<code>registration_elsewhere</code>" in html
    assert "https://intranet.example.org" in html
    assert _registration_posts(moodle) == 0
    assert stored(database) == []


@pytest.mark.parametrize(
    ("kind", "message"),
    [("moodle", "HTTP 400 — invalid_response_types"), ("canvas", "HTTP 422")],
)
def test_a_platform_refusal_is_shown_with_its_message(
    client: FlaskClient, database: Database, kind: str, message: str
) -> None:
    with FakePlatform(kind) as platform:
        page = _open(client, platform)
        refusal = {
            "moodle": Answer(400, b"invalid_response_types", "text/plain"),
            "canvas": Answer(422, json.dumps({"errorMessage": "Invalid scopes: x"}).encode()),
        }[kind]
        platform.registration_answer = refusal
        response = _confirm(client, platform, page)
    assert response.status_code == 424
    html = response.get_data(as_text=True)
    assert "<code>refused</code>" in html
    assert message in html
    if kind == "canvas":
        assert "Invalid scopes: x" in html
    assert stored(database) == []


def test_a_wrong_registration_token_is_refused_by_the_platform(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    page = client.get(
        "/lti/register",
        query_string={
            "openid_configuration": moodle.configuration_url,
            "registration_token": "stolen",
        },
    ).get_data(as_text=True)
    response = _confirm(client, moodle, page, registration_token="stolen")
    assert response.status_code == 424
    assert "missing_registration_token" in response.get_data(as_text=True)
    assert moodle.registrations == []
    assert stored(database) == []


def test_an_answer_without_client_id_is_refused(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    page = _open(client, moodle)
    moodle.registration_answer = Answer(200, json.dumps({"client_name": "Jalon"}).encode())
    response = _confirm(client, moodle, page)
    assert response.status_code == 424
    html = response.get_data(as_text=True)
    assert "<code>response_invalid</code>" in html
    assert "supprimez-le dans la plateforme" in html
    assert stored(database) == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_platform_is_refused(client: FlaskClient, database: Database) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/moodle/mod/lti/openid-configuration.php"
    response = client.get("/lti/register", query_string={"openid_configuration": url})
    assert response.status_code == 424
    page = response.get_data(as_text=True)
    assert "<code>unreachable</code>" in page
    assert "Jalon n’a pas pu joindre la plateforme" in page
    assert stored(database) == []


def test_a_platform_gone_between_the_two_steps_stores_nothing(
    client: FlaskClient, database: Database
) -> None:
    platform = FakePlatform("moodle").__enter__()
    page = _open(client, platform)
    platform.stop()
    response = _confirm(client, platform, page)
    assert response.status_code == 424
    assert "<code>unreachable</code>" in response.get_data(as_text=True)
    assert stored(database) == []


def test_a_client_id_already_registered_is_refused(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    with database.session() as session:
        register_platform(
            session,
            PlatformFields(
                issuer=moodle.issuer,
                client_id=moodle.client_id,
                auth_login_url=f"{moodle.issuer}/old/auth",
                auth_token_url=f"{moodle.issuer}/old/token",
                key_set_url=f"{moodle.issuer}/old/certs",
                deployment_ids=("1",),
            ),
            status=PlatformStatus.ACTIVE,
        )
    response = _confirm(client, moodle, _open(client, moodle))
    assert response.status_code == 409
    assert "<code>already_registered</code>" in response.get_data(as_text=True)
    assert stored(database) == [(moodle.issuer, moodle.client_id, ["1"])]
    with database.session() as session:
        from lti_tool.registration import find_platform

        platform = find_platform(session, moodle.issuer, moodle.client_id)
        assert platform is not None
        assert platform.auth_login_url.endswith("/old/auth")


def test_a_post_without_csrf_token_is_refused(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    _open(client, moodle)
    response = client.post(
        "/lti/register",
        data={"openid_configuration": moodle.configuration_url, "registration_token": moodle.token},
    )
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
    assert _registration_posts(moodle) == 0
    assert stored(database) == []


def test_a_csrf_token_of_another_registration_is_refused(
    client: FlaskClient, moodle: FakePlatform, database: Database
) -> None:
    other = client.get(
        "/lti/register",
        query_string={
            "openid_configuration": moodle.configuration_url,
            "registration_token": "another-registration",
        },
    ).get_data(as_text=True)
    response = _confirm(client, moodle, other)
    assert response.status_code == 400
    assert _registration_posts(moodle) == 0
    assert stored(database) == []


def test_the_registration_token_never_reaches_the_log(
    client: FlaskClient, canvas: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    canvas.removed = {"jwks_uri"}
    client.get(
        "/lti/register",
        query_string={
            "openid_configuration": canvas.configuration_url,
            "registration_token": canvas.token,
        },
    )
    canvas.removed = set()
    _confirm(client, canvas, _open(client, canvas))
    assert "configuration_missing [jwks_uri]" in caplog.text
    assert "dynamic registration stored" in caplog.text
    assert canvas.token not in caplog.text


def test_the_close_script_posts_the_close_message_to_the_platform() -> None:
    script = (REPO / "lti_tool" / "static" / "registration-close.js").read_text(encoding="utf-8")
    assert '{subject: "org.imsglobal.lti.close"}' in script
    assert "window.opener || window.parent" in script
    assert CLOSE_SUBJECT == "org.imsglobal.lti.close"


def test_a_public_jalon_never_fetches_a_private_address(
    settings: Settings, clean_database: Database, moodle: FakePlatform
) -> None:
    # /lti/register is open to anyone: it must not become a probe of Jalon's own network.
    app = create_app(settings, database=clean_database)  # base URL https://jalon.test
    page = app.test_client().get(
        "/lti/register", query_string={"openid_configuration": moodle.configuration_url}
    )
    assert page.status_code == 424
    assert moodle.requests == []


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "169.254.169.254", "[::1]"]
)
def test_private_and_loopback_hosts_are_refused_by_the_default_transport(host: str) -> None:
    http = OutboundPlatformHttp(OutboundHttp(OutboundPolicy()))
    with pytest.raises(PlatformHttpError, match="OUTBOUND_ADDRESS"):
        http.get(f"https://{host}:9/.well-known/x", bearer=None)


def test_a_demo_served_on_loopback_may_register_with_an_lms_beside_it(
    settings: Settings, clean_database: Database, moodle: FakePlatform
) -> None:
    demo = dataclasses.replace(settings, base_url="http://127.0.0.1:8000")
    app = create_app(demo, database=clean_database)
    page = app.test_client().get(
        "/lti/register", query_string={"openid_configuration": moodle.configuration_url}
    )
    assert page.status_code == 200
    assert len(moodle.requests) == 1


def test_item4_a_registration_logs_no_registration_token(
    client: FlaskClient, canvas: FakePlatform, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    done = _confirm(client, canvas, _open(client, canvas))
    assert done.status_code == 200, done.get_data(as_text=True)
    assert stored(database) == [(canvas.issuer, canvas.client_id, [])]

    assert any("dynamic registration stored" in r.getMessage() for r in caplog.records)
    logged = "\n".join([caplog.text, *(repr(r.args) for r in caplog.records)])
    assert canvas.token not in logged
