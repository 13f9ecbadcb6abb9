"""The AGS and NRPS clients over real HTTP, against `jalon demo` running in its own process."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from lti_tool.db import make_engine
from lti_tool.lti import keys as tool_keys
from lti_tool.services import LineItemSpec, LmsContext, Score
from lti_tool.services.ags import HttpGrades
from lti_tool.services.client import ServiceClient
from lti_tool.services.context import SCOPE_LINEITEM, SCOPE_RESULT_READONLY, SCOPE_SCORE
from lti_tool.services.nrps import HttpRoster
from lti_tool.services.tokens import AccessTokens, PlatformAccess, ToolSigner
from tests.fake_dns import LOOPBACK
from tests.lti_tool.demo.test_demo_server import served
from xapi.outbound import OutboundHttp

__all__ = ["served"]


def _context(base: str, instance: Path) -> LmsContext:
    engine = make_engine(f"sqlite:///{instance / 'jalon.db'}")
    with Session(engine) as session:
        key = tool_keys.current(session)
        signer = ToolSigner(kid=key.kid, private_key=tool_keys.private_key(key))
    engine.dispose()
    issuer = f"{base}/demo"
    return LmsContext(
        access=PlatformAccess(1, issuer, "jalon-demo", f"{issuer}/token"),
        signer=signer,
        origins=frozenset({base}),
        resource_link_id="1",
        lineitem_url=f"{issuer}/courses/1/lineitems/1",
        lineitems_url=f"{issuer}/courses/1/lineitems",
        scopes=frozenset({SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT_READONLY}),
        memberships_url=f"{issuer}/courses/1/memberships",
    )


def test_roster_and_score_over_http(served: tuple[str, Path]) -> None:
    base, instance = served
    context = _context(base, instance)
    with contextlib.closing(OutboundHttp(LOOPBACK)) as http:
        tokens = AccessTokens(http)
        client = ServiceClient(http, tokens)
        roster = HttpRoster(client).members(context)
        grades = HttpGrades(client)
        column = grades.line_item(context, LineItemSpec("E1", 16, tag="jalon"))
        score = Score(
            user_id="3",
            activity_progress="Completed",
            grading_progress="FullyGraded",
            score_given=11,
            score_maximum=column.score_maximum,
            timestamp=dt.datetime.now(dt.UTC),
        )
        grades.post_score(context, column, score)
        results = grades.results(context, column, user_id="3")
    assert [m.roles.label for m in roster.members] == ["staff", "learner", "learner", "learner"]
    assert column.label is not None
    assert column.label.startswith("E1 — ")
    assert [(r.user_id, r.result_score) for r in results] == [("3", 11)]
    assert tokens.requests == 4  # one per scope: memberships, lineitem, score, result.readonly
