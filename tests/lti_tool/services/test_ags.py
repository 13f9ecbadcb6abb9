"""The AGS client against the demo LMS's real endpoints (in process): column, score, results."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from lti_tool.demo.models import Score as StoredScore
from lti_tool.services import LineItem, LineItemSpec, LmsServiceError, Score, lms_services
from lti_tool.services.context import SCOPE_LINEITEM, SCOPE_SCORE
from tests.lti_tool.demo.conftest import demo_state
from tests.lti_tool.demo.harness import INSTRUCTOR, JALON, Browser
from tests.lti_tool.services.conftest import Lms

ISSUER = f"{JALON}/demo"
SPEC = LineItemSpec("E1 — Étude de cas", 16, resource_id="community-manager-n6/E1", tag="jalon")
LEA = "2"


def _score(given: float, *, when: dt.datetime | None = None, comment: str = "Bien") -> Score:
    return Score(
        user_id=LEA,
        activity_progress="Completed",
        grading_progress="FullyGraded",
        score_given=given,
        score_maximum=16,
        comment=comment,
        timestamp=when or dt.datetime.now(dt.UTC),
    )


def test_a_score_round_trip_shows_in_the_demo_gradebook(lms: Lms) -> None:
    context = lms.context(1)
    assert context.lineitem_url == f"{ISSUER}/courses/1/lineitems/1"  # made by deep linking
    with lms.app.app_context():
        ags = lms_services().ags
        column = ags.line_item(context, SPEC)
        assert (column.id, column.score_maximum, column.tag) == (context.lineitem_url, 16, "jalon")
        assert column.resource_link_id == "1"
        ags.post_score(context, column, _score(12, comment="Analyse solide"))
        [result] = ags.results(context, column, user_id=LEA)
    assert (result.user_id, result.result_score, result.result_maximum) == (LEA, 12, 16)
    assert result.comment == "Analyse solide"
    with demo_state(lms.app).database.session() as session:
        stored = session.scalars(sa.select(StoredScore)).one()
        assert (stored.user_id, stored.score_given, stored.score_maximum) == (2, 12, 16)
        assert (stored.activity_progress, stored.grading_progress) == ("Completed", "FullyGraded")
        assert stored.timestamp.utcoffset() == dt.timedelta(0)
    browser = Browser({"jalon.test": lms.app})
    browser.choose(INSTRUCTOR)
    grades = browser.open(f"{JALON}/demo/cours/1/notes").get_data(as_text=True)
    assert "Analyse solide" in grades


def test_a_score_with_a_time_zone_offset_is_taken(lms: Lms) -> None:
    context = lms.context(1)
    paris = dt.timezone(dt.timedelta(hours=2))
    with lms.app.app_context():
        ags = lms_services().ags
        column = ags.line_item(context, SPEC)
        ags.post_score(context, column, _score(3, when=dt.datetime.now(paris)))
        assert ags.results(context, column)[0].result_score == 3


def test_a_score_needs_an_aware_timestamp() -> None:
    with pytest.raises(ValueError, match="time zone"):
        _score(1, when=dt.datetime.now())
    with pytest.raises(ValueError, match="gradingProgress"):
        Score(user_id=LEA, activity_progress="Completed", grading_progress="Done")


def test_without_a_launch_column_it_is_found_by_link_and_tag_or_created(lms: Lms) -> None:
    context = dataclasses.replace(lms.context(3), lineitem_url=None)
    with lms.app.app_context():
        ags = lms_services().ags
        found = ags.line_item(context, dataclasses.replace(SPEC, tag="jalon"))
        assert found.id == f"{ISSUER}/courses/1/lineitems/3"  # the deep-linked column
        spec = LineItemSpec("E3 — oral", 5, resource_id="community-manager-n6/E3", tag="oral")
        created = ags.line_item(context, spec)
        assert created.id not in {found.id}
        assert (created.label, created.score_maximum, created.resource_link_id) == (
            "E3 — oral",
            5,
            "3",
        )
        again = ags.line_item(context, spec)  # found this time, not created twice
        assert again.id == created.id
        columns = ags.line_items(context)
        assert len(columns) == 6


def test_line_items_are_read_across_pages(lms: Lms) -> None:
    context = lms.context(1)
    paged = dataclasses.replace(context, lineitems_url=f"{ISSUER}/courses/1/lineitems?limit=2")
    with lms.app.app_context():
        columns = lms_services().ags.line_items(paged)
    assert [c.tag for c in columns] == ["jalon"] * 5
    pages = [url for _m, url in lms.transport.calls if "/lineitems?" in url]
    assert len(pages) == 3  # 2 + 2 + 1
    assert any("page=3" in url for url in pages)


def test_a_score_is_posted_under_a_column_url_with_a_query(lms: Lms) -> None:
    # Moodle's line item URLs carry ?type_id=…; /scores goes in the path, not after the query.
    context = lms.context(1)
    column = LineItem(id=f"{ISSUER}/courses/1/lineitems/1?type_id=1")
    with lms.app.app_context():
        lms_services().ags.post_score(context, column, _score(9))
    posted = [url for method, url in lms.transport.calls if method == "POST" and "scores" in url]
    assert posted == [f"{ISSUER}/courses/1/lineitems/1/scores?type_id=1"]


def test_an_ungranted_scope_is_never_asked_for(stingy_lms: Lms) -> None:
    context = stingy_lms.context(1)
    assert SCOPE_SCORE not in context.scopes
    assert SCOPE_LINEITEM not in context.scopes
    before = stingy_lms.token_requests()
    with stingy_lms.app.app_context():
        ags = lms_services().ags
        column = ags.line_item(context, SPEC)  # readable with lineitem.readonly
        with pytest.raises(LmsServiceError) as refused:
            ags.post_score(context, column, _score(10))
    assert refused.value.code == "LMS_SCOPE_NOT_GRANTED"
    assert refused.value.status == 403
    assert refused.value.detail == SCOPE_SCORE  # what the page names as missing
    # One token (lineitem.readonly) for reading the column; none for the refused score.
    assert stingy_lms.token_requests() == before + 1
    tokens = [url for _m, url in stingy_lms.transport.calls if url.endswith("/token")]
    assert len(tokens) == 1


def test_a_scope_the_platform_refuses_at_the_token_endpoint(stingy_lms: Lms) -> None:
    # The launch claimed the score scope, but the platform's administrator has turned it off.
    context = stingy_lms.context(1)
    claimed = dataclasses.replace(context, scopes=context.scopes | {SCOPE_SCORE})
    with stingy_lms.app.app_context(), pytest.raises(LmsServiceError) as refused:
        lms_services().ags.post_score(claimed, LineItem(id=context.lineitem_url or ""), _score(1))
    assert refused.value.code == "LMS_SCOPE_REFUSED"
    assert refused.value.platform_status == 400
    assert refused.value.detail == "invalid_scope"


def test_a_wrong_token_audience_is_a_clear_refusal(lms: Lms) -> None:
    context = lms.context(1)
    access = dataclasses.replace(context.access, audience="https://elsewhere.test/token")
    with lms.app.app_context(), pytest.raises(LmsServiceError) as refused:
        lms_services().ags.results(
            dataclasses.replace(context, access=access), LineItem(id=context.lineitem_url or "")
        )
    assert refused.value.code == "LMS_TOKEN_REFUSED"
    assert refused.value.platform_status == 401


def test_a_stripped_authorization_header_is_named(lms: Lms) -> None:
    """Apache in front of Moodle drops Authorization (PLATFORMS.md problem 8)."""
    context = lms.context(1)
    send = lms.transport.send

    def strip(request, **kwargs):  # type: ignore[no-untyped-def]
        if "/courses/" in (request.url or ""):
            request.headers.pop("Authorization", None)
        return send(request, **kwargs)

    lms.transport.send = strip  # type: ignore[method-assign]
    with lms.app.app_context(), pytest.raises(LmsServiceError) as refused:
        lms_services().ags.results(context, LineItem(id=context.lineitem_url or ""))
    assert refused.value.code == "LMS_UNAUTHORIZED"
    assert "Authorization" in str(refused.value.reason.check)
    # The token was forgotten and a fresh one tried once before giving up.
    assert lms.token_requests() == 2


def test_a_missing_column_is_not_found(lms: Lms) -> None:
    context = lms.context(1)
    with lms.app.app_context(), pytest.raises(LmsServiceError) as refused:
        lms_services().ags.post_score(
            context, LineItem(id=f"{ISSUER}/courses/1/lineitems/999"), _score(1)
        )
    assert refused.value.code == "LMS_NOT_FOUND"


def test_a_launch_without_ags_offers_no_service(lms: Lms) -> None:
    context = dataclasses.replace(
        lms.context(1), lineitem_url=None, lineitems_url=None, scopes=frozenset()
    )
    with lms.app.app_context(), pytest.raises(LmsServiceError) as refused:
        lms_services().ags.line_item(context, SPEC)
    assert refused.value.code == "LMS_SERVICE_NOT_OFFERED"
