"""`jalon demo` for real: gunicorn on 127.0.0.1, a launch over HTTP, keys fetched over HTTP.

Here nothing is in process: Jalon fetches the demo's /demo/jwks and the demo fetches Jalon's
/lti/jwks through sockets, as on a newcomer's machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.db import make_engine
from lti_tool.demo.models import LineItem, Placement
from lti_tool.lti import keys as tool_keys
from lti_tool.models import Platform
from tests.browser import free_port
from tests.conftest import REPO
from tests.lti_tool.demo.harness import INSTRUCTOR, LEA, csrf_token, forms


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Run `jalon demo` in its own process; give its base URL and instance folder."""
    instance = tmp_path_factory.mktemp("jalon-demo")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JALON_")}
    env["JALON_INSTANCE_PATH"] = str(instance)
    command = [sys.executable, "-c", "from lti_tool.cli import main; main()", "demo"]
    log = (instance / "server.log").open("wb")
    server = subprocess.Popen(
        [*command, "--port", str(port)], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # not up yet, or slow to answer under load
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail((instance / "server.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield base, instance
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_jalon_demo_prints_both_urls_and_registers_the_lms(served: tuple[str, Path]) -> None:
    base, instance = served
    output = (instance / "server.log").read_text(errors="replace")
    assert f"Demo LMS: {base}/demo/" in output
    # Where the admin token is, not the token: a newcomer finds the admin pages.
    token = (instance / "admin_token").read_text().strip()
    assert f"Admin: {base}/admin/ — sign in with the token in {instance / 'admin_token'}" in output
    assert token not in output
    engine = make_engine(f"sqlite:///{instance / 'jalon.db'}")
    with engine.connect() as connection:
        issuers = connection.execute(sa.select(Platform.issuer, Platform.client_id)).all()
    engine.dispose()
    assert issuers == [(f"{base}/demo", "jalon-demo")]
    assert (instance / "demo-lms.db").exists()
    assert (instance / "demo-lms-key.pem").stat().st_mode & 0o777 == 0o600


def test_the_five_epreuves_are_placed_by_deep_linking(served: tuple[str, Path]) -> None:
    base, instance = served
    output = (instance / "server.log").read_text(errors="replace")
    assert "Épreuves placed in the demo course: E1, E2, E3, E4, E5" in output
    engine = make_engine(f"sqlite:///{instance / 'demo-lms.db'}")
    with engine.connect() as connection:
        placed = connection.execute(sa.select(Placement.url, Placement.custom)).all()
        columns = connection.execute(sa.select(sa.func.count()).select_from(LineItem)).scalar()
    engine.dispose()
    assert [custom["epreuve"] for _url, custom in placed] == ["E1", "E2", "E3", "E4", "E5"]
    assert {url for url, _custom in placed} == {f"{base}/lti/launch"}
    assert columns == 5
    with requests.Session() as browser:
        home = browser.get(f"{base}/demo/", timeout=10).text
        browser.post(
            f"{base}/demo/", data={"user": LEA, "csrf_token": csrf_token(home)}, timeout=10
        )
        course = browser.get(f"{base}/demo/cours/1", timeout=10).text
    for code in ("E1", "E2", "E3", "E4", "E5"):
        assert f'aria-label="Lancer « {code} — ' in course


def test_a_launch_over_http_lands_on_jalon(served: tuple[str, Path]) -> None:
    base, _instance = served
    with requests.Session() as browser:
        home = browser.get(f"{base}/demo/", timeout=10).text
        browser.post(
            f"{base}/demo/", data={"user": LEA, "csrf_token": csrf_token(home)}, timeout=10
        )
        # Launch E1 (placed at start) → Jalon's login → the demo's auth → the auto-posted form.
        page = browser.get(f"{base}/demo/cours/1/activites/1/lancement", timeout=10)
        assert page.url.startswith(f"{base}/demo/auth?")
        form = forms(page.text)[0]
        landing = browser.post(form["action"], data=form["fields"], timeout=10)
    assert landing.status_code == 200, landing.text
    # A learner's launch of a placed épreuve opens on what it asks and the form to hand in.
    assert landing.url.startswith(f"{base}/epreuve?lt=")
    assert "C1.5" in landing.text
    assert 'action="/epreuve/brouillon?lt=' in landing.text


def test_the_demo_checks_jalons_signature_over_http(served: tuple[str, Path]) -> None:
    base, instance = served
    engine = make_engine(f"sqlite:///{instance / 'jalon.db'}")
    # The key Jalon signs with (its AGS client will sign its assertions with it).
    with Session(engine) as session, session.begin():
        key = tool_keys.current(session)
        pem, kid = key.private_key_pem, key.kid
    engine.dispose()
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": "jalon-demo",
            "sub": "jalon-demo",
            "aud": f"{base}/demo/token",
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        },
        pem,
        algorithm="RS256",
        headers={"kid": kid},
    )
    answer = requests.post(
        f"{base}/demo/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    roster = requests.get(
        f"{base}/demo/courses/1/memberships",
        headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
        timeout=10,
    )
    assert len(roster.json()["members"]) == 4


def test_item4_the_demo_server_logs_no_session_token(served: tuple[str, Path]) -> None:
    base, instance = served
    with requests.Session() as browser:
        home = browser.get(f"{base}/demo/", timeout=10).text
        browser.post(
            f"{base}/demo/", data={"user": LEA, "csrf_token": csrf_token(home)}, timeout=10
        )
        page = browser.get(f"{base}/demo/cours/1/activites/1/lancement", timeout=10)
        form = forms(page.text)[0]
        landing = browser.post(form["action"], data=form["fields"], timeout=10)
    token = landing.url.split("lt=", 1)[1].split("&", 1)[0]
    log = instance / "server.log"
    deadline = time.monotonic() + 10
    while "GET /epreuve?lt=[hidden]" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.1)
    logged = log.read_text(errors="replace")
    assert token not in logged
    assert form["fields"]["id_token"] not in logged
    assert "Moreau" not in logged


def test_item1_the_demo_reads_its_roster_over_http_under_the_outbound_policy(
    served: tuple[str, Path],
) -> None:
    """Jalon on loopback calls the LMS beside it over plain http: the demo keeps working."""
    base, _instance = served
    with requests.Session() as browser:
        home = browser.get(f"{base}/demo/", timeout=10).text
        browser.post(
            f"{base}/demo/", data={"user": INSTRUCTOR, "csrf_token": csrf_token(home)}, timeout=10
        )
        page = browser.get(f"{base}/demo/cours/1/activites/1/lancement", timeout=10)
        form = forms(page.text)[0]
        landing = browser.post(form["action"], data=form["fields"], timeout=30)
    assert landing.status_code == 200, landing.text
    assert landing.url.startswith(f"{base}/evaluation/?lt=")
    missing = landing.text.split('id="titre-non-remis"')[1]
    # The list comes from the LMS's roster (NRPS, token and all, over HTTP), not launches.
    assert "D’après la liste des participants de la plateforme." in missing
    assert "OUTBOUND_" not in landing.text
