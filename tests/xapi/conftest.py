"""Fixtures of the xAPI tests: a clock tests can move, relays, and the real LRS."""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lti_tool.db import Database
from tests.xapi.lrs_process import LrsProcess, missing
from xapi.lrs import LrsClient
from xapi.outbox import utcnow
from xapi.relay import Relay, RelayPolicy


class FakeClock:
    """The relay's clock: moves only when a test says so.

    It starts a minute ahead, so that statements a test enqueues right away are due.
    """

    def __init__(self) -> None:
        self.now = utcnow() + dt.timedelta(minutes=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_relay(clean_database: Database, clock: FakeClock) -> Callable[..., Relay]:
    """Build a relay on the test database with the test clock and a seeded jitter."""

    def _make(lrs: LrsClient, **policy: Any) -> Relay:
        return Relay(
            clean_database.sessions,
            lrs,
            RelayPolicy(**policy),
            clock=clock,
            rng=random.Random(7),  # noqa: S311 (jitter)
        )

    return _make


def require_real_lrs() -> None:
    """Skip naming what is missing, or fail under CI, where nothing may be missing."""
    problems = missing()
    if problems:
        message = "the real LRS cannot run here: missing " + "; ".join(problems)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def lrs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LrsProcess]:
    """Learning Locker's statement service, in memory, on a free 127.0.0.1 port."""
    require_real_lrs()
    server = LrsProcess(tmp_path_factory.mktemp("lrs"))
    server.start()
    yield server
    server.stop()
