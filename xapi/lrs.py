"""Talking to a Learning Record Store: a protocol, the HTTP client, and an in-memory LRS.

The HTTP client is one ``requests.Session``: a pooled keep-alive connection reused for
every batch, Basic auth, ``X-Experience-API-Version: 1.0.3`` and a connect and a read
timeout on every call. ``requests`` rather than ``httpx``: it is already installed with
pylti1p3, its session keeps connections alive the same way, and a relay is synchronous
and single-threaded, so httpx's async and HTTP/2 would add a dependency for nothing.
Every call goes through the outbound policy (:mod:`xapi.outbound`): https and a public
address (plain http to loopback only for a Jalon on loopback), no redirect followed, a
capped answer.

A batch goes out as the stored texts joined into a JSON array: nothing is parsed or
re-serialized, so a re-sent statement is the same bytes. The LRS's answer is classified:

* 2xx (200 with the ids, or 204 with no body) — delivered;
* 400, 409, 413, 422 — rejected: the batch (or the statement) is refused as it is, and
  sending it again will not help; the LRS's answer text is kept;
* anything else (5xx, 401/403/404 from a misconfigured endpoint, 429), timeouts and
  connection errors — retry later: the statements are fine, the LRS or the way to it is not;
* a redirect (301/302/307/308) — retry later, and the journal says the LRS redirected: the
  endpoint is misconfigured. Following it would be worse than useless: ``requests`` turns
  the POST into a GET, which an LRS answers 200, and nothing would have been stored.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from xapi.outbound import OutboundError, OutboundHttp, OutboundPolicy

XAPI_VERSION = "1.0.3"
# Answers that mean "this content is refused": splitting the batch finds the culprit.
REJECTING_STATUSES = frozenset({400, 409, 413, 422})
# What the journal keeps of an answer.
MAX_DETAIL_CHARS = 2000


class Outcome(StrEnum):
    """What an LRS answer means for the statements sent."""

    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True)
class LrsAnswer:
    """The LRS's verdict on one request: outcome, HTTP status (none on a network error)."""

    outcome: Outcome
    status: int | None = None
    detail: str = ""

    def describe(self) -> str:
        """Return the answer as the journal shows it, e.g. ``HTTP 400: {…}``."""
        head = f"HTTP {self.status}" if self.status is not None else "no answer"
        return f"{head}: {self.detail}" if self.detail else head


def classify(status: int, text: str) -> LrsAnswer:
    """Turn an HTTP status and body into an answer."""
    detail = text.strip()[:MAX_DETAIL_CHARS]
    if 200 <= status < 300:
        return LrsAnswer(Outcome.DELIVERED, status, detail)
    if status in REJECTING_STATUSES:
        return LrsAnswer(Outcome.REJECTED, status, detail)
    return LrsAnswer(Outcome.RETRY, status, detail)


def refused(error: OutboundError) -> LrsAnswer:
    """Turn a call the outbound policy refused (or lost) into a retry, with its code."""
    if error.code == "OUTBOUND_REDIRECT":
        # A configuration problem, for the journal: the endpoint URL is not the LRS's own.
        return LrsAnswer(
            Outcome.RETRY,
            error.status,
            "OUTBOUND_REDIRECT: the LRS redirected; set JALON_LRS_ENDPOINT to the address "
            "it redirects to",
        )
    if error.code == "OUTBOUND_TIMEOUT":
        return LrsAnswer(Outcome.RETRY, None, f"timeout: {error.code}")
    if error.code == "OUTBOUND_UNREACHABLE":
        return LrsAnswer(Outcome.RETRY, None, f"connection error: {error.code}")
    return LrsAnswer(Outcome.RETRY, None, f"{error.code}: refused by the outbound policy")


class LrsUnavailableError(Exception):
    """The LRS could not answer a query (network error, timeout, 5xx)."""


class LrsClient(Protocol):
    """What the relay needs from an LRS."""

    def post_statements(self, bodies: Sequence[str]) -> LrsAnswer:
        """Send serialized statements as one JSON array and classify the answer."""
        ...

    def fetch_statement(self, statement_id: str) -> dict[str, Any] | None:
        """Return the statement the LRS stores under this id, or None if it has none.

        Raise ``LrsUnavailableError`` when the LRS cannot tell.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def batch_body(bodies: Sequence[str]) -> bytes:
    """Join stored statement texts into the JSON array sent to the LRS, byte for byte."""
    return ("[" + ",".join(bodies) + "]").encode("utf-8")


class HttpLrs:
    """An LRS reached over HTTP(S), on one keep-alive connection."""

    def __init__(
        self,
        endpoint: str,
        username: str,
        password: str,
        *,
        policy: OutboundPolicy | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        user_agent: str = "Jalon xAPI relay",
    ) -> None:
        # The xAPI endpoint is the base (…/xAPI/ or …/xapi); resources hang under it.
        self.endpoint = endpoint.rstrip("/")
        self.statements_url = f"{self.endpoint}/statements"
        # An LRS may take a while to store 500 statements: a longer read than other calls.
        policy = dataclasses.replace(
            policy or OutboundPolicy(),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            total_timeout=connect_timeout + 2 * read_timeout,
        )
        self._http = OutboundHttp(
            policy,
            auth=(username, password),
            headers={
                "X-Experience-API-Version": XAPI_VERSION,
                "User-Agent": user_agent,
                "Accept": "application/json",
            },
        )

    def __repr__(self) -> str:
        return f"<HttpLrs {self.endpoint}>"

    def post_statements(self, bodies: Sequence[str]) -> LrsAnswer:
        """POST the batch; refusals and network failures are answers too (retry)."""
        try:
            response = self._http.request(
                "POST",
                self.statements_url,
                data=batch_body(bodies),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except OutboundError as exc:
            return refused(exc)
        return classify(response.status_code, response.text)

    def fetch_statement(self, statement_id: str) -> dict[str, Any] | None:
        """GET ``statements?statementId=…``: the stored statement, or None on 404."""
        try:
            response = self._http.request(
                "GET", self.statements_url, params={"statementId": statement_id}
            )
        except OutboundError as exc:
            raise LrsUnavailableError(refused(exc).detail) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise LrsUnavailableError(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            document = response.json()
        except ValueError as exc:
            raise LrsUnavailableError(
                "the LRS answered a statement query with invalid JSON"
            ) from exc
        return document if isinstance(document, dict) else None

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()


@dataclass
class InMemoryLrs:
    """An LRS in memory that behaves like Learning Locker's statement service.

    A batch is accepted or refused whole: a statement without actor, verb or object, or
    with a malformed id, gets 400; an id already stored with other content gets 409; the
    same content again is accepted (200 with the ids). ``conflict_on_duplicate`` answers
    409 to an identical re-send as well, which xAPI 1.0.3 allows. ``script`` lets a test
    inject answers (a status, or an exception) before the next requests are processed.
    """

    conflict_on_duplicate: bool = False
    script: list[int | BaseException] = field(default_factory=list)
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: list[list[str]] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)
    is_closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def post_statements(self, bodies: Sequence[str]) -> LrsAnswer:
        """Store a batch all or nothing, with Learning Locker's answers."""
        payload = batch_body(bodies)
        with self._lock:
            self.received.append(payload)
            documents = json.loads(payload)
            self.batches.append([str(d.get("id")) for d in documents])
            if self.script:
                injected = self.script.pop(0)
                if isinstance(injected, BaseException):
                    raise injected
                return classify(injected, f"injected {injected}")
            problems = [
                f"statements.{i}: {p}" for i, d in enumerate(documents) for p in _problems(d)
            ]
            if problems:
                return classify(400, json.dumps({"warnings": problems}))
            for document in documents:
                held = self.stored.get(document["id"])
                if held is not None and (self.conflict_on_duplicate or held != document):
                    return classify(409, json.dumps({"message": f"{document['id']} conflicts"}))
            for document in documents:
                self.stored.setdefault(document["id"], document)
            return classify(200, json.dumps([d["id"] for d in documents]))

    def fetch_statement(self, statement_id: str) -> dict[str, Any] | None:
        """Return the stored statement with the properties an LRS adds."""
        with self._lock:
            document = self.stored.get(statement_id)
        if document is None:
            return None
        return {**document, "stored": "2026-01-01T00:00:00.000Z", "version": "1.0.0"}

    def close(self) -> None:
        """Nothing to release."""
        self.is_closed = True


def _problems(document: Any) -> list[str]:
    if not isinstance(document, dict):
        return ["not an object"]
    problems = [f"missing {key}" for key in ("actor", "verb", "object") if key not in document]
    try:
        uuid.UUID(str(document.get("id")))
    except ValueError:
        problems.append("id is not a UUID")
    return problems
