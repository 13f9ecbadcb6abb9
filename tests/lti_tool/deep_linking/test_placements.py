"""Item 7: where an épreuve is placed is known from the deep-linking answers Jalon signed.

An instructor places E2–E5 through the picker; nobody launches them yet. A learner launched
only from E1 must read on "Ma progression" which épreuve evaluates C1.6–C4.11, not that none
does; another course never sees these placements; a narrowed placement names only the
competencies it kept.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from lti_tool.db import Database
from lti_tool.evaluation.models import EpreuvePlacement
from lti_tool.models import LtiContext
from tests.lti_tool.deep_linking.test_picker import answer_of, choose, open_picker
from tests.lti_tool.lti.platforms import CLAIM, Browser, TestPlatform, landing_token

NONE = "aucune épreuve placée ou ouverte dans ce cours ne l’évalue encore."
LATER = {
    "E2": ("C1.6", "C1.11"),
    "E3": ("C2.1", "C2.11"),
    "E4": ("C3.1", "C3.11"),
    "E5": ("C4.1", "C4.11"),
}


def place(browser: Browser, moodle: TestPlatform, epreuve: str, competencies: Any = None) -> None:
    """Place an épreuve in Moodle's course 7 through the picker, as an instructor does."""
    _token, picker = open_picker(browser, moodle)
    answer_of(choose(browser, picker, epreuve, competencies))


def in_course(context_id: str) -> Any:
    def change(claims: dict[str, Any]) -> None:
        claims[CLAIM + "context"] = dict(claims[CLAIM + "context"], id=context_id)

    return change


def launched_from_e1(browser: Browser, moodle: TestPlatform, context_id: str = "7") -> str:
    """Launch Moodle's learner from the E1 link only; return the session token."""

    def change(claims: dict[str, Any]) -> None:
        in_course(context_id)(claims)
        claims[CLAIM + "resource_link"] = {"title": "Étude de cas 1", "id": "e1-link"}
        claims[CLAIM + "custom"] = {"framework": "community-manager-n6", "epreuve": "E1"}

    return landing_token(browser.launch(moodle, "learner", change=change))


def judged(browser: Browser, token: str) -> dict[str, str]:
    """Return, per competency left to validate, what "Ma progression" says evaluates it."""
    response = browser.get("/progression", query_string={"lt": token})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    lines = {}
    for item in re.findall(r'<ul class="remaining">(.*?)</ul>', html, re.S):
        for line in re.findall(r"<li>(.*?)</li>", item, re.S):
            code = re.search(r'<span class="code">(C[\d.]+)</span>', line)
            assert code is not None
            lines[code.group(1)] = " ".join(re.sub(r"<[^>]+>", " ", line).split())
    return lines


def evaluators(line: str) -> list[str]:
    """Return the épreuve codes a line names after "évaluée par"."""
    if "évaluée par" not in line:
        return []
    return re.findall(r"\bE\d\b", line.split("évaluée par", 1)[1])


def test_item7_epreuves_placed_by_deep_linking_evaluate_before_any_launch(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    for epreuve in LATER:
        place(browser, moodle, epreuve)
    token = launched_from_e1(browser, moodle)
    lines = judged(browser, token)
    assert evaluators(lines["C1.1"]) == ["E1"]
    for epreuve, (first, last) in LATER.items():
        for code in (first, last):
            assert evaluators(lines[code]) == [epreuve], lines[code]
            assert NONE not in lines[code]
    with clean_database.session() as session:
        rows = session.scalars(sa.select(EpreuvePlacement).order_by(EpreuvePlacement.id)).all()
        course = session.scalar(sa.select(LtiContext.id).where(LtiContext.context_id == "7"))
    assert [(r.epreuve_code, r.source, r.context_id) for r in rows] == [
        (code, "deep_linking", course) for code in LATER
    ]
    assert rows[1].competencies == [f"C2.{n}" for n in range(1, 12)]
    assert rows[1].custom == {
        "framework": "community-manager-n6",
        "epreuve": "E3",
        "competencies": ",".join(f"C2.{n}" for n in range(1, 12)),
    }


def test_item7_an_epreuve_placed_twice_alike_is_named_once_on_ma_progression(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    place(browser, moodle, "E3")
    place(browser, moodle, "E3")
    with clean_database.session() as session:
        # Two links in the LMS, "E3 — …" and "E3 — … (2)" (issue 12, item 7: test_titles.py).
        assert session.scalar(sa.select(sa.func.count()).select_from(EpreuvePlacement)) == 2
    lines = judged(browser, launched_from_e1(browser, moodle))
    assert evaluators(lines["C2.1"]) == ["E3"]


def test_item7_courses_never_see_each_others_placements(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    for epreuve in LATER:
        place(browser, moodle, epreuve)
    token = launched_from_e1(browser, moodle, context_id="8")
    lines = judged(browser, token)
    assert evaluators(lines["C1.1"]) == ["E1"]
    for first, last in LATER.values():
        assert NONE in lines[first]
        assert NONE in lines[last]


def test_item7_a_narrowed_placement_evaluates_only_what_it_kept(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    place(browser, moodle, "E3", ["C2.1", "C2.2"])
    lines = judged(browser, launched_from_e1(browser, moodle))
    assert evaluators(lines["C2.1"]) == ["E3"]
    assert evaluators(lines["C2.2"]) == ["E3"]
    assert NONE in lines["C2.3"]
    assert NONE in lines["C2.11"]


def test_item7_a_refused_choice_places_nothing(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    _token, picker = open_picker(browser, moodle)
    refused = choose(browser, picker, "E3", ["C4.1"])
    assert refused.status_code == 400
    with clean_database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(EpreuvePlacement)) == 0
