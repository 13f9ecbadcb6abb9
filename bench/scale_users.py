"""The users of ``bench/scale.py``, for locust in headless mode (``locust -f`` this file).

Mixed load: :class:`Learner` launches an épreuve as a new learner, lands on it
(``/lti/accueil`` → ``/epreuve``), hands in a text and a file, and reads the page again;
:class:`Evaluator` launches as an instructor, reads the queue and the class matrix, and
publishes the copies waiting (each evaluator its share, by submission id). Baseline users
launch without pause: :class:`JalonLaunch`, :class:`JalonLaunchLanding`,
:class:`JalonLanding` (one launch, then landings only) against Jalon, :class:`BareLaunch`
and :class:`BareLaunchPage` against the bare pylti1p3 tool (``bench/bare_tool.py``).

Each step is a request named by its kind; a launch (login + launch) and a landing
(accueil + épreuve) are also reported whole, as ``flow`` entries. ``bench/scale.py`` sets
the ``BENCH_*`` variables read here: the platform's key (a PEM file), issuer and key set URL,
the gradebook column, the launch URL the tokens name, the think time and a run tag.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from locust import FastHttpUser, between, constant, events, task
from urllib3 import encode_multipart_formdata

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lms import PlatformSigner, login_params, query

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
LEVEL = re.compile(r'name="(niveau-[^"]+)"')
COPY = re.compile(r'href="/evaluation/copies/(\d+)\?')
# A small PDF-looking file: what a hand-in uploads (the name's extension is what is checked).
ATTACHMENT = b"%PDF-1.4\n" + b"bench " * 2000 + b"\n%%EOF\n"
_SIGNER: PlatformSigner | None = None
_RUN = os.environ.get("BENCH_RUN", "run")
_COUNTER = itertools.count()


@events.init.add_listener
def _fresh_clock(**_kwargs: Any) -> None:
    """Refresh the event loop's clock, stale after the imports, before the run time starts.

    Otherwise ``--run-time`` counts from the loop's creation, seconds before the load starts.
    """
    import gevent

    gevent.get_hub().loop.update_now()


def signer() -> PlatformSigner:
    """Return the platform, loaded once per locust process from the key file."""
    global _SIGNER
    if _SIGNER is None:
        pem = Path(os.environ["BENCH_KEY_FILE"]).read_bytes()
        _SIGNER = PlatformSigner.from_pem(
            pem, os.environ["BENCH_ISSUER"], os.environ["BENCH_JWKS_URL"]
        )
        _SIGNER.lineitem = os.environ.get("BENCH_LINEITEM") or None
    return _SIGNER


def think_time() -> Any:
    """Return the pause between a user's steps (``BENCH_WAIT``: ``min,max`` seconds)."""
    low, high = (float(x) for x in os.environ.get("BENCH_WAIT", "1,3").split(","))
    return between(low, high)


def _flow(name: str, started: float, ok: bool) -> None:
    events.request.fire(
        request_type="flow",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=None if ok else RuntimeError(f"{name} failed"),
        context={},
    )


class _Tool(FastHttpUser):
    """A browser on one tool: launches signed by the platform, pages by session token."""

    abstract = True
    wait_time = constant(0)  # the baseline's users; the mixed load's think (BENCH_WAIT)
    insecure = True  # nginx's certificate in the benchmark is self-signed
    login_path = "/lti/login"
    launch_path = "/lti/launch"
    instructor = False
    token: str = ""

    def new_sub(self) -> str:
        return f"{_RUN}-{next(_COUNTER)}"

    def launch(self, sub: str) -> str | None:
        """Log in and launch as ``sub``; return where the tool sends the browser, or None."""
        started = time.perf_counter()
        launch_url = os.environ["BENCH_LAUNCH_URL"]
        platform = signer()
        self.client.cookiejar.clear()
        with self.client.post(
            self.login_path,
            data=login_params(launch_url, sub, platform.issuer),
            allow_redirects=False,
            name="launch: login",
            catch_response=True,
        ) as login:
            if login.status_code != 302:
                login.failure(f"login answered {login.status_code}")
                _flow("launch", started, ok=False)
                return None
            sent = query(login.headers["Location"])
        id_token = platform.token(sent["nonce"], sub, launch_url, instructor=self.instructor)
        with self.client.post(
            self.launch_path,
            data={"id_token": id_token, "state": sent["state"]},
            allow_redirects=False,
            name="launch: launch",
            catch_response=True,
        ) as launched:
            if launched.status_code not in {302, 303}:
                launched.failure(f"launch answered {launched.status_code}")
                _flow("launch", started, ok=False)
                return None
            landing = str(launched.headers["Location"])
        _flow("launch", started, ok=True)
        self.token = query(landing).get("lt", "")
        return landing

    def get(self, path: str, name: str, expect: int = 200) -> str | None:
        """GET a page of the launch; return its text, or None (a failure) if not ``expect``."""
        separator = "&" if "?" in path else "?"
        url = path if "lt=" in path else f"{path}{separator}lt={self.token}"
        with self.client.get(url, allow_redirects=False, name=name, catch_response=True) as answer:
            if answer.status_code != expect:
                answer.failure(f"{name} answered {answer.status_code}")
                return None
            return str(answer.headers.get("Location", "")) if expect == 303 else answer.text

    def landing(self) -> str | None:
        """Open the launch's landing (accueil → épreuve); return the épreuve page."""
        started = time.perf_counter()
        target = self.get("/lti/accueil", "landing: accueil", expect=303)
        page = self.get(target, "landing: épreuve") if target else None
        _flow("landing", started, ok=page is not None)
        return page

    def post_form(self, path: str, fields: dict[str, str] | bytes, name: str, **kwargs: Any) -> Any:
        """POST a form of the launch (fields, or a multipart body with its header)."""
        return self.client.post(
            f"{path}?lt={self.token}",
            data=fields,
            allow_redirects=False,
            name=name,
            catch_response=True,
            **kwargs,
        )


class Learner(_Tool):
    """A learner: launches as someone new, lands, hands in a file, reads the page again."""

    wait_time = think_time()

    @task
    def visit(self) -> None:
        if self.launch(self.new_sub()) is None:
            return
        self.wait()
        page = self.landing()
        if page is None:
            return
        self.wait()
        fields = {**dict(HIDDEN.findall(page)), "text": "Mon projet éditorial, version 1."}
        files = {**fields, "files": ("projet.pdf", ATTACHMENT, "application/pdf")}
        body, content_type = encode_multipart_formdata(files)
        with self.post_form(
            "/epreuve/remise", body, "hand-in", headers={"Content-Type": content_type}
        ) as handed:
            if handed.status_code != 303:
                handed.failure(f"hand-in answered {handed.status_code}")
                return
        self.wait()
        self.get("/epreuve", "landing: épreuve")


class Evaluator(_Tool):
    """An instructor: the queue, the matrix, and a share of the copies published."""

    wait_time = think_time()
    instructor = True
    fixed_count = int(os.environ.get("BENCH_EVALUATORS", "5"))
    published: ClassVar[set[int]] = set()
    _numbers = itertools.count()

    def on_start(self) -> None:
        self.number = next(self._numbers)
        self.launch(f"{_RUN}-teacher-{self.number}")

    @task(3)
    def queue(self) -> None:
        self.get("/evaluation/", "queue")

    @task(1)
    def matrix(self) -> None:
        self.get("/classe/", "matrix")

    @task(3)
    def publish(self) -> None:
        queue = self.get("/evaluation/", "queue")
        if queue is None:
            return
        awaiting = queue.split('id="titre-autres"', 1)[0]
        share = int(os.environ.get("BENCH_EVALUATORS", "1"))
        mine = [
            int(n)
            for n in COPY.findall(awaiting)
            if int(n) % share == self.number % share and int(n) not in self.published
        ]
        if not mine:
            return
        copy = mine[0]
        self.published.add(copy)
        self.wait()
        started = time.perf_counter()
        grid = self.get(f"/evaluation/copies/{copy}", "publish: grid")
        if grid is None:
            return
        fields = {
            **dict(HIDDEN.findall(grid)),
            **dict.fromkeys(set(LEVEL.findall(grid)), "atteint"),
            "action": "publier",
            "commentaire": "Travail solide.",
        }
        with self.post_form(f"/evaluation/copies/{copy}", fields, "publish: confirm") as asked:
            if asked.status_code != 200:
                asked.failure(f"publish (confirm page) answered {asked.status_code}")
                return
        with self.post_form(
            f"/evaluation/copies/{copy}", {**fields, "confirm": "1"}, "publish"
        ) as done:
            if done.status_code != 303:
                done.failure(f"publish answered {done.status_code}")
                _flow("publish", started, ok=False)
                return
        _flow("publish", started, ok=True)


class JalonLaunch(_Tool):
    """Launches one after another (login + launch), as fast as Jalon answers."""

    @task
    def one(self) -> None:
        self.launch(self.new_sub())


class JalonLaunchLanding(_Tool):
    """A launch and its landing (accueil → épreuve), one after another."""

    @task
    def one(self) -> None:
        if self.launch(self.new_sub()) is not None:
            self.landing()


class JalonLanding(_Tool):
    """One launch, then landings (accueil → épreuve) one after another."""

    def on_start(self) -> None:
        self.launch(self.new_sub())

    @task
    def one(self) -> None:
        self.landing()


class BareLaunch(_Tool):
    """Launches of the bare pylti1p3 tool, one after another."""

    login_path, launch_path = "/login", "/launch"

    @task
    def one(self) -> None:
        self.launch(self.new_sub())


class BareLaunchPage(_Tool):
    """A launch of the bare tool and its trivial page."""

    login_path, launch_path = "/login", "/launch"

    @task
    def one(self) -> None:
        target = self.launch(self.new_sub())
        if target is not None:
            self.get(target, "page")
