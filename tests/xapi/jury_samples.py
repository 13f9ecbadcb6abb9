"""Jury decisions of every kind, as the certification back-office would cause them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from tests.conftest import BASE_URL
from tests.xapi.factories import FRAMEWORK, LEARNER, MOODLE
from xapi.jury import (
    BLOC_CERTIFIED,
    BLOC_NOT_CERTIFIED,
    TITLE_CERTIFIED,
    TITLE_NOT_CERTIFIED,
    Credential,
    JuryDecided,
)

PUBLIC_ID = "0b9c3a52-3f0e-4d1b-9d2a-7c1e5f3a9b10"
CREDENTIAL = Credential(f"urn:uuid:{PUBLIC_ID}", f"{BASE_URL}/verifier/{PUBLIC_ID}")
AT = dt.datetime(2026, 6, 30, 16, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def decided(**changes: Any) -> JuryDecided:
    event = JuryDecided(
        learner=LEARNER,  # with a name and an e-mail, which must not be sent
        platform_name=MOODLE.platform_name,
        lms=MOODLE,
        framework_code=FRAMEWORK,
        session_id=4,
        jury_date=AT.date(),
        decision_id=31,
        bloc_code="B2",
        is_validated=True,
        decided_at=AT,
        credential=CREDENTIAL,
    )
    return dataclasses.replace(event, **changes)


KINDS = {
    BLOC_CERTIFIED: {},
    BLOC_NOT_CERTIFIED: {"is_validated": False, "credential": None},
    TITLE_CERTIFIED: {"bloc_code": None},
    TITLE_NOT_CERTIFIED: {"bloc_code": None, "is_validated": False, "credential": None},
}
