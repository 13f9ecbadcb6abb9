"""The jury's statements reach the real LRS through the outbox, and answer an analyst's queries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lti_tool.certification.models import JuryDecision
from lti_tool.certification.statements import record_correction, record_decisions
from lti_tool.config import Settings
from lti_tool.db import Database
from referentiel.iris import Kind, item_iri
from tests.fake_dns import LOOPBACK
from tests.lti_tool.certification.xapi_rows import FRAMEWORK, correct, issue, signed_session
from tests.xapi.conftest import require_real_lrs
from tests.xapi.lrs_process import PASSWORD, USERNAME, LrsProcess, LrsReader
from xapi import vocabulary as v
from xapi.jury import decision_statement_id, session_iri
from xapi.lrs import HttpLrs
from xapi.relay import Relay
from xapi.voiding import VOIDED


@pytest.fixture
def own_lrs(tmp_path: Path) -> Iterator[LrsProcess]:
    """An LRS of this test's own: the voiding it sends must not reach another test's queries."""
    require_real_lrs()
    server = LrsProcess(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def reader(own_lrs: LrsProcess) -> Iterator[LrsReader]:
    with LrsReader(own_lrs.endpoint) as reader:
        yield reader


@pytest.fixture
def relay(own_lrs: LrsProcess, make_relay: Callable[..., Relay]) -> Iterator[Relay]:
    client = HttpLrs(own_lrs.endpoint, USERNAME, PASSWORD, policy=LOOPBACK)
    yield make_relay(client)
    client.close()


def test_an_analyst_finds_the_jurys_decisions_and_a_correction_voids_one(
    clean_database: Database, settings: Settings, relay: Relay, reader: LrsReader
) -> None:
    base = settings.base_url
    with clean_database.session() as db:
        jury = signed_session(db, sub="lrs-candidate-1")
        other = signed_session(db, sub="lrs-candidate-2", with_course=False)
        issued = {d.id: issue(db, d, jury.learner) for d in (jury.b2, jury.title)}
        decisions = [jury.b1, jury.b2, jury.title]
        assert record_decisions(db, jury.session, decisions, issued, settings) == 3
        assert record_decisions(db, other.session, [other.b2], {}, settings) == 1
        sent = {str(decision_statement_id(base, d.id)): d for d in [*decisions, other.b2]}
    assert relay.run(once=True).delivered == 4

    for statement_id in sent:
        stored = reader.statement(statement_id)
        assert stored is not None
        assert stored["actor"]["account"]["name"] in {"lrs-candidate-1", "lrs-candidate-2"}
    b2 = item_iri(base, FRAMEWORK, Kind.BLOC, "B2")
    # "Learners whose bloc B2 was certified": one verb, one activity.
    holders = reader.query(verb=v.EARNED.iri, activity=b2)
    assert sorted(s["actor"]["account"]["name"] for s in holders) == [
        "lrs-candidate-1",
        "lrs-candidate-2",
    ]
    # "Every decision of this session": the session groups them.
    session = reader.query(activity=session_iri(base, jury.session.id), related_activities="true")
    assert sorted(s["id"] for s in session) == sorted(
        str(decision_statement_id(base, d.id)) for d in decisions
    )
    # "Who holds the title", with the credential to check.
    (title,) = reader.query(verb=v.EARNED.iri, activity=f"{base}/referentiels/{FRAMEWORK}/")
    credential = title["result"]["extensions"][v.CREDENTIAL_ID.iri(base)]
    assert credential == f"urn:uuid:{issued[jury.title.id].public_id}"

    with clean_database.session() as db:
        b2_decision = db.get(JuryDecision, jury.b2.id)
        assert b2_decision is not None
        new = correct(db, b2_decision, validated=False)
        assert record_correction(db, b2_decision, new, None, settings) == 2
        new_id = str(decision_statement_id(base, new.id))
    assert relay.run(once=True).delivered == 2

    old_id = str(decision_statement_id(base, jury.b2.id))
    assert reader.statement(old_id) is None  # voided: no longer served by its id
    # The LRS answers a query with the statements that void a match too (xAPI 1.0.3,
    # Communication 2.1.3, "Filter Conditions for StatementRefs"): an analyst drops those.
    answer = reader.query(verb=v.EARNED.iri, activity=b2)
    holders = [s for s in answer if s["verb"]["id"] != VOIDED.iri]
    assert [s["actor"]["account"]["name"] for s in holders] == ["lrs-candidate-2"]
    assert [s["object"]["id"] for s in answer if s not in holders] == [old_id]
    corrected = reader.statement(new_id)
    assert corrected is not None
    assert corrected["verb"]["id"] == v.FAILED.iri
    assert corrected["context"]["statement"]["id"] == old_id
    voided = reader.http.get(
        f"{reader.endpoint}/statements", params={"voidedStatementId": old_id}, timeout=10
    )
    assert voided.status_code == 200
    assert json.loads(voided.text)["verb"]["id"] == v.EARNED.iri
