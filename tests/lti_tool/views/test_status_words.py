"""Issue 12, item 4: the learner's result reads the same on every page that shows it.

One Moodle learner, one published evaluation of E3: C2.1 acquired against the rule (the
evaluator overrode it, with a justification), C2.2 with none of its 4 criteria met. The
épreuve page, "Ma progression" and the class matrix must give each competency one word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.evaluation import progress
from lti_tool.evaluation.record.records import PlacedEpreuve
from lti_tool.frameworks import bundled_frameworks
from lti_tool.models import LtiContext, LtiResourceLink, LtiUser
from tests.lti_tool.evaluation import factories
from tests.lti_tool.evaluation.factories import course_of
from tests.lti_tool.lti.conftest import canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

__all__ = ["canvas", "key_server", "moodle", "registered"]
FRAMEWORK = next(f for f in bundled_frameworks() if f.code == factories.FRAMEWORK)
E3_TITLE = FRAMEWORK.epreuve("E3").title
WORDS = {
    "fr": {"C2.1": "Acquise", "C2.2": "Non acquise", "C2.3": "Non évaluée"},
    "en": {"C2.1": "Acquired", "C2.2": "Not acquired", "C2.3": "Not evaluated"},
}


@dataclass(frozen=True)
class Launched:
    """The learner's and the instructor's session tokens, after the evaluation."""

    learner: str
    staff: str


@pytest.fixture
def launched(registered: Flask, moodle: TestPlatform, clean_database: Database) -> Launched:
    learner = landing_token(Browser(registered.test_client()).launch(moodle, "learner"))
    staff = landing_token(Browser(registered.test_client()).launch(moodle, "instructor"))
    with clean_database.session() as session:
        context = session.scalars(sa.select(LtiContext).where(LtiContext.context_id == "7")).one()
        where = course_of(session, context)
        learner_id = session.scalars(sa.select(LtiUser.id).where(LtiUser.sub == "42")).one()
        evaluator_id = session.scalars(sa.select(LtiUser.id).where(LtiUser.sub == "7")).one()
        link = session.scalars(
            sa.select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "3")
        ).one()
        # The title Jalon's deep-linking answer gave the activity, as the LMS kept it.
        link.title = f"E3 — {E3_TITLE}"
        work = factories.submission(
            session, where, link.id, learner_id, ["C2.1", "C2.2"], epreuve="E3"
        )
        version = factories.hand_in(session, work, factories.at(0))
        factories.publish(
            session,
            version,
            evaluator_id,
            factories.at(10),
            {"C2.1": 0.0, "C2.2": 0.0},
            overrides={"C2.1": True},
            criteria={f"C2.2-{n}": ("non_atteint", False) for n in range(1, 5)}
            | {"C2.1-1": ("non_atteint", False)},
        )
        progress.update(session, FRAMEWORK, where.context_id, learner_id, factories.at(20))
    return Launched(learner, staff)


def _get(app: Flask, path: str, token: str, lang: str) -> str:
    response = Browser(app.test_client()).get(path, query_string={"lt": token, "lang": lang})
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True)


def _epreuve_word(html: str, code: str) -> str:
    found = re.search(
        rf'<h4><span class="code">{re.escape(code)}</span>.*?</h4>\s*<p class="decision">([^<—]+)',
        html,
        re.S,
    )
    assert found, html
    return found.group(1).strip()


def _progress_word(html: str, code: str) -> str:
    found = re.search(rf'<th scope="row">{re.escape(code)} [^<]*</th><td>([^<]+)</td>', html)
    assert found, html
    return found.group(1)


def _matrix_word(html: str, code: str) -> str:
    """Return the cell of Léa Martin under a competency, read through the legend."""
    legend = dict(
        re.findall(r'<dt><span class="s-[^"]+">([^<]+)</span></dt><dd>([^<]+)</dd>', html)
    )
    header = html[html.index("<thead>") : html.index("</thead>")].split("</tr>")[1]
    # Competency heads show their number; their title starts with the full code.
    columns = [
        code or "bloc"
        for code in re.findall(r'<th scope="col"[^>]*>(?:<abbr title="([^ "]+) )?', header)
    ]
    row = next(line for line in html.splitlines() if "Léa Martin</a>" in line)
    cells = re.findall(r"<td[^>]*>(?:<abbr[^>]*>)?([^<]*)", row)
    return legend[cells[columns.index(code)]]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_one_word_per_competency_on_the_epreuve_page_the_progress_and_the_matrix(
    registered: Flask, launched: Launched, lang: str
) -> None:
    epreuve = _get(registered, "/epreuve", launched.learner, lang)
    mine = _get(registered, "/progression", launched.learner, lang)
    matrix = _get(registered, "/classe/", launched.staff, lang)

    for code in ("C2.1", "C2.2"):
        word = WORDS[lang][code]
        assert _epreuve_word(epreuve, code) == word, code
        assert _progress_word(mine, code) == word, code
        assert _matrix_word(matrix, code) == word, code
    never = WORDS[lang]["C2.3"]
    assert _progress_word(mine, "C2.3") == _matrix_word(matrix, "C2.3") == never
    # Wherever a page names C2.2's status in passing, it is the same word.
    word = WORDS[lang]["C2.2"]
    assert re.search(rf"C2\.2</span> <span[^>]*>[^<]*</span> \({word}\)", mine)
    assert f"C2.2</span> — {_criteria(lang)} ({word})" in mine
    for html in (epreuve, mine):
        assert "Compétence non acquise" not in html
        assert "(En cours)" not in html
        assert "(In progress)" not in html


def _criteria(lang: str) -> str:
    return "critères de la compétence" if lang == "fr" else "criteria of the competency"


def test_the_override_says_so_with_its_justification(registered: Flask, launched: Launched) -> None:
    epreuve = _get(registered, "/epreuve", launched.learner, "fr")
    assert (
        "Décision modifiée par l’évaluateur (la règle donnait : non acquise). Justification :"
        in epreuve
    )
    assert "Justification pour C2.1" in epreuve
    assert "Justification pour C2.2" not in epreuve  # no override there, no note
    assert epreuve.count('<p class="override">') == 1
    english = _get(registered, "/epreuve", launched.learner, "en")
    assert "Decision overridden by the evaluator (the rule gave: not acquired)." in english
    mine = _get(registered, "/progression", launched.learner, "fr")
    assert "Oui : Justification pour C2.1" in mine


def test_the_epreuve_code_is_not_repeated_before_its_title(
    registered: Flask, launched: Launched
) -> None:
    mine = _get(registered, "/progression", launched.learner, "fr")
    assert f'<span class="code">E3</span> <span lang="fr">{E3_TITLE}</span>' in mine
    assert not re.search(r"E3</span> <span[^>]*>E3\b", mine)


@pytest.mark.parametrize(
    ("link_title", "shown"),
    [
        ("E3 — Campagne", "Campagne"),
        ("E3 - Campagne (C2.1–C2.2)", "Campagne (C2.1–C2.2)"),
        ("E3: Campagne", "Campagne"),
        ("E3", E3_TITLE),
        ("E30 Autre chose", "E30 Autre chose"),
        ("Épreuve 3", "Épreuve 3"),
        (None, E3_TITLE),
    ],
)
def test_a_title_loses_only_a_repeated_code(link_title: str | None, shown: str) -> None:
    assert PlacedEpreuve("E3", E3_TITLE, link_title, ("C2.1",)).shown_title == shown


def test_criterion_rows_are_in_normal_weight(
    chromium: WebDriver, live_url: str, launched: Launched
) -> None:
    weight = (
        "return [...document.querySelectorAll(arguments[0])]"
        ".map(e => getComputedStyle(e).fontWeight)"
    )
    chromium.get(f"{live_url}/epreuve?lt={launched.learner}")
    criteria = chromium.execute_script(weight, ".results tbody th")
    assert criteria
    assert set(criteria) == {"400"}
    assert set(chromium.execute_script(weight, ".decision")) == {"700"}
    chromium.get(f"{live_url}/progression?lt={launched.learner}")
    assert set(chromium.execute_script(weight, ".criteria-details tbody th")) == {"400"}
