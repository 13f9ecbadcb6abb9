"""Jalon as deployed: the shipped nginx site in front of two ``jalon serve`` on PostgreSQL + Redis.

Everything goes through nginx over HTTPS, as from a learner's browser in a Moodle iframe,
except the replays, sent to each app server directly, as an attacker inside the network would.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from tests.deploy.lms import HttpsBrowser, Launched, TestLms, all_criteria_met, hidden_fields
from tests.deploy.stack import STATIC_ROOT, Stack

HSTS = "max-age=63072000"
REPORT = b"%PDF-1.4\n" + bytes(range(256)) * 1200  # 300 kB: past nginx's memory buffer


def _app_logs(stack: Stack) -> str:
    return "".join(i.log.read_text(errors="replace") for i in stack.instances)


def _app_logged(stack: Stack, request_id: str) -> bool:
    """Tell whether an app server logged the request (gunicorn writes after answering)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if request_id in _app_logs(stack):
            return True
        time.sleep(0.1)
    return False


def _served_by(stack: Stack, request_id: str) -> str:
    """Return the app server nginx sent a request to (its access log's upstream address)."""
    log = (stack.folder / "nginx-logs" / "jalon.access.log").read_text()
    line = next(line for line in log.splitlines() if line.endswith(request_id))
    address = re.search(r"(127\.0\.0\.1:\d+) [\d.]+ \"", line)
    assert address, line
    return address.group(1)


@pytest.fixture(scope="module")
def browser(stack: Stack) -> HttpsBrowser:
    return HttpsBrowser(stack.base_url, stack.ca_file)


# -- the proxy itself --------------------------------------------------------------------------


def test_plain_http_is_sent_to_https_with_the_same_path(stack: Stack) -> None:
    answer = requests.get(
        f"{stack.http_url}/lti/installation?lang=en", allow_redirects=False, timeout=5
    )
    assert answer.status_code == 301
    assert answer.headers["Location"] == f"{stack.base_url}/lti/installation?lang=en"


def test_the_app_builds_its_urls_on_https_and_the_public_host(
    stack: Stack, browser: HttpsBrowser
) -> None:
    proxied = browser.get("/referentiels", allow_redirects=False)
    assert proxied.status_code == 308
    assert proxied.headers["Location"] == f"{stack.base_url}/referentiels/"
    # The same app server asked directly builds on what it sees: no forwarded headers.
    direct = requests.get(
        f"{stack.instances[0].url}/referentiels", allow_redirects=False, timeout=10
    )
    assert direct.headers["Location"] == f"{stack.instances[0].url}/referentiels/"


def test_every_answer_has_hsts_and_the_request_id_reaches_the_app(
    stack: Stack, browser: HttpsBrowser
) -> None:
    answer = browser.get("/lti/installation")
    assert answer.status_code == 200
    assert answer.headers["Strict-Transport-Security"] == HSTS
    # The app's own security headers pass through unchanged.
    assert "frame-ancestors" in answer.headers["Content-Security-Policy"]
    request_id = answer.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert _app_logged(stack, '"GET /lti/installation HTTP/1.1" 200')
    assert _app_logged(stack, request_id)
    assert browser.get("/healthz").headers["X-Request-Id"] != request_id


def test_static_files_are_served_by_nginx_from_the_installed_package(
    stack: Stack, browser: HttpsBrowser
) -> None:
    answer = browser.get("/static/grid.js")
    assert answer.status_code == 200
    assert answer.content == (STATIC_ROOT / "grid.js").read_bytes()
    assert answer.headers["Content-Type"] == "application/javascript"
    assert answer.headers["Cache-Control"] == "no-cache"
    assert answer.headers["Strict-Transport-Security"] == HSTS
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    again = browser.get("/static/grid.js", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    assert browser.get("/favicon.ico").content == (STATIC_ROOT / "favicon.ico").read_bytes()
    time.sleep(0.3)
    assert answer.headers["X-Request-Id"] not in _app_logs(stack)
    assert browser.get("/static/../lti_tool/__init__.py").status_code in {400, 404}


def test_a_body_over_the_limit_is_refused_by_nginx_unread_and_under_it_by_the_app(
    stack: Stack, browser: HttpsBrowser
) -> None:
    # The app allows 16 MB here (its floor); nginx 1 MB more.
    assert stack.client_max_body == "17m"
    too_big = browser.post("/epreuve/remise", data=b"x" * (17 * 1024 * 1024 + 1))
    assert too_big.status_code == 413
    assert "nginx" in too_big.text
    assert too_big.headers["Strict-Transport-Security"] == HSTS
    time.sleep(0.3)
    assert too_big.headers["X-Request-Id"] not in _app_logs(stack)
    between = browser.post(
        "/epreuve/remise?lang=en",
        data=b"x" * (16 * 1024 * 1024 + 512 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert between.status_code == 413
    assert "nginx" not in between.text
    assert _app_logged(stack, between.headers["X-Request-Id"])


# -- a course through the proxy -----------------------------------------------------------------


def _hand_in(browser: HttpsBrowser, learner: Launched) -> requests.Response:
    page = browser.get(f"/epreuve?lt={learner.token}")
    assert page.status_code == 200, page.text
    form = hidden_fields(page.text)
    return browser.post(
        f"/epreuve/remise?lt={learner.token}",
        data={**form, "text": "Mon projet de communauté", "links": ""},
        files={"files": ("rapport.pdf", REPORT, "application/pdf")},
    )


def test_a_learner_hands_in_a_file_and_the_evaluator_publishes_the_grade(
    stack: Stack, browser: HttpsBrowser, lms: TestLms
) -> None:
    learner = browser.launch(lms, "learner")
    assert learner.landing.headers["Strict-Transport-Security"] == HSTS
    # The login's state cookie: the app saw https, so it may cross into the LMS's iframe.
    login = browser.login(lms)
    assert "Secure" in login.headers["Set-Cookie"]
    assert "SameSite=None" in login.headers["Set-Cookie"]

    handed = _hand_in(browser, learner)
    assert handed.status_code == 303, handed.text
    page = browser.get(f"/epreuve?lt={learner.token}").text
    assert "Version 1" in page
    link = re.search(r'href="(/epreuve/fichiers/\d+[^"]*)"', page)
    assert link, page
    assert browser.get(link.group(1).replace("&amp;", "&")).content == REPORT

    staff = browser.launch(lms, "instructor")
    queue = browser.get(staff.landing.headers["Location"])
    copy = re.search(r'href="(/evaluation/copies/\d+)\?', queue.text)
    assert copy, queue.text
    grid = browser.get(f"{copy.group(1)}?lt={staff.token}").text
    published = browser.post(
        f"{copy.group(1)}?lt={staff.token}",
        data={
            **hidden_fields(grid),
            **all_criteria_met(grid),
            "action": "publier",
            "confirm": "1",
        },
    )
    assert published.status_code == 303, published.text
    assert "Évaluation publiée." in browser.get(published.headers["Location"]).text
    # Sent at once by the app server that published, through its own outbound checks.
    assert lms.gradebook.count("POST", "/lineitem/scores") == 1
    assert lms.gradebook.grades[lms.platform.claims("n", "learner")["sub"]].finalgrade == 16.0


def test_a_launch_replayed_to_the_other_app_server_is_refused(
    stack: Stack, browser: HttpsBrowser, lms: TestLms
) -> None:
    launched = browser.launch(lms, "learner")
    served = _served_by(stack, launched.landing.headers["X-Request-Id"])
    others = [i for i in stack.instances if not i.url.endswith(served)]
    assert len(others) == 1, served
    for instance in [*others, *(i for i in stack.instances if i not in others)]:
        replay = requests.post(
            f"{instance.url}/lti/launch",
            data={"id_token": launched.id_token, "state": launched.state},
            cookies=launched.cookies,
            allow_redirects=False,
            timeout=10,
        )
        assert replay.status_code in {400, 403}, replay.text
        assert "LTI_NONCE_REPLAYED" in replay.text


def test_the_uploads_stay_in_the_instance_folder_owner_only(stack: Stack) -> None:
    stored = [p for p in (stack.instance_path / "uploads").rglob("*") if p.is_file()]
    assert any(p.read_bytes() == REPORT for p in stored)
    assert Path(stack.instance_path).stat().st_mode & 0o077 == 0
