"""Deep linking from Studio: Jalon's answer as lti-consumer-xblock decodes and stores it.

Open edX's deep-linking launch is for course staff, from Studio; it carries no custom
parameters, no AGS and no resource link. The package's ``check_and_decode_deep_linking_token``
checks Jalon's signature (fetching ``/lti/jwks`` over HTTP) and the content item types, and
its ``LtiDlLtiResourceLinkSerializer`` validates the item before Open edX stores it; the
block then launches that one link with its URL and custom parameters.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.openedx.conftest import Browser, Jalon, forms
from tests.openedx.platform import OpenEdxLms

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
E1 = ["C1.1", "C1.2", "C1.3", "C1.4", "C1.5"]


def test_a_studio_deep_link_is_stored_by_open_edx_and_launches_the_epreuve(
    jalon: Jalon, openedx: OpenEdxLms
) -> None:
    component = openedx.add_component(jalon.tool, deep_linking=True, weight=16)
    jalon.register(openedx, component)
    teacher = Browser()
    paul = openedx.add_user("instructor", "paul", "Paul Durand")

    picker = teacher.open(openedx, component, paul, deep_link=True)
    assert picker.url.startswith(f"{jalon.base}/lti/selection?lt="), picker.url
    request = jwt.decode(openedx.id_tokens[-1], options={"verify_signature": False})
    assert request[CLAIM + "message_type"] == "LtiDeepLinkingRequest"
    assert CLAIM + "resource_link" not in request
    assert request[DL]["accept_multiple"] is True
    form = next(f for f in forms(picker.text) if f["fields"].get("epreuve") == "E1")
    answer = teacher.session.post(
        urljoin(picker.url, form["action"]),
        data={**form["fields"], "competencies": E1},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert forms(answer.text)[0]["action"] == openedx.service_url(component, "lti-dl/response")

    saved = teacher.submit(answer)  # what the page's auto-post script does
    assert saved.status_code == 200, saved.text
    # What check_and_decode_deep_linking_token returned: one link, Jalon's, with its column.
    ((item,),) = openedx.deep_link_answers
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == f"{jalon.base}/lti/launch"
    assert item["custom"]["framework"] == "community-manager-n6"
    assert item["custom"]["epreuve"] == "E1"
    assert item["lineItem"]["scoreMaximum"] == 16
    # The package's serializer accepted it: stored, and the block now launches it.
    (stored,) = component.content_items
    assert stored["attributes"]["custom"] == item["custom"]

    lea = openedx.add_user("student", "lea", "Léa Moreau")
    landing = Browser().open(openedx, component, lea)
    assert landing.status_code == 200, landing.text
    assert landing.url.startswith(f"{jalon.base}/epreuve?lt="), landing.url
    assert "C1.5" in landing.text
    launch = jwt.decode(openedx.id_tokens[-1], options={"verify_signature": False})
    assert launch[CLAIM + "custom"] == item["custom"]


def test_jalons_answer_signed_by_another_key_is_refused_by_open_edx(
    jalon: Jalon, openedx: OpenEdxLms
) -> None:
    """The check is real: a token Jalon's key set does not verify is not stored."""
    component = openedx.add_component(jalon.tool, deep_linking=True)
    jalon.register(openedx, component)
    teacher = Browser()
    paul = openedx.add_user("staff", "paul", "Paul Durand")
    picker = teacher.open(openedx, component, paul, deep_link=True)
    form = next(f for f in forms(picker.text) if f["fields"].get("epreuve") == "E1")
    answer = teacher.session.post(
        urljoin(picker.url, form["action"]), data={**form["fields"], "competencies": E1}, timeout=30
    )
    token = forms(answer.text)[0]["fields"]["JWT"]
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, _other_key(), algorithm="RS256", headers={"kid": "jalon"})
    refused = teacher.submit(answer, JWT=forged)
    assert refused.status_code == 403
    assert component.content_items == []
    assert re.search(r"don't have access", refused.text)


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
