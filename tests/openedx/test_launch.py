"""Open edX launches Jalon: lti-consumer-xblock's consumer signs, Jalon checks, over HTTP.

Open edX sends its own shapes: the issuer is the LMS root URL, the deployment always "1",
one client id per component; the resource link has an id and no title; the launch
presentation has no locale; a forum Community TA is ``membership#Learner`` and
``membership/Instructor#TeachingAssistant``; the user's username, name and e-mail only when
the course allows sharing them and the component asks.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from tests.openedx.conftest import Browser, Jalon
from tests.openedx.platform import OpenEdxLms

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
E1 = ["framework=community-manager-n6", "epreuve=E1"]


def _claims(openedx: OpenEdxLms) -> dict[str, Any]:
    """Return the claims of the last id_token Open edX signed."""
    return dict(jwt.decode(openedx.id_tokens[-1], options={"verify_signature": False}))


def test_a_learner_launch_lands_on_the_learner_page(jalon: Jalon, openedx: OpenEdxLms) -> None:
    component = openedx.add_component(jalon.tool, custom_parameters=E1)
    jalon.register(openedx, component)
    learner = openedx.add_user("student", "lea", "Léa Moreau")
    landing = Browser().open(openedx, component, learner)
    assert landing.status_code == 200, landing.text
    # A learner's launch of an épreuve opens on what it asks and the form to hand in.
    assert landing.url.startswith(f"{jalon.base}/epreuve?lt="), landing.url
    assert "C1.5" in landing.text
    assert 'action="/epreuve/brouillon?lt=' in landing.text
    # …although the launch had no resource link title and no locale.
    claims = _claims(openedx)
    assert claims["iss"] == openedx.root
    assert claims[CLAIM + "deployment_id"] == "1"
    assert claims[CLAIM + "resource_link"] == {"id": component.usage_key}
    assert claims[CLAIM + "launch_presentation"] == {"document_target": "iframe"}
    assert "name" not in claims
    assert "preferred_username" not in claims


def test_a_replayed_id_token_is_refused(jalon: Jalon, openedx: OpenEdxLms) -> None:
    component = openedx.add_component(jalon.tool, custom_parameters=E1)
    jalon.register(openedx, component)
    learner = openedx.add_user("student", "lea", "Léa Moreau")
    browser = Browser()
    form_page = browser.session.get(openedx.start_url(component, learner), timeout=10)
    assert browser.submit(form_page).url.startswith(f"{jalon.base}/epreuve?lt=")
    replayed = browser.submit(form_page)  # the same id_token and state, posted again
    assert replayed.status_code == 403
    assert "LTI_NONCE_REPLAYED" in replayed.text
    assert "lt=" not in replayed.url


def test_inline_without_jalons_cookie_the_launch_is_refused(
    jalon: Jalon, openedx: OpenEdxLms
) -> None:
    """Open edX offers no platform storage (no ``lti_storage_target``): where the browser
    drops Jalon's cookie in the course's frame, the launch is not tied to the browser, so
    the README says "Open tool in: New Window" there."""
    component = openedx.add_component(jalon.tool, custom_parameters=E1)
    jalon.register(openedx, component)
    learner = openedx.add_user("student", "lea", "Léa Moreau")
    browser = Browser()
    start = openedx.start_url(component, learner)
    assert "lti_storage_target" not in start
    form_page = browser.session.get(start, timeout=10)
    browser.session.cookies.clear()  # third-party cookies blocked in the frame
    refused = browser.submit(form_page)
    assert refused.status_code == 403
    assert "LTI_STATE_MISMATCH" in refused.text


@pytest.mark.parametrize(
    ("role", "landing_path"),
    [
        ("student", "/epreuve"),
        # A forum Community TA or Group Moderator is a student who helps on the forum.
        ("Community TA", "/epreuve"),
        ("Group Moderator", "/epreuve"),
        ("staff", "/evaluation/"),
        ("instructor", "/evaluation/"),
    ],
)
def test_open_edx_roles(jalon: Jalon, openedx: OpenEdxLms, role: str, landing_path: str) -> None:
    component = openedx.add_component(jalon.tool, custom_parameters=E1)
    jalon.register(openedx, component)
    user = openedx.add_user(role, "someone", "Quelqu’un")
    landing = Browser().open(openedx, component, user)
    assert landing.status_code == 200, landing.text
    assert landing.url.startswith(f"{jalon.base}{landing_path}?lt="), landing.url
    if role == "Community TA":
        roles = _claims(openedx)[CLAIM + "roles"]
        assert LIS + "membership#Learner" in roles
        assert LIS + "membership/Instructor#TeachingAssistant" in roles


def test_each_component_its_client_id_and_a_duplicate_keeps_it(
    jalon: Jalon, openedx: OpenEdxLms
) -> None:
    """Two blocks configured one by one: two registrations. A duplicated block: the same."""
    first = openedx.add_component(jalon.tool, custom_parameters=E1)
    second = openedx.add_component(
        jalon.tool, custom_parameters=["framework=community-manager-n6", "epreuve=E2"]
    )
    copy = openedx.duplicate(first)
    assert first.passport.client_id != second.passport.client_id
    assert copy.passport.client_id == first.passport.client_id
    assert copy.usage_key != first.usage_key
    jalon.register(openedx, first)
    jalon.register(openedx, second)
    lea = openedx.add_user("student", "lea", "Léa Moreau")
    browser = Browser()
    for component in (first, second, copy):
        landing = browser.open(openedx, component, lea)
        assert landing.url.startswith(f"{jalon.base}/epreuve?lt="), landing.url
        assert _claims(openedx)["aud"] == component.passport.client_id
        assert _claims(openedx)[CLAIM + "context"]["id"] == openedx.course_key


def test_a_launch_with_the_username_name_and_email_shared(jalon: Jalon) -> None:
    """The course allows sharing (CourseAllowPIISharingInLTIFlag) and the block asks."""
    openedx = OpenEdxLms(pii_sharing=True).start()
    try:
        component = openedx.add_component(
            jalon.tool,
            custom_parameters=E1,
            ask_to_send_username=True,
            ask_to_send_full_name=True,
            ask_to_send_email=True,
        )
        jalon.register(openedx, component)
        lea = openedx.add_user("student", "lea", "Léa Moreau")
        landing = Browser().open(openedx, component, lea)
    finally:
        openedx.stop()
    assert landing.url.startswith(f"{jalon.base}/epreuve?lt="), landing.url
    claims = _claims(openedx)
    assert (claims["preferred_username"], claims["name"]) == ("lea", "Léa Moreau")
    assert claims["email"] == "lea@ecole.example"
    assert "given_name" not in claims
