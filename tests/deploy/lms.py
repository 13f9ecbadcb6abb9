"""A Moodle on 127.0.0.1 for the deployment tests, and a browser that launches over HTTPS.

The platform is the suite's Moodle-shaped ``TestPlatform`` (its key set on a real HTTP
server); its issuer is a Moodle gradebook (``moodle_gradebook.py``) that answers the
token and score requests, so a publication reaches a gradebook and no request of Jalon's
leaves 127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from tests.lti_tool.evaluation.moodle_gradebook import MoodleGradebook
from tests.lti_tool.lti.platforms import AGS, NRPS, TestPlatform, jwks_server

SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


@dataclass
class TestLms:
    """The platform (issuer, client, key) and its gradebook."""

    __test__ = False

    platform: TestPlatform
    gradebook: MoodleGradebook

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[TestLms]:
        """Serve the key set and the gradebook for the duration of a block."""
        gradebook = MoodleGradebook().start()
        try:
            with jwks_server() as keys:
                platform = TestPlatform(
                    kind="moodle",
                    issuer=gradebook.base,
                    client_id="deploy-client",
                    deployment_id="1",
                    server=keys,
                    name="moodle",
                )
                yield cls(platform, gradebook)
        finally:
            gradebook.stop()

    def claims(self, nonce: str, role: str, launch_url: str) -> dict[str, Any]:
        """Return a Moodle launch into épreuve 3, graded in the gradebook's column."""
        claims = self.platform.claims(nonce, role)
        claims["https://purl.imsglobal.org/spec/lti/claim/target_link_uri"] = launch_url
        claims[AGS] = {
            "scope": [LINEITEM, SCORE],
            "lineitems": self.gradebook.lineitem_url.replace("/7/lineitem", ""),
            "lineitem": self.gradebook.lineitem_url,
        }
        claims.pop(NRPS)  # no roster: the queue lists those who handed in
        return claims


@dataclass
class Launched:
    """A launch's landing, and what a replay of it needs."""

    landing: requests.Response
    id_token: str
    state: str
    cookies: dict[str, str]

    @property
    def token(self) -> str:
        """Return the session token (``lt``) of the landing's redirect."""
        return dict(parse_qsl(urlsplit(self.landing.headers["Location"]).query))["lt"]


class HttpsBrowser:
    """A browser on the public address: its own cookies, the self-signed certificate trusted."""

    def __init__(self, base_url: str, ca_file: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        # Not the environment's: REQUESTS_CA_BUNDLE would override ``verify``, and a proxy
        # variable would send 127.0.0.1 traffic elsewhere.
        self.http.trust_env = False
        self.http.verify = ca_file

    def login(self, lms: TestLms) -> requests.Response:
        """Send the LMS's third-party login; return Jalon's redirect to the platform."""
        params = lms.platform.login_params(target_link_uri=f"{self.base_url}/lti/launch")
        return self.http.post(f"{self.base_url}/lti/login", data=params, allow_redirects=False)

    def launch(self, lms: TestLms, role: str = "learner", sub: str | None = None) -> Launched:
        """Run login → platform → launch through the proxy; return the 303 landing.

        ``sub`` names another person than the role's usual one.
        """
        login = self.login(lms)
        assert login.status_code == 302, login.text
        query = dict(parse_qsl(urlsplit(login.headers["Location"]).query))
        claims = lms.claims(query["nonce"], role, f"{self.base_url}/lti/launch")
        if sub is not None:
            claims["sub"] = sub
        token = lms.platform.sign(claims)
        cookies = dict(self.http.cookies.items())
        landing = self.http.post(
            f"{self.base_url}/lti/launch",
            data={"id_token": token, "state": query["state"]},
            allow_redirects=False,
        )
        assert landing.status_code == 303, landing.text
        return Launched(landing, token, query["state"], cookies)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET a path of the public address."""
        return self.http.get(f"{self.base_url}{path}", **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """POST to a path of the public address (no redirect followed)."""
        return self.http.post(f"{self.base_url}{path}", allow_redirects=False, **kwargs)


def hidden_fields(page: str) -> dict[str, str]:
    """Return a page's hidden fields (CSRF token, revision)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def all_criteria_met(page: str) -> dict[str, str]:
    """Return the grid's answer with every criterion met."""
    return dict.fromkeys(set(re.findall(r'name="(niveau-[^"]+)"', page)), "atteint")
