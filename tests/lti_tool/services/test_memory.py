"""The in-memory AGS and NRPS behave as the HTTP clients do against the demo, and
``create_app`` takes them in place of the HTTP ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.lti.roles import parse
from lti_tool.services import (
    GradeService,
    LineItemSpec,
    LmsContext,
    LmsServiceError,
    Member,
    Score,
    lms_services,
)
from lti_tool.services.context import SCOPE_LINEITEM, SCOPE_RESULT_READONLY, SCOPE_SCORE
from lti_tool.services.memory import InMemoryGrades, InMemoryRoster
from tests.lti_tool.services.conftest import Lms

SCORED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
SPEC = LineItemSpec("E3 — oral", 5, resource_id="community-manager-n6/E3", tag="oral")


def _scenario(grades: GradeService, context: LmsContext) -> list[tuple[str, float | None]]:
    """Create-or-find a column twice, score Léa twice, read the results."""
    column = grades.line_item(context, SPEC)
    assert grades.line_item(context, SPEC).id == column.id
    for seconds, given in ((0, 2.0), (1, 4.0)):
        score = Score(
            "2",
            "Completed",
            "FullyGraded",
            score_given=given,
            score_maximum=5,
            timestamp=SCORED + dt.timedelta(seconds=seconds),
        )
        grades.post_score(context, column, score)
    return [(r.user_id, r.result_score) for r in grades.results(context, column)]


def _same_second(grades: GradeService, context: LmsContext) -> tuple[str, list[float | None]]:
    """Score Léa, then again later in the same second: the second is refused (Moodle)."""
    column = grades.line_item(context, SPEC)
    first = Score("2", "Completed", "FullyGraded", 2.0, 5, timestamp=SCORED)
    grades.post_score(context, column, first)
    again = dataclasses.replace(first, score_given=4.0, timestamp=SCORED.replace(microsecond=900))
    with pytest.raises(LmsServiceError) as refused:
        grades.post_score(context, column, again)
    return refused.value.code, [r.result_score for r in grades.results(context, column)]


def test_memory_and_http_agree(lms: Lms) -> None:
    context = dataclasses.replace(lms.context(3), lineitem_url=None)
    with lms.app.app_context():
        over_http = _scenario(lms_services().ags, context)
    in_memory = _scenario(InMemoryGrades(), context)
    assert over_http == in_memory == [("2", 4.0)]


def test_item5_memory_and_http_refuse_a_score_not_newer_in_whole_seconds(lms: Lms) -> None:
    context = dataclasses.replace(lms.context(3), lineitem_url=None)
    with lms.app.app_context():
        over_http = _same_second(lms_services().ags, context)
    in_memory = _same_second(InMemoryGrades(strictly_newer=True), context)
    assert over_http == in_memory == ("LMS_SCORE_OUTDATED", [2.0])


@pytest.mark.parametrize(
    ("scopes", "call"),
    [
        (frozenset({SCOPE_LINEITEM}), lambda g, c, col: g.results(c, col)),
        (
            frozenset({SCOPE_LINEITEM, SCOPE_RESULT_READONLY}),
            lambda g, c, col: g.post_score(c, col, Score("2", "Completed", "FullyGraded")),
        ),
    ],
)
def test_memory_refuses_ungranted_scopes_too(
    lms: Lms, scopes: frozenset[str], call: Callable[..., object]
) -> None:
    context = dataclasses.replace(lms.context(1), lineitem_url=None)
    grades = InMemoryGrades()
    column = grades.create_line_item(context, SPEC)
    with pytest.raises(LmsServiceError) as refused:
        call(grades, dataclasses.replace(context, scopes=scopes), column)
    assert refused.value.code == "LMS_SCOPE_NOT_GRANTED"
    assert SCOPE_SCORE in context.scopes


def test_create_app_takes_in_memory_services(
    settings: Settings, clean_database: Database, lms: Lms
) -> None:
    grades = InMemoryGrades()
    roster = InMemoryRoster(
        [Member("7", parse(["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]))]
    )
    app: Flask = create_app(settings, database=clean_database, ags=grades, nrps=roster)
    context = lms.context(1)
    with app.app_context():
        assert lms_services().ags is grades
        assert [m.user_id for m in lms_services().nrps.members(context, "Learner").members] == ["7"]
        assert lms_services().nrps.members(context, "Instructor").members == []
