"""The class matrix pages: staff only, filters, CSV/XLSX exports, the PDF livret, FR/EN, axe."""

from __future__ import annotations

import io
import re
import sys
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.evaluation import progress
from lti_tool.evaluation.models import EvaluationRole
from lti_tool.frameworks import find_record, framework_of
from lti_tool.models import LtiContext
from lti_tool.views.matrix import livret_html
from tests.browser import assert_accessible
from tests.lti_tool.evaluation.factories import (
    FRAMEWORK,
    at,
    course,
    course_of,
    hand_in,
    person,
    placement,
    publish,
    submission,
)
from tests.lti_tool.lti.conftest import canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

__all__ = ["canvas", "key_server", "moodle", "registered"]
B1 = [f"C1.{n}" for n in range(1, 12)]
INJECTION = '=HYPERLINK("http://evil.example","clic")'


@dataclass(frozen=True)
class Class:
    """A launched course with three learners: validated B1, started, and never evaluated."""

    token: str
    context_id: int
    ana: int
    lea: int
    eve: int
    stranger: int


def _launch(app: Flask, platform: TestPlatform, role: str) -> str:
    return landing_token(Browser(app.test_client()).launch(platform, role))


@pytest.fixture
def klass(registered: Flask, clean_database: Database, moodle: TestPlatform) -> Class:
    token = _launch(registered, moodle, "instructor")
    with clean_database.session() as session:
        context = session.scalars(sa.select(LtiContext).where(LtiContext.context_id == "7")).one()
        where = course_of(session, context)
        record = find_record(session, FRAMEWORK)
        assert record is not None
        framework = framework_of(record)
        teacher = person(session, where, "Paul Durand", is_staff=True)
        ana = person(session, where, "Ana Costa")
        lea = person(session, where, "Léa Martin")
        eve = person(session, where, INJECTION)
        link = placement(session, where, "E1")
        work = submission(session, where, link, ana, B1)
        version = hand_in(
            session,
            work,
            at(1),
            text="Mon étude de cas",
            links=["https://ana.example/blog"],
            files=["etude-de-cas.pdf"],
        )
        publish(
            session,
            version,
            teacher,
            at(2),
            dict.fromkeys(B1, 1.0) | {"C1.3": 0.5},
            overrides={"C1.3": True},
            comment="Très bon travail",
            criteria={"C1.1-1": ("acquis", True)},
        )
        work = submission(session, where, placement(session, where, "E3"), lea, ["C2.1"])
        version = hand_in(session, work, at(3))
        publish(session, version, teacher, at(4), {"C2.1": 0.5}, role=EvaluationRole.EVALUATOR)
        for learner in (ana, lea):
            progress.update(session, framework, where.context_id, learner, at(5))
        elsewhere = course(session)
        stranger = person(session, elsewhere, "Zoé Ailleurs")
    return Class(token, where.context_id, ana, lea, eve, stranger)


def test_staff_sees_the_matrix_grouped_by_bloc_with_links(registered: Flask, klass: Class) -> None:
    page = registered.test_client().get(f"/classe/?lt={klass.token}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<caption" in html
    assert html.count('scope="colgroup"') == 4
    assert html.count('<th scope="row">') == 3
    assert "Zoé Ailleurs" not in html
    assert "Paul Durand" not in html
    assert f"/classe/apprenants/{klass.ana}?lt=" in html
    assert f"/classe/apprenants/{klass.ana}/livret.pdf?lt=" in html
    ana_row = next(line for line in html.splitlines() if "Ana Costa" in line)
    assert ana_row.count('class="s-acquis"') == 11
    assert '<td class="bloc s-acquis"><abbr title="Validé">V</abbr></td>' in ana_row
    assert "11/44" in ana_row
    lea_row = next(line for line in html.splitlines() if "Léa Martin" in line)
    assert lea_row.count('class="s-en-cours"') == 1
    assert "&lt;" not in ana_row  # names are escaped, not double-escaped
    assert "=HYPERLINK(&#34;" in html or "=HYPERLINK(&quot;" in html


def test_filters_and_sorting_apply(registered: Flask, klass: Class) -> None:
    client = registered.test_client()
    validated = client.get(f"/classe/?lt={klass.token}&bloc=B1&statut=acquis")
    html = validated.get_data(as_text=True)
    assert validated.status_code == 200
    assert "Ana Costa" in html
    assert "Léa Martin" not in html
    assert html.count('scope="colgroup"') == 1

    by_acquired = client.get(f"/classe/?lt={klass.token}&tri=acquises&ordre=desc&statut=")
    names = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', by_acquired.get_data(True))
    assert names[:2] == ["Ana Costa", "Léa Martin"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("statut=fini", "statut"),
        ("bloc=B9", "bloc"),
        ("tri=age", "tri"),
        ("ordre=up", "ordre"),
        ("groupe=A", "groupe"),
        ("couleur=bleu", "couleur"),
    ],
)
def test_bad_filter_is_a_400_naming_the_parameter(
    registered: Flask, klass: Class, query: str, field: str
) -> None:
    for path in ("/classe/", "/classe/matrice.csv", "/classe/matrice.xlsx"):
        page = registered.test_client().get(f"{path}?lt={klass.token}&{query}")
        assert page.status_code == 400
        assert f"« {field} »" in page.get_data(as_text=True)


def test_learner_launch_is_forbidden_everywhere(
    registered: Flask, klass: Class, moodle: TestPlatform
) -> None:
    token = _launch(registered, moodle, "learner")
    for path in (
        "/classe/",
        "/classe/matrice.csv",
        "/classe/matrice.xlsx",
        f"/classe/apprenants/{klass.ana}/livret.pdf",
    ):
        assert registered.test_client().get(f"{path}?lt={token}").status_code == 403, path


def test_no_session_is_refused(registered: Flask, klass: Class) -> None:
    response = registered.test_client().get("/classe/")
    assert response.status_code == 401
    assert "LTI_SESSION_EXPIRED" in response.get_data(as_text=True)


def test_csv_is_excel_ready_and_injection_safe(registered: Flask, klass: Class) -> None:
    response = registered.test_client().get(f"/classe/matrice.csv?lt={klass.token}")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    assert header[:3] == ["Apprenant", "C1.1", "C1.2"]
    assert header[-2:] == ["Certification", "Compétences acquises"]
    assert len(header) == 1 + 44 + 4 + 2
    ana = next(line for line in lines if line.startswith("Ana Costa")).split(";")
    assert ana[header.index("C1.3")] == "Acquise"
    assert ana[header.index("B1")] == "Validé"
    assert ana[header.index("C2.1")] == "Non évaluée"
    assert ana[-1] == "11"
    evil = next(line for line in lines if "HYPERLINK" in line)
    assert evil.startswith("\"'=HYPERLINK") or evil.startswith("'=HYPERLINK")
    assert not any(line.startswith("=") for line in lines)


def test_csv_follows_the_filters(registered: Flask, klass: Class) -> None:
    response = registered.test_client().get(f"/classe/matrice.csv?lt={klass.token}&bloc=B2")
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[1:] == [
        *(f"C2.{n}" for n in range(1, 12)),
        "B2",
        "Certification",
        "Compétences acquises",
    ]
    assert len(lines) == 4


def test_xlsx_opens_with_the_right_cells(registered: Flask, klass: Class) -> None:
    response = registered.test_client().get(f"/classe/matrice.xlsx?lt={klass.token}")

    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert len(workbook.worksheets) == 1
    sheet = workbook.active
    assert sheet is not None
    assert sheet.freeze_panes == "B2"
    header = [cell.value for cell in sheet[1]]
    assert header[0] == "Apprenant"
    assert sheet["A1"].font.bold
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Ana Costa"][header.index("C1.1")] == "Acquise"
    assert rows["Ana Costa"][header.index("B1")] == "Validé"
    assert rows["Ana Costa"][-1] == 11
    assert rows["Léa Martin"][header.index("C2.1")] == "Non acquise"
    assert INJECTION in rows
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_livret_is_a_pdf_and_other_courses_learners_are_404(
    registered: Flask, klass: Class
) -> None:
    client = registered.test_client()
    response = client.get(f"/classe/apprenants/{klass.ana}/livret.pdf?lt={klass.token}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF-")
    assert body.rstrip().endswith(b"%%EOF")
    assert _page_count(body) >= 2
    stranger = client.get(f"/classe/apprenants/{klass.stranger}/livret.pdf?lt={klass.token}")
    assert stranger.status_code == 404
    assert client.get(f"/classe/apprenants/999999/livret.pdf?lt={klass.token}").status_code == 404


def test_without_pango_the_livret_is_a_clear_503_not_a_crash(
    registered: Flask, klass: Class, monkeypatch: pytest.MonkeyPatch
) -> None:
    # WeasyPrint raises OSError at import when the system lacks Pango; None in sys.modules
    # makes the import fail the same way, whatever this machine has.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    client = registered.test_client()
    response = client.get(f"/classe/apprenants/{klass.ana}/livret.pdf?lt={klass.token}&lang=en")
    assert response.status_code == 503
    assert "the Pango library is missing" in response.get_data(as_text=True)


def _page_count(pdf: bytes) -> int:
    """Count the page objects, reading compressed object streams too (no PDF library here)."""
    objects = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            objects.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return sum(len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", part)) for part in objects)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_livret_holds_the_learners_record(
    registered: Flask, clean_database: Database, klass: Class, lang: str
) -> None:
    with registered.test_request_context(f"/?lang={lang}"):
        registered.preprocess_request()
        record = find_record(registered.extensions["jalon.db"].request_session(), FRAMEWORK)
        assert record is not None
        html = livret_html(klass.context_id, klass.ana, framework_of(record))

    assert f'<html lang="{lang}">' in html
    assert "Ana Costa" in html
    assert "Community Manager" in html
    assert "Très bon travail" in html
    assert "Justification pour C1.3" in html
    assert "etude-de-cas.pdf" in html
    assert "https://ana.example/blog" in html
    assert "Paul Durand" in html
    assert html.count("<td>") >= 3  # the signatures area


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_page_language_follows_the_choice(registered: Flask, klass: Class, lang: str) -> None:
    html = registered.test_client().get(f"/classe/?lt={klass.token}&lang={lang}").get_data(True)
    assert f'<html lang="{lang}">' in html
    skip_link = {"fr": "Aller au contenu", "en": "Skip to content"}[lang]
    assert skip_link in html


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_matrix_page_has_no_wcag21_aa_violation(
    chromium: WebDriver, live_url: str, klass: Class, lang: str
) -> None:
    chromium.get(f"{live_url}/classe/?lt={klass.token}&lang={lang}")
    assert chromium.execute_script("return document.documentElement.lang") == lang
    assert_accessible(chromium, f"/classe/?lang={lang}")


def test_item5_a_bloc_folds_to_its_status_column_and_unfolds(
    registered: Flask, klass: Class
) -> None:
    client = registered.test_client()
    html = client.get(f"/classe/?lt={klass.token}&tri=acquises").get_data(as_text=True)
    assert html.count('class="competency"') == 44
    fold = re.search(
        r'<a class="fold" href="([^"]+)">Replier<span class="visually-hidden"> le bloc B1', html
    )
    assert fold, "no fold link for B1"
    folded_url = fold.group(1).replace("&amp;", "&")
    assert "replies=B1" in folded_url
    assert "tri=acquises" in folded_url  # the other choices stay
    folded = client.get(folded_url).get_data(as_text=True)
    assert folded.count('class="competency"') == 33
    ana_row = next(line for line in folded.splitlines() if "Ana Costa" in line)
    assert ana_row.count('class="s-acquis"') == 0  # B1's competencies are folded away
    assert '<td class="bloc s-acquis"><abbr title="Validé">V</abbr></td>' in ana_row
    unfold = re.search(
        r'<a class="fold" href="([^"]+)">Déplier<span class="visually-hidden"> le bloc B1', folded
    )
    assert unfold
    assert "replies" not in unfold.group(1)
    # Folding is a view: the export keeps every column.
    csv_text = client.get(f"/classe/matrice.csv?lt={klass.token}&replies=B1").get_data(as_text=True)
    assert "C1.1" in csv_text.splitlines()[0]


def test_item5_an_unknown_folded_bloc_is_a_400_naming_the_parameter(
    registered: Flask, klass: Class
) -> None:
    answer = registered.test_client().get(f"/classe/?lt={klass.token}&replies=B1,B9")
    assert answer.status_code == 400
    assert "replies" in answer.get_data(as_text=True)
    assert "B9" in answer.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_item5_the_whole_matrix_fits_a_1280_px_screen_with_names_in_view(
    chromium: WebDriver, live_url: str, klass: Class, lang: str
) -> None:
    chromium.set_window_size(1280, 900)
    try:
        chromium.get(f"{live_url}/classe/?lt={klass.token}&lang={lang}")
        region, page = chromium.execute_script(
            "const r = document.querySelector('.matrix-scroll');"
            "return [[r.scrollWidth, r.clientWidth],"
            " [document.documentElement.scrollWidth, document.documentElement.clientWidth]]"
        )
        assert region[0] <= region[1], f"the matrix scrolls sideways: {region}"
        assert page[0] <= page[1], f"the page scrolls sideways: {page}"
        # The caption names the table for screen readers and takes no room on screen.
        height = chromium.execute_script(
            "return document.querySelector('.matrix caption').getBoundingClientRect().height"
        )
        assert height <= 1
        # On a narrower screen the table scrolls inside its region, the names stay in view.
        chromium.set_window_size(800, 900)
        sticky = chromium.execute_script(
            "const r = document.querySelector('.matrix-scroll'); r.scrollLeft = 400;"
            "const name = document.querySelector('.matrix tbody th').getBoundingClientRect();"
            "return [r.scrollLeft, name.left - r.getBoundingClientRect().left]"
        )
        assert sticky[0] > 0
        assert abs(sticky[1]) <= 2
    finally:
        chromium.set_window_size(1280, 1024)
