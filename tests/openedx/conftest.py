"""Jalon and an Open edX LMS (lti-consumer-xblock's code), each on its own loopback port.

Nothing is in process: the browser is ``requests``; Jalon fetches the component's key set
and gets tokens, posts scores and reads the roster over HTTP; Open edX fetches Jalon's key
set over HTTP to check its tokens and its deep-linking answer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from lti_tool.lti import keys
from lti_tool.models import Deployment, Platform, PlatformStatus
from tests.browser import free_port, serving
from tests.lti_tool.demo.harness import forms, hidden
from tests.openedx.course import Component, Tool, User
from tests.openedx.platform import OpenEdxLms

FRAMEWORK = "community-manager-n6"


@dataclass
class Jalon:
    """Jalon served over HTTP, and its database."""

    base: str
    database: Database
    app: Flask

    @property
    def tool(self) -> Tool:
        """Return what the course team types into Studio for Jalon."""
        return Tool(
            launch_url=f"{self.base}/lti/launch",
            oidc_url=f"{self.base}/lti/login",
            keyset_url=f"{self.base}/lti/jwks",
            deep_linking_url=f"{self.base}/lti/launch",
        )

    def register(self, lms: OpenEdxLms, component: Component) -> None:
        """What `jalon platform add` stores for one component (its own client id)."""
        with self.database.session() as session:
            platform = Platform(
                issuer=lms.root,
                client_id=component.passport.client_id,
                name=f"Open edX ({component.display_name})",
                auth_login_url=lms.login_url,
                auth_token_url=lms.token_url(component),
                key_set_url=lms.keyset_url(component),
                status=PlatformStatus.ACTIVE,
            )
            platform.deployments = [Deployment(deployment_id="1")]
            session.add(platform)
            session.commit()


@pytest.fixture
def openedx() -> Iterator[OpenEdxLms]:
    lms = OpenEdxLms().start()
    yield lms
    lms.stop()


@pytest.fixture
def jalon(settings: Settings, clean_database: Database) -> Iterator[Jalon]:
    """Jalon on loopback, so it may call the LMS beside it over plain http (as the demo)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(dataclasses.replace(settings, base_url=base), database=clean_database)
    with clean_database.session() as session:
        install_bundled(session)
        keys.current(session)
        session.commit()
    with serving(app, port):
        yield Jalon(base, clean_database, app)


class Browser:
    """A browser: its own cookies, over HTTP to both servers, running the auto-submit forms."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def open(
        self, lms: OpenEdxLms, component: Component, user: User, **kw: bool
    ) -> requests.Response:
        """Open the block as ``user``: login → Open edX's launch form → Jalon's landing."""
        start = self.session.get(lms.start_url(component, user, **kw), timeout=10)
        assert start.status_code == 200, start.text
        assert start.url.startswith(f"{lms.root}/api/lti_consumer/v1/launch/?"), start.url
        return self.submit(start)

    def submit(self, page: requests.Response, **extra: str) -> requests.Response:
        """Submit the page's first form, as its script does."""
        form = forms(page.text)[0]
        action = urljoin(page.url, form.get("action") or page.url)
        data = {**form["fields"], **extra}
        return self.session.post(action, data=data, timeout=30)

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def browsers() -> Iterator[list[Browser]]:
    made: list[Browser] = []
    yield made
    for browser in made:
        browser.close()


def session_token(page: requests.Response) -> str:
    """Return the ``lt`` session token of a Jalon page's URL."""
    match = re.search(r"[?&]lt=([^&]+)", page.url)
    assert match, page.url
    return match.group(1)


def hand_in(browser: Browser, landing: requests.Response, text: str) -> None:
    """Hand in text from the épreuve page a learner's launch opened."""
    assert "/epreuve?lt=" in landing.url, landing.url
    base = landing.url.split("/epreuve?", 1)[0]
    handed = browser.session.post(
        f"{base}/epreuve/remise?lt={session_token(landing)}",
        data={**hidden(landing.text), "text": text},
        timeout=30,
    )
    assert handed.status_code == 200, handed.text
    assert [step.status_code for step in handed.history] == [303]


def publish_all_met(browser: Browser, queue: requests.Response, comment: str) -> str:
    """From the evaluators' queue, grade the waiting copy all met and publish it."""
    assert "/evaluation/?lt=" in queue.url, queue.url
    base = queue.url.split("/evaluation/", 1)[0]
    token = session_token(queue)
    copies = re.findall(r'href="(/evaluation/copies/\d+)\?', queue.text)
    assert copies, "the handed-in copy is not in the queue"
    grid = browser.session.get(f"{base}{copies[0]}?lt={token}", timeout=30).text
    levels = dict.fromkeys(set(re.findall(r'name="(niveau-[^"]+)"', grid)), "atteint")
    published = browser.session.post(
        f"{base}{copies[0]}?lt={token}",
        data={
            **hidden(grid),
            **levels,
            "action": "publier",
            "confirm": "1",  # "Publier", then "Confirmer la publication"
            "commentaire": comment,
        },
        timeout=60,
    )
    assert published.status_code == 200, published.text
    return published.text
