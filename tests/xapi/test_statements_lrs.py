"""Jalon's statements, byte for byte as built, sent to a real LRS (Learning Locker's service)."""

from __future__ import annotations

import itertools
import json

import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import BASE_URL
from tests.xapi.factories import events, path_of
from tests.xapi.lrs_process import LrsProcess, LrsReader
from xapi.events import AnyEvent
from xapi.statements import Privacy, StatementRecord, build

# A fresh instance URL per example: statement ids are UUIDv5 of the instance and the event's
# identity, so two examples with the same identity but other content would rightly be a 409.
_INSTANCES = itertools.count()


def post(reader: LrsReader, records: list[StatementRecord]) -> requests.Response:
    # The stored JSON texts, joined: what the relay sends, without parsing them again.
    body = "[" + ",".join(record.json for record in records) + "]"
    return reader.http.post(
        f"{reader.endpoint}/statements",
        data=body.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=30,
    )


def test_the_lrs_stores_every_kind_of_statement_once(lrs_server: LrsProcess) -> None:
    records = [build(event, BASE_URL) for event in path_of()]
    with LrsReader(lrs_server.endpoint) as reader:
        answer = post(reader, records)
        assert answer.status_code == 200, answer.text
        assert answer.json() == [str(record.id) for record in records]
        # The same events built again give the same bytes: a duplicate, not a conflict.
        again = post(reader, [build(event, BASE_URL) for event in path_of()])
        assert again.status_code == 200, again.text
        stored = reader.query(registration=str(records[0].registration))
    assert sorted(s["id"] for s in stored) == sorted(str(r.id) for r in records)
    for record in records:
        (found,) = [s for s in stored if s["id"] == str(record.id)]
        sent = json.loads(record.json)
        assert found["verb"]["id"] == record.verb
        assert found["object"] == sent["object"]
        assert found["context"] == sent["context"]
        assert found["actor"] == sent["actor"]


@settings(max_examples=40, deadline=None)
@given(batch=st.lists(st.tuples(events(), st.booleans(), st.booleans()), min_size=1, max_size=25))
def test_the_lrs_accepts_any_statement_jalon_can_build(
    lrs_server: LrsProcess, batch: list[tuple[AnyEvent, bool, bool]]
) -> None:
    base_url = f"https://jalon-{next(_INSTANCES)}.test"
    built = {}
    for event, include_name, include_email in batch:
        record = build(event, base_url, Privacy(include_name, include_email))
        built.setdefault(record.id, record)
    with LrsReader(lrs_server.endpoint) as reader:
        answer = post(reader, list(built.values()))
    assert answer.status_code in {200, 204}, answer.text
