"""Issue 12, item 7: placements of the same épreuve get titles an instructor tells apart.

In the LMS's activity list and gradebook, a narrowed épreuve carries its competencies
("E2 — … (C1.6–C1.7)") and the same épreuve placed again carries its number ("(2)"). The
number travels as the custom parameter ``placement``, so a platform that keeps no title
(Open edX) names the column the same way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.evaluation.models import EpreuvePlacement
from lti_tool.evaluation.placement import narrowed_to, placement_title
from lti_tool.frameworks import bundled_frameworks
from tests.lti_tool.deep_linking.test_picker import (
    DL,
    answer_of,
    choose,
    deep_link,
    moodle_settings,
    open_picker,
    verified,
)
from tests.lti_tool.deep_linking.test_placements import in_course
from tests.lti_tool.lti.platforms import Browser, TestPlatform

FRAMEWORK = next(f for f in bundled_frameworks() if f.code == "community-manager-n6")
E2 = FRAMEWORK.epreuve("E2")
WHOLE = f"E2 — {E2.title}"


def _placed(
    browser: Browser, moodle: TestPlatform, competencies: Any = None, course: str = "7"
) -> dict[str, Any]:
    """Place E2 (narrowed to ``competencies`` if given) in a Moodle course; return the item."""
    if course == "7":
        _token, page = open_picker(browser, moodle)
    else:

        def change(claims: dict[str, Any]) -> None:
            deep_link(moodle_settings())(claims)
            in_course(course)(claims)

        launched = browser.launch(moodle, "instructor", change=change)
        token = dict(parse_qsl(urlsplit(launched.headers["Location"]).query))["lt"]
        page = browser.get(f"/lti/selection?lt={token}")
    _action, token = answer_of(choose(browser, page, "E2", competencies))
    [item] = verified(browser, token, moodle)[DL + "content_items"]
    return item


def test_a_narrowed_epreuve_is_titled_with_its_competencies(
    browser: Browser, moodle: TestPlatform
) -> None:
    item = _placed(browser, moodle, ["C1.7", "C1.6"])

    assert item["title"] == f"{WHOLE} (C1.6–C1.7)"
    assert item["lineItem"]["label"] == item["title"]  # the gradebook column
    assert "placement" not in item["custom"]


def test_the_same_epreuve_placed_again_is_numbered_in_its_course_only(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    first = _placed(browser, moodle)
    second = _placed(browser, moodle)
    narrowed = _placed(browser, moodle, ["C1.6", "C1.7"])
    third = _placed(browser, moodle)
    elsewhere = _placed(browser, moodle, course="8")

    assert [first["title"], second["title"], third["title"]] == [
        WHOLE,
        f"{WHOLE} (2)",
        f"{WHOLE} (3)",
    ]
    assert (first["custom"].get("placement"), second["custom"]["placement"]) == (None, "2")
    assert third["custom"]["placement"] == "3"
    assert narrowed["title"] == f"{WHOLE} (C1.6–C1.7)"  # its range tells it apart
    assert elsewhere["title"] == WHOLE
    with clean_database.session() as session:
        rows = session.scalars(sa.select(EpreuvePlacement)).all()
        assert len(rows) == 5  # each placement is its own row, "Ma progression" lists them


def test_a_narrowed_second_placement_gets_both(browser: Browser, moodle: TestPlatform) -> None:
    _placed(browser, moodle, ["C1.6", "C1.7"])
    again = _placed(browser, moodle, ["C1.6", "C1.7"])

    assert again["title"] == f"{WHOLE} (C1.6–C1.7) (2)"


@pytest.mark.parametrize(
    ("codes", "shown"),
    [
        ((), None),
        (E2.competencies, None),
        (("C1.6",), "C1.6"),
        (("C1.6", "C1.7", "C1.8"), "C1.6–C1.8"),
        (("C1.6", "C1.8"), "C1.6, C1.8"),
        (("C1.6", "C1.7", "C1.9", "C1.10"), "C1.6–C1.7, C1.9–C1.10"),
        (("C1.6", "C9.9"), "C1.6, C9.9"),  # a code the épreuve does not hold is named alone
    ],
)
def test_narrowed_to_names_runs_of_competencies(codes: tuple[str, ...], shown: str | None) -> None:
    assert narrowed_to(E2, codes) == shown


def test_a_link_without_title_is_named_like_the_picker_names_it(
    registered: Flask, clean_database: Database
) -> None:
    """Open edX keeps no title: the gradebook column is named from the custom parameters."""
    custom = {
        "framework": FRAMEWORK.code,
        "epreuve": "E2",
        "competencies": "C1.6,C1.7",
        "placement": "2",
    }
    with clean_database.session() as session:
        assert placement_title(session, None, custom) == f"{WHOLE} (C1.6–C1.7) (2)"
        assert placement_title(session, None, {**custom, "placement": "x"}) == (
            f"{WHOLE} (C1.6–C1.7)"
        )
        assert placement_title(session, "Le titre du LMS", custom) == "Le titre du LMS"
