"""The demo LMS, a state cookie the iframe lost, and the relaunch in a new window.

The demo platform does what Open edX's inline iframe does: no ``lti_storage_target``. The
browser drops Jalon's state cookie between the login and the launch (a browser blocking
third-party cookies); the refusal page's link starts the login again, the demo's
authorization step signs a fresh id_token for the user logged in there, and the launch
succeeds.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

from flask import Flask

from lti_tool.db import Database
from tests.lti_tool.demo.conftest import place
from tests.lti_tool.demo.harness import ISSUER, JALON, LEA, Browser, forms

EPREUVE = {"framework": "community-manager-n6", "epreuve": "E1", "competencies": "C1.1,C1.2"}
LINK = re.compile(r'<a href="([^"]*)" target="_blank" rel="noopener">')


def test_a_blocked_cookie_is_recovered_in_a_new_window(
    jalon_demo: Flask, clean_database: Database
) -> None:
    link = place(jalon_demo, custom=EPREUVE, target="iframe")
    browser = Browser({"jalon.test": jalon_demo})
    browser.choose(LEA)
    start = browser.open(f"{JALON}/demo/cours/1/activites/{link}/lancement")
    first_login = dict(parse_qsl(urlsplit(start.headers["Location"]).query))
    assert "lti_storage_target" not in first_login
    to_auth = browser.open(start.headers["Location"])
    assert to_auth.status_code == 302, to_auth.get_data(as_text=True)
    # The iframe's cookie is blocked: it never comes back.
    name = to_auth.headers["Set-Cookie"].partition("=")[0]
    assert name.startswith("lti1p3-")
    jar = browser.clients["jalon.test"]
    assert jar.get_cookie(name, domain="jalon.test") is not None
    jar.delete_cookie(name, domain="jalon.test")
    answer = browser.open(to_auth.headers["Location"])
    refused = browser.submit(answer.get_data(as_text=True))
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert '<code class="code">LTI_STATE_MISMATCH</code>' in page
    assert forms(answer.get_data(as_text=True))[0]["fields"]["id_token"] not in page
    hrefs = LINK.findall(page)
    assert len(hrefs) == 1
    relaunch = html.unescape(hrefs[0])
    assert dict(parse_qsl(urlsplit(relaunch).query)) == first_login
    # The new window: the same login, top-level, where the cookie is kept.
    to_auth = browser.open(JALON + relaunch)
    assert to_auth.status_code == 302
    assert to_auth.headers["Location"].startswith(f"{ISSUER}/auth?")
    answer = browser.open(to_auth.headers["Location"])
    assert answer.status_code == 200, answer.get_data(as_text=True)
    launched = browser.submit(answer.get_data(as_text=True))
    assert launched.status_code == 303, launched.get_data(as_text=True)
    landing = browser.follow(launched)
    assert landing.status_code == 200
    assert landing.request.path == "/epreuve"
    assert "C1.1" in landing.get_data(as_text=True)
