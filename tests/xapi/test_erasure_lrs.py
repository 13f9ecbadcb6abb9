"""An erasure's voiding statements reach the real LRS through the outbox and a relay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.privacy.erase import ErasureRequest, erase
from lti_tool.privacy.person import find_person
from tests.fake_dns import LOOPBACK
from tests.lti_tool.privacy import scenario
from tests.xapi.lrs_process import PASSWORD, USERNAME, LrsProcess, LrsReader
from xapi import outbox
from xapi.lrs import HttpLrs
from xapi.relay import Relay

BASE_URL = "https://jalon.example.edu"


@pytest.fixture
def reader(lrs_server: LrsProcess) -> Iterator[LrsReader]:
    with LrsReader(lrs_server.endpoint) as reader:
        yield reader


@pytest.fixture
def relay(lrs_server: LrsProcess, make_relay: Callable[..., Relay]) -> Iterator[Relay]:
    client = HttpLrs(lrs_server.endpoint, USERNAME, PASSWORD, policy=LOOPBACK)
    yield make_relay(client)
    client.close()


def test_the_lrs_receives_a_voiding_statement_for_each_of_the_persons_statements(
    clean_database: Database, settings: Settings, relay: Relay, reader: LrsReader
) -> None:
    people = scenario.build(clean_database, settings.instance_path)
    with clean_database.session() as session:
        # All four reach the LRS first, so that each of Camille's must be voided.
        session.execute(sa.update(outbox.outbox).values(status=outbox.Status.PENDING.value))
    assert relay.run(once=True).delivered == 4
    camille = [people.statements[k].id for k in ("delivered", "pending", "dead")]
    assert all(reader.statement(i) is not None for i in camille)

    with clean_database.session() as session:
        request = ErasureRequest(True, "DPO 2026-042", "cli", BASE_URL, settings.secret_key)
        person = find_person(session, scenario.ISSUER, scenario.SUB, lock=True)
        report = erase(
            session,
            person,
            scenario.storage(settings.instance_path),
            request,
            dt.datetime.now(dt.UTC),
        )
    assert report.counts["statements_voided"] == 3
    assert relay.run(once=True).delivered == 3

    for statement_id in camille:
        # A voided statement is no longer served by its id, only as voided.
        assert reader.statement(statement_id) is None
        voided = reader.http.get(
            f"{reader.endpoint}/statements", params={"voidedStatementId": statement_id}, timeout=10
        )
        assert voided.status_code == 200
        assert voided.json()["id"] == statement_id
    voiding = reader.query(verb="http://adlnet.gov/expapi/verbs/voided")
    assert sorted(s["object"]["id"] for s in voiding) == sorted(camille)
    assert {s["actor"]["account"]["homePage"] for s in voiding} == {BASE_URL}
    assert reader.statement(people.statements["other"].id) is not None
