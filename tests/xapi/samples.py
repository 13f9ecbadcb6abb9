"""Valid xAPI 1.0.3 statements, serialized once, as the builders hand them to the outbox."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from xapi.outbox import SerializedStatement, utcnow

HOME_PAGE = "https://moodle.example.edu"
LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
SCORED = "http://adlnet.gov/expapi/verbs/scored"
ACTIVITY = "https://jalon.test/lti/liens/42"


def statement(
    *,
    registration: str | None = None,
    learner: str = "1001",
    verb: str = LAUNCHED,
    activity: str = ACTIVITY,
    **extra: Any,
) -> SerializedStatement:
    """Return a launch statement of a pseudonymous learner (LTI account), with a new id."""
    statement_id = str(uuid.uuid4())
    document: dict[str, Any] = {
        "id": statement_id,
        "actor": {"objectType": "Agent", "account": {"homePage": HOME_PAGE, "name": learner}},
        "verb": {"id": verb, "display": {"fr-FR": "a lancé", "en-US": "launched"}},
        "object": {
            "objectType": "Activity",
            "id": activity,
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/assessment",
                "name": {"fr-FR": "Épreuve 1 — étude de cas « veille »"},
            },
        },
        "context": {
            "registration": registration or str(uuid.uuid4()),
            "platform": "Moodle",
            "language": "fr-FR",
        },
        "timestamp": _timestamp(utcnow()),
    }
    document.update(extra)
    # As a builder would: once, compactly, UTF-8 kept as is.
    return SerializedStatement(
        statement_id, json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    )


def statements(count: int, *, registration: str | None = None) -> list[SerializedStatement]:
    """Return ``count`` statements of one registration, each of its own learner."""
    registration = registration or str(uuid.uuid4())
    return [statement(registration=registration, learner=str(2000 + i)) for i in range(count)]


def refused_by_lrs(registration: str | None = None) -> SerializedStatement:
    """Return a well-formed JSON statement an LRS must refuse: a scaled score above 1."""
    return statement(
        registration=registration,
        verb=SCORED,
        result={"score": {"scaled": 1.5}, "success": True},
    )


def _timestamp(moment: dt.datetime) -> str:
    return (
        moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z"
    )
