"""Every page passes axe-core (WCAG 2.1 AA) and the basic keyboard path in a real Chromium.

The browser, the live server and the axe-core run come from ``tests/browser.py``: without
Chromium, chromedriver or axe-core the module skips naming what is missing (fails under CI).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from flask import Flask

from lti_tool.db import Database
from lti_tool.models import Deployment, LtiContext, LtiResourceLink, Platform, PlatformStatus
from tests.browser import assert_accessible
from tests.conftest import BASE_URL
from xapi.statements import lti_iri

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

FW = "/referentiels/community-manager-n6"
NOT_FOUND = "/referentiels/nope/"
PAGES = [
    "/referentiels/",
    f"{FW}/",
    f"{FW}/blocs/B1",
    f"{FW}/competences/C1.1",
    f"{FW}/criteres/C1.1-1",
    f"{FW}/activites/A1.1",
    f"{FW}/epreuves/E3",
    NOT_FOUND,
    "/lti/installation",
    "/admin/connexion",
]
LANGS = ["fr", "en"]


def _open(chromium: WebDriver, url: str, path: str, lang: str) -> None:
    """Load a page and check it is the page asked for, in the language asked for."""
    chromium.get(f"{url}{path}?lang={lang}")
    assert chromium.execute_script("return document.documentElement.lang") == lang
    status = chromium.execute_script(
        "const s = document.querySelector('h1 .status'); return s && s.textContent"
    )
    assert status == ("(404)" if path == NOT_FOUND else None), f"{path} rendered status {status}"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_wcag21_aa_violation(
    chromium: WebDriver, live_url: str, path: str, lang: str
) -> None:
    _open(chromium, live_url, path, lang)
    assert_accessible(chromium, f"{path}?lang={lang}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", [f"{FW}/epreuves/E3", NOT_FOUND])
def test_first_tab_reaches_skip_link_which_moves_focus_to_main(
    chromium: WebDriver, live_url: str, path: str, lang: str
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _open(chromium, live_url, path, lang)
    ActionChains(chromium).send_keys(Keys.TAB).perform()
    focused = chromium.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link"
    assert focused.get_attribute("hash") == "#contenu"
    # A skip link that stays off screen once focused helps no sighted keyboard user.
    box = chromium.execute_script("return arguments[0].getBoundingClientRect().toJSON()", focused)
    assert box["left"] >= 0
    assert box["top"] >= 0
    assert box["width"] > 0

    ActionChains(chromium).send_keys(Keys.ENTER).perform()
    focused = chromium.switch_to.active_element
    assert focused.tag_name == "main"
    assert focused.get_attribute("id") == "contenu"


@pytest.mark.parametrize("path", [p for p in PAGES if p.startswith(f"{FW}/")])
def test_english_pages_mark_the_french_referentiel_text_as_french(
    chromium: WebDriver, live_url: str, path: str
) -> None:
    # WCAG 3.1.2 (language of parts), which axe cannot judge: a screen reader must read the
    # référentiel's French text in French and Jalon's own English headings in English.
    _open(chromium, live_url, path, "en")
    lang_of = "return document.querySelector(arguments[0]).closest('[lang]').lang"
    assert chromium.execute_script(lang_of, "main h1") == "fr"
    assert chromium.execute_script(lang_of, "main h2") == "en"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ["resource-links", "courses"])
def test_item3_an_activity_iri_page_has_no_wcag21_aa_violation(
    chromium: WebDriver, app: Flask, clean_database: Database, live_url: str, kind: str, lang: str
) -> None:
    # The rows a learner's launch writes: the platform, its deployment, a course and a link.
    with clean_database.session() as session:
        platform = Platform(
            issuer="https://moodle.example.edu",
            client_id="jalon",
            name="Moodle",
            auth_login_url="https://moodle.example.edu/mod/lti/auth.php",
            auth_token_url="https://moodle.example.edu/mod/lti/token.php",
            key_set_url="https://moodle.example.edu/mod/lti/certs.php",
            status=PlatformStatus.ACTIVE,
            deployments=[Deployment(deployment_id="1")],
        )
        session.add(platform)
        session.flush()
        course = LtiContext(
            issuer=platform.issuer, deployment_id="1", context_id="7", title="Promotion 2026"
        )
        session.add(course)
        session.flush()
        session.add(
            LtiResourceLink(
                platform_id=platform.id,
                context_id=course.id,
                resource_link_id="3",
                title="Épreuve 3",
                custom={"framework": "community-manager-n6", "epreuve": "E3"},
            )
        )
    lms_id = "3" if kind == "resource-links" else "7"
    iri = lti_iri(BASE_URL, kind, "https://moodle.example.edu", "1", lms_id)
    chromium.get(f"{live_url}{iri.removeprefix(BASE_URL)}?lang={lang}")
    assert chromium.execute_script("return document.documentElement.lang") == lang
    heading = chromium.execute_script("return document.querySelector('main h1').textContent")
    assert heading.strip() == ("Épreuve 3" if kind == "resource-links" else "Promotion 2026")
    assert_accessible(chromium, f"{kind} ?lang={lang}")


# The form a platform auto-submits to the launch, built in the page (no network, no CSP
# concern: WebDriver's script is the browser's, not the page's).
POST_LAUNCH = """
const form = document.createElement("form");
form.method = "post";
form.action = arguments[0];
for (const [name, value] of Object.entries(arguments[1])) {
  const input = document.createElement("input");
  input.type = "hidden"; input.name = name; input.value = value;
  form.appendChild(input);
}
document.body.appendChild(form);
form.submit();
"""


@pytest.mark.parametrize("lang", LANGS)
def test_the_refusal_with_a_new_window_link_has_no_wcag21_aa_violation(
    chromium: WebDriver, app: Flask, clean_database: Database, live_url: str, lang: str
) -> None:
    """The page of a launch whose state cookie the browser blocked (no platform storage)."""
    import jwt
    from selenium.webdriver.support.wait import WebDriverWait

    from lti_tool.lti.state import LoginState, signer_for

    issuer = "https://openedx.example.edu"
    state = LoginState(
        "browser-id-0123456789ab",
        1,
        issuer,
        "jalon",
        login=(("login_hint", "7"), ("target_link_uri", f"{BASE_URL}/lti/launch")),
    )
    signer = signer_for(app.config["SECRET_KEY"])
    claims = {
        "iss": issuer,
        "nonce": signer.nonce(state),
        "https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {"locale": lang},
    }
    token = jwt.encode(claims, "a-key-of-the-test-0123456789abcdef", algorithm="HS256")
    chromium.get(f"{live_url}/lti/installation")
    chromium.execute_script(
        POST_LAUNCH, f"{live_url}/lti/launch", {"id_token": token, "state": signer.issue(state)}
    )
    WebDriverWait(chromium, 10).until(lambda driver: driver.current_url.endswith("/lti/launch"))
    link = chromium.find_element("css selector", "main a[target=_blank]")
    assert chromium.execute_script("return document.documentElement.lang") == lang
    assert link.get_attribute("rel") == "noopener"
    assert link.text == (
        "Ouvrir dans une nouvelle fenêtre" if lang == "fr" else "Open in a new window"
    )
    assert_accessible(chromium, f"refusal with a new window link ?lang={lang}")
