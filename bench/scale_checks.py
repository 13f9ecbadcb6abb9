"""What ``bench/scale.py`` checks after a run: statements, grades and nonces.

* :class:`CountingLrs` stands between the relays and the LRS on 127.0.0.1 and counts, by
  statement id, every statement the LRS accepted (a statement delivered twice shows here,
  though the LRS keeps one);
* :func:`statements` compares them with the outbox and with what the LRS holds;
* :func:`grades` compares the grades Jalon sent with the scores the gradebook stored;
* :func:`replay` sends a launch's id_token again to another instance.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa

from bench.lms import PlatformSigner, login_params, query, quiet_server
from tests.xapi.lrs_process import LrsReader
from xapi.outbox import outbox


class CountingLrs:
    """A pass-through proxy to the LRS that counts the statements it accepted, by id."""

    def __init__(self, upstream: str, port: int) -> None:
        self.upstream = upstream.rstrip("/")
        self.accepted: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server = quiet_server(self._wsgi, port)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _http(self) -> requests.Session:
        if not hasattr(self._local, "http"):
            self._local.http = requests.Session()
        http: requests.Session = self._local.http
        return http

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from werkzeug.wrappers import Request

        request = Request(environ)
        body = request.get_data()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}
        }
        answer = self._http().request(
            request.method,
            self.upstream + request.full_path.rstrip("?"),
            data=body,
            headers=headers,
            timeout=60,
        )
        posted = request.method == "POST" and request.path.endswith("/statements")
        if posted and answer.status_code in {200, 204}:
            sent = json.loads(body)
            ids = [s["id"] for s in (sent if isinstance(sent, list) else [sent])]
            with self._lock:
                self.accepted.update(ids)
        kept = [
            (k, v)
            for k, v in answer.headers.items()
            if k.lower() not in {"content-length", "transfer-encoding", "connection"}
        ]
        start_response(f"{answer.status_code} {answer.reason}", kept)
        return [answer.content]


@dataclass
class StatementCheck:
    """Statements written to the outbox, accepted at the LRS and held by it."""

    written: int
    delivered: int
    accepted: int
    accepted_twice: int
    held: int
    missing: int
    unknown: int


def statements(engine: sa.Engine, lrs: CountingLrs, endpoint: str) -> StatementCheck:
    """Compare the outbox's statement ids with those accepted by, and read back from, the LRS."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.statement_id, outbox.c.status)).all()
    written = {row.statement_id for row in rows}
    with LrsReader(endpoint) as reader:
        held = {s["id"] for s in reader.query()}
    return StatementCheck(
        written=len(rows),
        delivered=sum(row.status == "delivered" for row in rows),
        accepted=len(lrs.accepted),
        accepted_twice=sum(1 for n in lrs.accepted.values() if n > 1),
        held=len(held),
        missing=len(written - held),
        unknown=len(held - written),
    )


@dataclass
class GradeCheck:
    """Grades Jalon holds as sent, and scores the gradebook stored."""

    evaluations: int
    sent: int
    pending: int
    scores: int
    learners_scored_twice: int
    sent_not_stored: int


def grades(engine: sa.Engine, scores_by_user: dict[str, int]) -> GradeCheck:
    """Compare the grades sent, by learner, with the scores the gradebook counted."""
    query_ = sa.text(
        "SELECT g.status, u.sub FROM grade_passbacks g JOIN lti_users u ON u.id = g.learner_id"
    )
    with engine.connect() as connection:
        rows = connection.execute(query_).all()
        evaluations = connection.execute(
            sa.text("SELECT count(*) FROM evaluations WHERE published_at IS NOT NULL")
        ).scalar_one()
    sent = [row.sub for row in rows if row.status == "sent"]
    return GradeCheck(
        evaluations=int(evaluations),
        sent=len(sent),
        pending=sum(row.status == "pending" for row in rows),
        scores=sum(scores_by_user.values()),
        learners_scored_twice=sum(1 for n in scores_by_user.values() if n > 1),
        sent_not_stored=sum(1 for sub in sent if sub not in scores_by_user),
    )


def replay(
    signer: PlatformSigner, launch_url: str, first: str, second: str
) -> tuple[int, int, str]:
    """Launch at instance ``first``, then send the same id_token to ``second``.

    Return the two status codes and the refusal code the second page names. The browser
    keeps the cookies it had before the first launch (the launch clears the login's), so
    only the used nonce can refuse the replay.
    """
    with requests.Session() as browser:
        login = browser.post(
            f"{first}/lti/login",
            data=login_params(launch_url, "replay", signer.issuer),
            allow_redirects=False,
            timeout=10,
        )
        sent = query(login.headers["Location"])
        cookies = browser.cookies.copy()
        form = {
            "id_token": signer.token(sent["nonce"], "replay", launch_url),
            "state": sent["state"],
        }
        launched = browser.post(f"{first}/lti/launch", data=form, allow_redirects=False, timeout=10)
        browser.cookies = cookies
        again = browser.post(f"{second}/lti/launch", data=form, allow_redirects=False, timeout=10)
    code = re.search(r"LTI_[A-Z_]+", again.text)
    return launched.status_code, again.status_code, code.group(0) if code else "-"
