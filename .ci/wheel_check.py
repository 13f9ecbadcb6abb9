"""Check a running `jalon demo` over HTTP: its pages, its files and one real LTI launch.

Usage: python wheel_check.py BASE_URL DEMO_PID (e.g. http://127.0.0.1:8123 4242).
.ci/wheel.sh runs it with the wheel's venv against the demo that venv serves. Waits for
/healthz (or for the demo's process to end), then exits non-zero with a message naming the
first failure. Only the standard library and requests (one of Jalon's dependencies).
"""

from __future__ import annotations

import os
import re
import sys
import time
from html.parser import HTMLParser

import requests

LEA = "2"  # the demo course's first learner


class CheckError(Exception):
    """What a newcomer running the installed wheel would have seen go wrong."""


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []  # action, input values

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1][1][values["name"]] = values.get("value", "")


def wait_until_healthy(base: str, pid: int, seconds: float = 90) -> None:
    """Poll /healthz until it answers 200: the demo migrates and seeds before it serves."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            raise CheckError("`jalon demo` exited before /healthz answered") from None
        if time.monotonic() > deadline:
            raise CheckError(f"/healthz did not answer 200 within {seconds:.0f} s")
        time.sleep(0.5)


def expect(response: requests.Response, status: int, *texts: str) -> str:
    """Return the body when the status and every text are as expected, else fail."""
    if response.status_code != status:
        raise CheckError(
            f"GET/POST {response.url}: {response.status_code}, expected {status}\n"
            f"{response.text[:2000]}"
        )
    for text in texts:
        if text not in response.text:
            raise CheckError(f"{response.url}: the page does not contain {text!r}")
    return response.text


def check_pages(base: str) -> None:
    """Every kind of thing the installed package loads at run time answers."""
    get = requests.Session().get
    expect(get(f"{base}/healthz", timeout=10), 200)
    expect(get(f"{base}/demo/", timeout=10), 200, 'name="csrf_token"')  # demo templates
    expect(get(f"{base}/referentiels/", timeout=10), 200, "Community Manager")  # bundled data
    # The error page itself (errors/error.html): a 404, not a TemplateNotFound 500.
    expect(get(f"{base}/there-is-no-such-page", timeout=10), 404, "Page introuvable")
    for path in ("/static/jalon.css", "/static/demo/demo.css"):  # both static folders
        expect(get(f"{base}{path}", timeout=10), 200)
    expect(get(f"{base}/api/v1/openapi.yaml", timeout=10), 200, "openapi:")
    expect(get(f"{base}/xapi/profile", timeout=10), 200, "@context")  # xapi/data, packaged
    # The English catalogue (.mo) is installed: the page is translated, not just French.
    # Last: the choice sticks in a cookie.
    expect(get(f"{base}/referentiels/?lang=en", timeout=10), 200, ">Frameworks<")


def check_launch(base: str) -> str:
    """Launch the first épreuve as a learner through the demo LMS; return the landing URL."""
    with requests.Session() as browser:
        home = expect(browser.get(f"{base}/demo/", timeout=10), 200)
        token = re.search(r'name="csrf_token" value="([^"]+)"', home)
        if token is None:
            raise CheckError("/demo/ has no CSRF field to choose a user with")
        chosen = browser.post(
            f"{base}/demo/", data={"user": LEA, "csrf_token": token.group(1)}, timeout=10
        )
        expect(chosen, 200)
        # The LMS's launch → Jalon's OIDC login → the LMS's auth → an auto-posted form.
        page = browser.get(f"{base}/demo/cours/1/activites/1/lancement", timeout=10)
        expect(page, 200, "id_token")
        parser = _Forms()
        parser.feed(page.text)
        if not parser.forms:
            raise CheckError(f"{page.url}: no auto-submit form to post")
        action, fields = parser.forms[0]
        landing = browser.post(action, data=fields, timeout=30)
    expect(landing, 200, "C1.5")
    if not landing.url.startswith(f"{base}/epreuve?lt="):
        raise CheckError(f"the launch landed on {landing.url}, not on Jalon's épreuve page")
    return landing.url


def main(argv: list[str]) -> int:
    """Run the checks against the demo at ``argv[1]`` (process ``argv[2]``)."""
    if len(argv) != 3 or not argv[2].isdigit():
        print("usage: wheel_check.py BASE_URL DEMO_PID", file=sys.stderr)
        return 2
    base = argv[1].rstrip("/")
    try:
        wait_until_healthy(base, int(argv[2]))
        check_pages(base)
        landing = check_launch(base)
    except (CheckError, requests.RequestException) as exc:
        print(f"wheel check FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"wheel check: pages, files and a launch answered ({landing.split('?')[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
