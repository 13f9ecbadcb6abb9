"""The épreuve picker after a Moodle- or Canvas-shaped deep-linking launch, and its answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import sqlalchemy as sa
from flask import Flask
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from pylti1p3.registration import Registration as PyltiRegistration
from werkzeug.test import TestResponse

from lti_tool import csrf
from lti_tool.db import Database
from lti_tool.lti.deep_linking import RESPONSE_LIFETIME
from lti_tool.models import CacheEntry
from tests.database_rows import every_row
from tests.lti_tool.demo.harness import forms
from tests.lti_tool.lti.platforms import CLAIM, LAUNCH_URL, Browser, TestPlatform

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
MOODLE_RETURN = "https://moodle.example.edu/mod/lti/contentitem_return.php?course=7&id=1"
CANVAS_RETURN = "https://canvas.example.edu/courses/101/deep_linking_response?modal=true"
E1 = ("C1.1", "C1.2", "C1.3", "C1.4", "C1.5")


def moodle_settings(**changes: Any) -> dict[str, Any]:
    """The deep-linking settings of Moodle 4.x, booleans as strings."""
    settings: dict[str, Any] = {
        "deep_link_return_url": MOODLE_RETURN,
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["frame", "iframe", "window"],
        "accept_multiple": "false",
        "auto_create": "false",
        "title": "Community Manager — promotion 2026",
        "text": "",
        "data": '{"typeid":"1","course":"7"}',
    }
    settings.update(changes)
    return {k: v for k, v in settings.items() if v is not None}


def canvas_settings(**changes: Any) -> dict[str, Any]:
    """Canvas's settings (assignment selection): real booleans, an opaque JWT as data."""
    settings: dict[str, Any] = {
        "deep_link_return_url": CANVAS_RETURN,
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_media_types": "application/vnd.ims.lti.v1.ltilink",
        "accept_multiple": False,
        "accept_lineitem": True,
        "auto_create": False,
        "validation_context": None,
        "errors": {"errors": {}},
        "data": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE.canvas",
    }
    settings.update(changes)
    return {k: v for k, v in settings.items() if v is not None}


def deep_link(settings: dict[str, Any]) -> Any:
    def change(claims: dict[str, Any]) -> None:
        claims[CLAIM + "message_type"] = "LtiDeepLinkingRequest"
        claims.pop(CLAIM + "resource_link")
        claims[DL + "deep_linking_settings"] = settings

    return change


def open_picker(
    browser: Browser,
    platform: TestPlatform,
    settings: dict[str, Any] | None = None,
    role: str = "instructor",
) -> tuple[str, TestResponse]:
    """Launch for deep linking; return the session token and the picker page."""
    if settings is None:
        settings = moodle_settings() if platform.kind == "moodle" else canvas_settings()
    launched = browser.launch(platform, role, change=deep_link(settings))
    assert launched.status_code == 303, launched.get_data(as_text=True)
    location = urlsplit(launched.headers["Location"])
    assert location.path == "/lti/selection"
    token = dict(parse_qsl(location.query))["lt"]
    return token, browser.get(f"/lti/selection?lt={token}")


def picker_form(page: TestResponse, epreuve: str) -> dict[str, Any]:
    html = page.get_data(as_text=True)
    form = next(f for f in forms(html) if f["fields"].get("epreuve") == epreuve)
    return form


def choose(
    browser: Browser,
    page: TestResponse,
    epreuve: str = "E1",
    competencies: Any = None,
    extra: dict[str, Any] | None = None,
) -> TestResponse:
    """Submit the picker's form of an épreuve, keeping (or replacing) its competencies."""
    form = picker_form(page, epreuve)
    data: dict[str, Any] = dict(form["fields"])
    data["competencies"] = list(competencies) if competencies is not None else _boxes(page, epreuve)
    data.update(extra or {})
    return browser.post(form["action"], data=data)


def _boxes(page: TestResponse, epreuve: str) -> list[str]:
    html = page.get_data(as_text=True)
    start = html.index(f'value="{epreuve}"')
    end = html.index("</form>", start)
    section = html[start:end]
    return [part.split('"', 1)[0] for part in section.split('name="competencies" value="')[1:]]


def answer_of(response: TestResponse) -> tuple[str, str]:
    """Return (action, JWT) of the auto-posted answer page."""
    assert response.status_code == 200, response.get_data(as_text=True)
    form = forms(response.get_data(as_text=True))[0]
    return form["action"], form["fields"]["JWT"]


def jalon_key(browser: Browser, token: str) -> Any:
    header = jwt.get_unverified_header(token)
    keys = browser.get("/lti/jwks").get_json()["keys"]
    jwk = next(k for k in keys if k["kid"] == header["kid"])
    return jwt.PyJWK(jwk).key


def verified(browser: Browser, token: str, platform: TestPlatform) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        jalon_key(browser, token),
        algorithms=["RS256"],
        audience=platform.issuer,
        issuer=platform.client_id,
        options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
    )
    return claims


def test_the_launch_opens_the_picker_with_every_epreuve(
    browser: Browser, moodle: TestPlatform
) -> None:
    _token, page = open_picker(browser, moodle)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "La plateforme demande de choisir une épreuve" in html
    for code in ("E1", "E2", "E3", "E4", "E5"):
        assert picker_form(page, code)["fields"]["framework"] == "community-manager-n6"
    assert "Étude de cas (épreuve écrite)" in html
    assert _boxes(page, "E1") == list(E1)
    assert 'name="csrf_token"' in html
    assert 'name="lt"' in html
    assert "<script" not in html.split("</head>", 1)[1]  # works without JavaScript


def test_the_picker_speaks_english(browser: Browser, moodle: TestPlatform) -> None:
    token, _page = open_picker(browser, moodle)
    html = browser.get(f"/lti/selection?lt={token}&lang=en").get_data(as_text=True)
    assert "Place an épreuve" in html
    assert "Place épreuve E3 in the course" in html


def test_moodle_gets_one_signed_resource_link_with_its_column(
    browser: Browser, moodle: TestPlatform
) -> None:
    _token, page = open_picker(browser, moodle)
    action, token = answer_of(choose(browser, page, "E1", ["C1.2", "C1.1"]))
    assert action == MOODLE_RETURN
    claims = verified(browser, token, moodle)
    assert claims["aud"] == moodle.issuer
    assert claims["iss"] == moodle.client_id
    assert claims["exp"] - claims["iat"] == RESPONSE_LIFETIME
    assert claims[CLAIM + "deployment_id"] == "1"
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[CLAIM + "version"] == "1.3.0"
    assert claims[DL + "data"] == '{"typeid":"1","course":"7"}'
    [item] = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == LAUNCH_URL
    assert item["title"].startswith("E1 — Étude de cas")
    # Narrowed, in the épreuve's order; every custom value a string.
    assert item["custom"] == {
        "framework": "community-manager-n6",
        "epreuve": "E1",
        "competencies": "C1.1,C1.2",
    }
    assert item["iframe"]  # Moodle accepts iframe: Jalon's preferred target
    # C1.1 has 4 criteria and C1.2 has 3: the column is marked out of the criteria judged.
    assert item["lineItem"] == {
        "scoreMaximum": 7,
        "label": item["title"],
        "resourceId": "community-manager-n6/E1",
        "tag": "jalon",
    }


def test_the_whole_epreuve_is_marked_out_of_all_its_criteria(
    browser: Browser, moodle: TestPlatform
) -> None:
    _token, page = open_picker(browser, moodle)
    _action, token = answer_of(choose(browser, page, "E3"))
    [item] = verified(browser, token, moodle)[DL + "content_items"]
    assert item["custom"]["competencies"] == ",".join(f"C2.{n}" for n in range(1, 12))
    assert item["lineItem"]["scoreMaximum"] == 36


def test_canvas_booleans_and_data_are_honoured(browser: Browser, canvas: TestPlatform) -> None:
    _token, page = open_picker(browser, canvas)
    action, token = answer_of(choose(browser, page, "E2"))
    assert action == CANVAS_RETURN
    claims = verified(browser, token, canvas)
    assert claims[CLAIM + "deployment_id"] == canvas.deployment_id
    assert claims[DL + "data"] == canvas_settings()["data"]
    [item] = claims[DL + "content_items"]
    assert item["lineItem"]["scoreMaximum"] == 18


@pytest.mark.parametrize("multiple", ["true", True])
def test_accept_multiple_still_returns_the_one_chosen_item(
    browser: Browser, moodle: TestPlatform, multiple: Any
) -> None:
    _token, page = open_picker(browser, moodle, moodle_settings(accept_multiple=multiple))
    _action, token = answer_of(choose(browser, page, "E5"))
    items = verified(browser, token, moodle)[DL + "content_items"]
    assert [item["custom"]["epreuve"] for item in items] == ["E5"]


@pytest.mark.parametrize("refused", ["false", False, "FALSE"])
def test_no_column_when_the_platform_refuses_line_items(
    browser: Browser, moodle: TestPlatform, refused: Any
) -> None:
    _token, page = open_picker(browser, moodle, moodle_settings(accept_lineitem=refused))
    _action, token = answer_of(choose(browser, page, "E1"))
    [item] = verified(browser, token, moodle)[DL + "content_items"]
    assert "lineItem" not in item


@pytest.mark.parametrize(
    ("targets", "expected"),
    [(["window"], "window"), (["iframe", "window"], "iframe"), (["embed"], None)],
)
def test_the_presentation_is_one_the_platform_accepts(
    browser: Browser, moodle: TestPlatform, targets: list[str], expected: str | None
) -> None:
    settings = moodle_settings(accept_presentation_document_targets=targets)
    _token, page = open_picker(browser, moodle, settings)
    _action, token = answer_of(choose(browser, page, "E1"))
    [item] = verified(browser, token, moodle)[DL + "content_items"]
    assert {"iframe", "window"} & item.keys() == ({expected} if expected else set())


def test_no_data_claim_when_the_platform_sent_none(browser: Browser, moodle: TestPlatform) -> None:
    _token, page = open_picker(browser, moodle, moodle_settings(data=None))
    _action, token = answer_of(choose(browser, page, "E1"))
    assert DL + "data" not in verified(browser, token, moodle)


class _BarePlatform(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
    """lti1p3platform as shipped, knowing Jalon's key set: its own checks, nothing added."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self.key_set = kwargs["key_set"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        registration: Registration = (
            Registration()
            .set_iss("https://moodle.example.edu")
            .set_client_id("Xq3kP0vZ8mLrT2a")
            .set_deployment_id("1")
            .set_tool_key_set(self.key_set)
        )
        return registration


def test_the_answer_passes_lti1p3platform_and_matches_pylti1p3s_shape(
    browser: Browser, moodle: TestPlatform
) -> None:
    _token, page = open_picker(browser, moodle)
    _action, token = answer_of(choose(browser, page, "E4"))
    platform = _BarePlatform(key_set=browser.get("/lti/jwks").get_json())
    platform.get_registration()
    [item] = platform.validate_deeplinking_resp({"JWT": token})
    # pylti1p3 2.0.0 building the same link: Jalon's item and claims hold all of it.
    line_item = item["lineItem"]
    resource = (
        DeepLinkResource()
        .set_title(item["title"])
        .set_url(LAUNCH_URL)
        .set_custom_params(item["custom"])
        .set_lineitem(
            LineItem()
            .set_score_maximum(line_item["scoreMaximum"])
            .set_label(line_item["label"])
            .set_resource_id(line_item["resourceId"])
            .set_tag(line_item["tag"])
        )
    )
    assert resource.to_dict().items() <= item.items()
    registration = PyltiRegistration().set_issuer(moodle.issuer).set_client_id(moodle.client_id)
    reference = DeepLink(registration, "1", moodle_settings()).get_message_jwt([resource])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert reference.keys() <= claims.keys()
    for name in ("iss", CLAIM + "deployment_id", CLAIM + "message_type", CLAIM + "version"):
        assert claims[name] == reference[name]
    assert [claims["aud"]] == reference["aud"]


# -- refusals ------------------------------------------------------------------------------


def _csrf_of(app: Flask, token: str) -> str:
    """Return the CSRF token that pages of this session (or of nobody) carry in forms."""
    with app.test_request_context(f"/lti/selection?lt={token}"):
        app.preprocess_request()
        return csrf.generate()


def test_a_learner_cannot_use_the_picker(
    browser: Browser, moodle: TestPlatform, registered: Flask, clean_database: Database
) -> None:
    launched = browser.launch(moodle, "learner", change=deep_link(moodle_settings()))
    token = dict(parse_qsl(urlsplit(launched.headers["Location"]).query))["lt"]
    page = browser.get(f"/lti/selection?lt={token}")
    assert page.status_code == 403
    assert "LTI_ROLE_FORBIDDEN" in page.get_data(as_text=True)
    form = {"lt": token, "framework": "community-manager-n6", "epreuve": "E1"}
    before = every_row(clean_database)
    # Past CSRF (the session's own form token), the role is what refuses.
    posted = browser.post(
        "/lti/selection", data={**form, "csrf_token": _csrf_of(registered, token)}
    )
    assert posted.status_code == 403
    assert "LTI_ROLE_FORBIDDEN" in posted.get_data(as_text=True)
    assert 'name="JWT"' not in posted.get_data(as_text=True)
    # Without the form token, CSRF refuses first.
    unsigned = browser.post("/lti/selection", data=form)
    assert unsigned.status_code == 400
    assert "Le formulaire a expiré" in unsigned.get_data(as_text=True)
    assert 'name="JWT"' not in unsigned.get_data(as_text=True)
    assert every_row(clean_database) == before


def test_a_resource_link_session_cannot_answer(browser: Browser, moodle: TestPlatform) -> None:
    launched = browser.launch(moodle, "instructor")
    assert urlsplit(launched.headers["Location"]).path == "/lti/accueil"
    token = dict(parse_qsl(urlsplit(launched.headers["Location"]).query))["lt"]
    page = browser.get(f"/lti/selection?lt={token}")
    assert page.status_code == 400
    assert "DL_NOT_REQUESTED" in page.get_data(as_text=True)


@pytest.mark.parametrize("token", ["", "forged.token.value", "InR4eC0xIg.Z0Z0Z0.abc"])
def test_a_missing_or_forged_session_is_refused(
    browser: Browser, registered: Flask, clean_database: Database, token: str
) -> None:
    page = browser.get(f"/lti/selection?lt={token}")
    assert page.status_code == 401
    assert "LTI_SESSION_EXPIRED" in page.get_data(as_text=True)
    form = {"lt": token, "framework": "community-manager-n6", "epreuve": "E1"}
    before = every_row(clean_database)
    unsigned = browser.post("/lti/selection", data=form)
    assert unsigned.status_code == 400
    # With a form token valid for nobody, the missing session is what refuses.
    posted = browser.post(
        "/lti/selection", data={**form, "csrf_token": _csrf_of(registered, token)}
    )
    assert posted.status_code == 401
    assert "LTI_SESSION_EXPIRED" in posted.get_data(as_text=True)
    assert every_row(clean_database) == before


def test_a_session_token_from_another_app_secret_is_refused(
    browser: Browser, moodle: TestPlatform, registered: Flask
) -> None:
    token, page = open_picker(browser, moodle)
    registered.config["SECRET_KEY"] = "another-secret-0123456789abcdef"  # noqa: S105
    assert browser.get(f"/lti/selection?lt={token}").status_code == 401
    form = picker_form(page, "E1")
    # The form's token was signed for the session, with the old secret: CSRF refuses it.
    refused = browser.post(form["action"], data=form["fields"])
    assert refused.status_code == 400
    assert "Le formulaire a expiré" in refused.get_data(as_text=True)


def test_a_stale_session_is_refused(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token, page = open_picker(browser, moodle)
    # Two hours later the stored launch has expired (and been purged).
    with clean_database.session() as session:
        session.execute(sa.delete(CacheEntry).where(CacheEntry.key.startswith("launch:")))
    assert browser.get(f"/lti/selection?lt={token}").status_code == 401
    form = picker_form(page, "E1")
    before = every_row(clean_database)
    answer = browser.post(form["action"], data={**form["fields"], "competencies": ["C1.1"]})
    # The form's token belonged to the session that is gone: CSRF refuses it.
    assert answer.status_code == 400
    assert "Le formulaire a expiré" in answer.get_data(as_text=True)
    assert every_row(clean_database) == before
    assert 'name="JWT"' not in answer.get_data(as_text=True)


def test_a_form_without_csrf_token_is_refused(browser: Browser, moodle: TestPlatform) -> None:
    _token, page = open_picker(browser, moodle)
    response = choose(browser, page, "E1", extra={"csrf_token": ""})
    assert response.status_code == 400
    assert 'name="JWT"' not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"epreuve": "E9"}, "epreuve"),
        ({"framework": "autre-titre"}, "framework"),
        ({"competencies": ["C1.1", "C4.1"]}, "competencies"),
        ({"competencies": []}, "competencies"),
        ({"deep_link_return_url": "https://evil.test/steal"}, "deep_link_return_url"),
        ({"data": "another-request"}, "data"),
    ],
)
def test_bad_or_tampered_choices_are_refused_naming_the_field(
    browser: Browser, moodle: TestPlatform, change: dict[str, Any], field: str
) -> None:
    _token, page = open_picker(browser, moodle)
    competencies = change.pop("competencies", None)
    response = choose(browser, page, "E1", competencies, change)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'name="JWT"' not in html
    assert "evil.test" not in html
    assert 'class="error-summary"' in html
    # JSON clients get the field errors.
    form = picker_form(page, "E1")
    data = {**form["fields"], **change}
    data["competencies"] = competencies if competencies is not None else ["C1.1"]
    answer = browser.post(form["action"], data=data, headers={"Accept": "application/json"})
    assert answer.status_code == 400
    assert field in answer.get_json()["error"]["fields"]
    # Nothing was answered: the genuine choice still goes through, to the stored return URL.
    action, _jwt = answer_of(choose(browser, page, "E1"))
    assert action == MOODLE_RETURN


def test_a_request_is_answered_once(browser: Browser, moodle: TestPlatform) -> None:
    _token, page = open_picker(browser, moodle)
    answer_of(choose(browser, page, "E1"))
    again = choose(browser, page, "E2")
    assert again.status_code == 409
    assert "DL_ALREADY_ANSWERED" in again.get_data(as_text=True)


def test_a_request_without_resource_links_is_refused_at_launch(
    browser: Browser, moodle: TestPlatform
) -> None:
    settings = moodle_settings(accept_types=["link", "html"])
    launched = browser.launch(moodle, "instructor", change=deep_link(settings))
    assert launched.status_code == 400
    assert "LTI_MISSING_CLAIM" in launched.get_data(as_text=True)


def test_a_return_url_that_is_not_http_is_refused(browser: Browser, moodle: TestPlatform) -> None:
    settings = moodle_settings(deep_link_return_url="javascript:alert(1)")
    launched = browser.launch(moodle, "instructor", change=deep_link(settings))
    token = dict(parse_qsl(urlsplit(launched.headers["Location"]).query))["lt"]
    page = browser.get(f"/lti/selection?lt={token}")
    assert page.status_code == 400
    assert "DL_BAD_RETURN_URL" in page.get_data(as_text=True)
    assert "javascript:" not in page.get_data(as_text=True)
