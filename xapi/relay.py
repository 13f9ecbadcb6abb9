"""The relay: deliver the outbox to the LRS in batches, with backoff and dead letters.

One pass claims a batch of due statements (``xapi.outbox.claim``), POSTs their stored
texts as one JSON array and records the answer:

* delivered (200/204, with or without a body): the whole batch is marked delivered;
* retry (5xx, timeout, connection error…): the batch waits, as one, for a random delay
  between 0 and ``min(cap, base × 2^(n-1))`` after its n-th failure ("full jitter"), so
  relays and batches do not return in step when the LRS comes back; nothing is given up;
* rejected (400/409/413/422): the LRS refuses the batch as a whole (Learning Locker does),
  so it is split in halves and each half sent again until every refused statement stands
  alone; those become dead letters with the LRS's answer, the others are delivered. A batch
  of 500 with one bad statement costs about 2·log2(500) ≈ 18 requests.

A 409 for a single statement is checked before it is buried. Re-sent identical content is
accepted by the LRSs measured (Learning Locker answers 200 with the ids, Ralph 204) and the
relay always re-sends the stored bytes, so with them a 409 means the LRS holds *different*
content under that id: a real conflict, for an administrator. xAPI 1.0.3 also lets an LRS
answer 409 to an identical re-send, so the relay asks the LRS for the statement it holds:
if it is ours (ignoring ``stored``, ``authority`` and ``version``, which the LRS sets) it is
marked delivered; otherwise it is a dead letter (an administrator can requeue it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import random
import signal
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from xapi import outbox
from xapi.columns import utcnow
from xapi.lrs import LrsAnswer, LrsClient, LrsUnavailableError, Outcome
from xapi.outbox import Claimed

logger = logging.getLogger(__name__)

# Properties an LRS sets on what it stores: not part of the statement as sent.
LRS_ASSIGNED = frozenset({"stored", "authority", "version"})


@dataclass(frozen=True)
class RelayPolicy:
    """How a relay batches, backs off, and holds what it sends."""

    batch_size: int = 500
    # Full jitter: the n-th failure waits uniformly up to min(cap, base × 2^(n-1)) seconds.
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    # How long a claim holds a batch; renewed while a batch is split. A relay that died
    # mid-send lets its batch go when this runs out, and another relay re-sends it.
    lease: float = 300.0
    # How long the worker sleeps when nothing is due.
    idle_sleep: float = 2.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")


@dataclass
class RelayCounts:
    """What a relay did: statements delivered, put back, buried; requests made."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    requests: int = 0

    def __iadd__(self, other: RelayCounts) -> RelayCounts:
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.requests += other.requests
        return self


class Relay:
    """Moves statements from the outbox to one LRS."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        lrs: LrsClient,
        policy: RelayPolicy | None = None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.lrs = lrs
        self.policy = policy or RelayPolicy()
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)

    def backoff(self, attempts: int) -> dt.timedelta:
        """Return the wait before the next try after ``attempts`` failures (full jitter)."""
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** max(attempts - 1, 0))
        return dt.timedelta(seconds=self.rng.uniform(0, ceiling))

    def run(self, *, once: bool = False, stop: threading.Event | None = None) -> RelayCounts:
        """Deliver statements: drain once and return, or work until ``stop`` is set.

        Without a ``stop`` event, the worker makes one and sets it on SIGTERM or SIGINT
        (in the main thread), finishing the batch in flight before it returns.
        """
        if once:
            return self.drain(stop=stop)
        if stop is None:
            stop = threading.Event()
            with stopping_on_signals(stop, "xAPI relay: %s received, stopping after this batch"):
                return self._work(stop)
        return self._work(stop)

    def _work(self, stop: threading.Event) -> RelayCounts:
        total = RelayCounts()
        while not stop.is_set():
            try:
                counts = self.drain(stop=stop)
            except Exception as exc:
                # The database or the LRS client failed outside an answer: keep the worker
                # alive and try again (the statements stay in the outbox meanwhile).
                logger.error("xAPI relay pass failed (%s); trying again", type(exc).__name__)
                logger.debug("xAPI relay failure", exc_info=True)
                counts = RelayCounts()
            total += counts
            if counts.requests == 0:
                stop.wait(self.policy.idle_sleep)
        return total

    def drain(self, *, stop: threading.Event | None = None) -> RelayCounts:
        """Send every statement due now, batch after batch; return what happened.

        Statements that fail come back later than now, so each is tried once per drain.
        """
        due_before = self.clock()
        total = RelayCounts()
        while stop is None or not stop.is_set():
            counts = self.step(due_before=due_before)
            if counts.requests == 0:
                break
            total += counts
        if total.delivered or total.dead:
            logger.info(
                "xAPI relay: %d delivered, %d dead letters, %d to retry (%d requests)",
                total.delivered,
                total.dead,
                total.retried,
                total.requests,
            )
        return total

    def step(self, *, due_before: dt.datetime | None = None) -> RelayCounts:
        """Claim one batch of due statements and deliver it; no request if none is due."""
        token = uuid.uuid4().hex
        now = self.clock()
        with self.sessions.begin() as session:
            batch = outbox.claim(
                session,
                token=token,
                now=now,
                due_before=due_before or now,
                lease_until=self._lease_end(),
                limit=self.policy.batch_size,
            )
        if not batch:
            return RelayCounts()
        try:
            return self._deliver(batch, token)
        except Exception as exc:
            # A bug or a database hiccup, not an answer: what is still held waits its turn
            # like after a failed attempt, instead of until the lease ends.
            self._retry(batch, token, f"relay error: {type(exc).__name__}")
            raise

    def _deliver(self, batch: list[Claimed], token: str) -> RelayCounts:
        counts = RelayCounts()
        parts = [batch]
        while parts:
            part = parts.pop()
            answer = self.lrs.post_statements([c.body for c in part])
            counts.requests += 1
            if answer.outcome is Outcome.DELIVERED:
                with self.sessions.begin() as session:
                    outbox.mark_delivered(session, part, now=self.clock())
                counts.delivered += len(part)
            elif answer.outcome is Outcome.RETRY:
                # The LRS is unwell: what is left of the batch waits with this part.
                waiting = part + [c for rest in parts for c in rest]
                self._retry(waiting, token, answer.describe())
                logger.warning(
                    "xAPI relay: LRS unavailable (%s); %d statements will be retried",
                    _brief(answer),
                    len(waiting),
                )
                counts.retried += len(waiting)
                break
            elif len(part) == 1:
                counts += self._settle_refusal(part[0], token, answer)
            else:
                middle = len(part) // 2
                parts += [part[middle:], part[:middle]]
                with self.sessions.begin() as session:
                    outbox.extend_claim(
                        session,
                        [c for rest in parts for c in rest],
                        token=token,
                        lease_until=self._lease_end(),
                    )
        return counts

    def _settle_refusal(self, claimed: Claimed, token: str, answer: LrsAnswer) -> RelayCounts:
        """Bury a statement the LRS refused, unless a 409 shows it already holds it."""
        counts = RelayCounts()
        if answer.status == 409:
            counts.requests += 1
            try:
                held = self.lrs.fetch_statement(claimed.statement_id)
            except LrsUnavailableError as exc:
                self._retry([claimed], token, f"{answer.describe()} (unverified: {exc})")
                counts.retried += 1
                return counts
            if held is not None and same_statement(claimed.body, held):
                with self.sessions.begin() as session:
                    outbox.mark_delivered(
                        session,
                        [claimed],
                        now=self.clock(),
                        note=f"{answer.describe()} — the LRS already holds this statement",
                    )
                counts.delivered += 1
                return counts
        with self.sessions.begin() as session:
            outbox.mark_dead(session, [claimed], token=token, error=answer.describe())
        logger.warning(
            "xAPI relay: statement %s refused by the LRS (HTTP %s); kept as a dead letter",
            claimed.statement_id,
            answer.status,
        )
        counts.dead += 1
        return counts

    def _retry(self, claimed: Sequence[Claimed], token: str, error: str) -> None:
        # One wait for the whole batch, so that it comes back as it left: the same
        # statements, in the same order, in one request.
        failures = max(c.attempts for c in claimed) + 1
        with self.sessions.begin() as session:
            outbox.mark_retry(
                session,
                claimed,
                token=token,
                error=error,
                next_attempt_at=self.clock() + self.backoff(failures),
            )

    def _lease_end(self) -> dt.datetime:
        return self.clock() + dt.timedelta(seconds=self.policy.lease)


def same_statement(body: str, held: Mapping[str, Any]) -> bool:
    """Tell whether the LRS's copy is the statement we sent, bar what the LRS sets."""
    ours = json.loads(body)
    return _as_sent(ours) == _as_sent(held)


def _as_sent(document: Mapping[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in document.items() if key not in LRS_ASSIGNED}
    # An LRS may write out the object types that xAPI lets a statement leave implicit.
    for key, implicit in (("actor", "Agent"), ("object", "Activity")):
        part = kept.get(key)
        if isinstance(part, dict) and "objectType" not in part:
            kept[key] = {**part, "objectType": implicit}
    return kept


def _brief(answer: LrsAnswer) -> str:
    """Describe a failure for the log without the LRS's text (it may quote statements)."""
    if answer.status is not None:
        return f"HTTP {answer.status}"
    return answer.detail.split(":", 2)[0] if answer.detail else "no answer"


@contextlib.contextmanager
def stopping_on_signals(stop: threading.Event, announce: str) -> Iterator[None]:
    """Set ``stop`` on SIGTERM and SIGINT while the block runs (main thread only).

    ``announce`` is logged with the signal's name (``%s``): what stops, and after what.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def _handler(signum: int, _frame: object) -> None:
        logger.info(announce, signal.strsignal(signum))
        stop.set()

    for sig in previous:
        signal.signal(sig, _handler)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
