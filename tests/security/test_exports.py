"""Item 11: the class matrix exports never hand a spreadsheet a formula.

Learners' names come from the LMS, so anyone who can set their own name there controls the
first cell of a row. An instructor launches from Moodle and downloads the real exports.
"""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.evaluation import progress
from lti_tool.frameworks import find_record, framework_of
from lti_tool.models import LtiContext
from referentiel.exports.moodle_csv import dump_moodle_csv
from referentiel.loader import load_yaml_text
from tests.lti_tool.evaluation.factories import (
    FRAMEWORK,
    at,
    course_of,
    hand_in,
    person,
    placement,
    publish,
    submission,
)
from tests.lti_tool.lti.conftest import canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token
from tests.referentiel.test_moodle_csv import SMALL

__all__ = ["canvas", "key_server", "moodle", "registered"]

# Names that some spreadsheet reads as a formula: every lead, after blanks or a line feed,
# in ASCII and full width, and a tab or carriage return in front.
FORMULAS = [
    '=HYPERLINK("http://evil.example","clic")',
    "+33 6 12 34 56 78",
    "-2+3",
    "@SUM(A1:A9)",
    " =1+1",
    "\n=1+1",
    " \r\n\t-1",
    '\uff1dHYPERLINK("http://evil.example")',
    "\uff0b1",
    "\uff0d1",
    "\uff20A1",
    "\tnom",
    "\rnom",
]
LEADS = "=+-@\uff1d\uff0b\uff0d\uff20"
PLAIN = ["Ana Costa", "Jean-Marie Dupont", "O'Brien", "1er rang", "Zoé = Zoé"]


@pytest.fixture
def token(registered: Flask, clean_database: Database, moodle: TestPlatform) -> str:
    token = landing_token(Browser(registered.test_client()).launch(moodle, "instructor"))
    with clean_database.session() as session:
        context = session.scalars(sa.select(LtiContext).where(LtiContext.context_id == "7")).one()
        where = course_of(session, context)
        record = find_record(session, FRAMEWORK)
        assert record is not None
        teacher = person(session, where, "Paul Durand", is_staff=True)
        learners = [person(session, where, name) for name in [*FORMULAS, *PLAIN]]
        # The first learner has acquired competencies: a number Jalon writes itself.
        work = submission(session, where, placement(session, where, "E1"), learners[0], ["C1.1"])
        publish(session, hand_in(session, work, at(1)), teacher, at(2), {"C1.1": 1.0})
        progress.update(session, framework_of(record), where.context_id, learners[0], at(3))
    return token


def _csv_rows(registered: Flask, token: str) -> list[list[str]]:
    response = registered.test_client().get(f"/classe/matrice.csv?lt={token}")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_item11_csv_cells_that_read_as_formulas_get_an_apostrophe(
    registered: Flask, token: str
) -> None:
    rows = _csv_rows(registered, token)
    names = {row[0] for row in rows[1:]}

    assert names == {"'" + name for name in FORMULAS} | set(PLAIN)
    for row in rows[1:]:
        for cell in row:
            assert cell.startswith("'") or not cell.lstrip() or cell.lstrip()[0] not in LEADS
            assert not cell.startswith(("\t", "\r"))


def test_item11_csv_numbers_jalon_writes_stay_numbers(registered: Flask, token: str) -> None:
    rows = _csv_rows(registered, token)
    acquired = {row[0]: row[-1] for row in rows[1:]}

    assert acquired["'" + FORMULAS[0]] == "1"
    assert acquired["Ana Costa"] == "0"


def _xml_lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_item11_xlsx_text_is_a_string_cell_shown_unchanged(registered: Flask, token: str) -> None:
    response = registered.test_client().get(f"/classe/matrice.xlsx?lt={token}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet is not None

    names = {row[0].value: row[0] for row in sheet.iter_rows(min_row=2)}
    # No apostrophe shows. A carriage return comes back as a line feed when openpyxl writes
    # with the standard library (XML reads a raw CR as LF), unchanged when it writes with
    # lxml (installed with the test extras by lti-consumer-xblock): both are the text.
    assert {_xml_lines(name) for name in names} == {
        _xml_lines(name) for name in [*FORMULAS, *PLAIN]
    }
    assert {cell.data_type for cell in names.values()} == {"s"}
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert names[FORMULAS[0]].value == '=HYPERLINK("http://evil.example","clic")'
    acquired = {row[0].value: row[-1] for row in sheet.iter_rows(min_row=2)}
    assert (acquired[FORMULAS[0]].value, acquired[FORMULAS[0]].data_type) == (1, "n")


def test_item11_xlsx_drops_characters_xml_cannot_hold_instead_of_failing(
    registered: Flask, clean_database: Database, token: str
) -> None:
    with clean_database.session() as session:
        context = session.scalars(sa.select(LtiContext).where(LtiContext.context_id == "7")).one()
        person(session, course_of(session, context), "Bel\x01le\x1f Ami\x0b")

    response = registered.test_client().get(f"/classe/matrice.xlsx?lt={token}")

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet is not None
    assert "Belle Ami" in {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}


@pytest.mark.parametrize("title", ["=1+1", " -2+3", "@SUM(A1)", "\uff1dHYPERLINK(0)", "+33"])
def test_item11_the_moodle_csv_neutralises_a_title_read_as_a_formula(title: str) -> None:
    framework = load_yaml_text(
        SMALL.replace("title: Petit référentiel", f"title: {json.dumps(title)}")
    )
    [_, row, *_] = list(csv.reader(io.StringIO(dump_moodle_csv(framework), newline="")))

    assert row[1] == "petit"
    assert row[2] == "'" + title.strip()
