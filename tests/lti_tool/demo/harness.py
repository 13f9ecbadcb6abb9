"""What the demo LMS tests drive: a browser over several hosts, a WSGI network stub, and a
bare LTI tool on pylti1p3 2.0.0's own Flask classes that judges the demo as a third party.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from flask import Flask, jsonify
from flask.testing import FlaskClient
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.tool_config import ToolConfDict
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client, TestResponse

from lti_tool.demo.keys import KeyPair
from lti_tool.demo.protocol import DemoTool

JALON = "https://jalon.test"
TOOL = "https://tool.test"
ISSUER = f"{JALON}/demo"
CLIENT_ID = "jalon-demo"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
INSTRUCTOR, LEA, HUGO, INES = 1, 2, 3, 4


class WsgiTransport(requests.adapters.BaseAdapter):
    """Answer ``requests`` calls with in-process WSGI apps, by host: the network stub."""

    def __init__(self, apps: Mapping[str, Flask] | None = None) -> None:
        super().__init__()
        self.apps: dict[str, Flask] = dict(apps or {})
        self.calls: list[tuple[str, str]] = []

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None
        parts = urlsplit(request.url)
        app = self.apps[parts.netloc]
        self.calls.append((str(request.method), request.url))
        body = request.body.encode() if isinstance(request.body, str) else request.body
        headers = [(k, v) for k, v in request.headers.items() if k.lower() != "content-length"]
        # A fresh app context: the call may come from inside a request of the same app.
        with app.app_context():
            answer = Client(app).open(
                parts.path,
                base_url=f"{parts.scheme}://{parts.netloc}",
                query_string=parts.query,
                method=str(request.method),
                headers=headers,
                data=body,
            )
            response = requests.Response()
            response.status_code = answer.status_code
            response.reason = answer.status.split(" ", 1)[-1]
            response.headers = CaseInsensitiveDict(dict(answer.headers.items()))
            response._content = answer.get_data()
            response.url = request.url
            response.request = request
            answer.close()
        return response

    def close(self) -> None:
        """Nothing to release: no socket was opened."""

    def session(self) -> requests.Session:
        """Return a ``requests`` session whose every https call goes to these apps."""
        session = requests.Session()
        session.mount("https://", self)
        return session


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({**values, "fields": {}})
        elif tag in {"input", "textarea"} and self.forms and values.get("name"):
            self.forms[-1]["fields"][values["name"]] = values.get("value", "")


def forms(page: str) -> list[dict[str, Any]]:
    """Return the forms of a page: attributes and input values."""
    parser = _Form()
    parser.feed(page)
    return parser.forms


def hidden(page: str) -> dict[str, str]:
    """Return the hidden fields of a page."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no CSRF field"
    return match.group(1)


class Browser:
    """One browser over several hosts: a test client (and its cookies) per app."""

    def __init__(self, apps: Mapping[str, Flask]) -> None:
        self.clients: dict[str, FlaskClient] = {
            host: app.test_client() for host, app in apps.items()
        }

    def open(self, url: str, method: str = "GET", **kwargs: Any) -> TestResponse:
        parts = urlsplit(url)
        client = self.clients[parts.netloc]
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return client.open(
            path, method=method, base_url=f"{parts.scheme}://{parts.netloc}", **kwargs
        )

    def follow(self, response: TestResponse, base: str = JALON, limit: int = 10) -> TestResponse:
        """Follow redirects across hosts, as a browser does."""
        for _ in range(limit):
            if response.status_code not in {301, 302, 303, 307}:
                return response
            location = response.headers["Location"]
            if location.startswith("/"):
                location = base + location
            base = "{0.scheme}://{0.netloc}".format(urlsplit(location))
            response = self.open(location)
        raise AssertionError("too many redirects")

    def submit(self, page: str, base: str = JALON, **extra: str) -> TestResponse:
        """Submit the page's first form with its values (what the auto-submit script does)."""
        form = forms(page)[0]
        action = form.get("action") or "/"
        if action.startswith("/"):
            action = base + action
        data = {**form["fields"], **extra}
        return self.open(action, method=form.get("method", "get").upper(), data=data)

    def choose(self, user_id: int) -> TestResponse:
        """Pick who we are on the demo's home page."""
        page = self.open(f"{JALON}/demo/").get_data(as_text=True)
        return self.open(
            f"{JALON}/demo/", "POST", data={"user": str(user_id), "csrf_token": csrf_token(page)}
        )


@dataclass
class PyltiTool:
    """A bare LTI tool on pylti1p3's FlaskOIDCLogin and FlaskMessageLaunch.

    It knows the platform's key set given at registration (no fetch), validates every id_token
    with pylti1p3's own checks (signature, state, nonce, registration, deployment, message),
    and answers the launch with the validated claims.
    """

    session: requests.Session
    key: KeyPair = field(default_factory=KeyPair.generate)
    launches: list[FlaskMessageLaunch] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = self._app()
        self.config: ToolConfDict | None = None

    @property
    def registration(self) -> DemoTool:
        """What the demo registers of this tool."""
        return DemoTool(
            login_url=f"{TOOL}/login",
            launch_url=f"{TOOL}/launch",
            deep_link_url=f"{TOOL}/launch",
            jwks_url=f"{TOOL}/jwks",
            name="pylti1p3 tool",
        )

    def trust(self, platform_jwks: dict[str, Any]) -> None:
        """Register the demo platform, with its key set pasted in."""
        config = ToolConfDict(
            {
                ISSUER: [
                    {
                        "default": True,
                        "client_id": CLIENT_ID,
                        "auth_login_url": f"{ISSUER}/auth",
                        "auth_token_url": f"{ISSUER}/token",
                        "auth_audience": None,
                        "key_set_url": None,
                        "key_set": platform_jwks,
                        "deployment_ids": ["1"],
                    }
                ]
            }
        )
        config.set_private_key(ISSUER, self.key.private_pem, client_id=CLIENT_ID)
        config.set_public_key(ISSUER, self.key.public_pem, client_id=CLIENT_ID)
        self.config = config

    def _app(self) -> Flask:
        app = Flask("pylti1p3-tool")
        app.secret_key = "pylti1p3-tool-secret-0123456789"  # noqa: S105 (a test tool)

        @app.route("/login", methods=["GET", "POST"])
        def login() -> Any:
            return FlaskOIDCLogin(FlaskRequest(), self.config).redirect(f"{TOOL}/launch")

        @app.post("/launch")
        def launch() -> Any:
            message = FlaskMessageLaunch(FlaskRequest(), self.config, requests_session=self.session)
            claims = message.get_launch_data()
            self.launches.append(message)
            return jsonify(claims)

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify(keys=[self.key.public_jwk])

        return app

    def rotate(self) -> None:
        """Sign with a new key from now on (its key set publishes only the new one)."""
        self.key = KeyPair.generate()
        assert self.config is not None
        self.config.set_private_key(ISSUER, self.key.private_pem, client_id=CLIENT_ID)
        self.config.set_public_key(ISSUER, self.key.public_pem, client_id=CLIENT_ID)


def login_redirect(response: TestResponse) -> dict[str, str]:
    """Return the query of a redirect to the platform's auth endpoint."""
    assert response.status_code in {302, 303}, response.get_data(as_text=True)
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))
