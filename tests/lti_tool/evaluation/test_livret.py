"""The livret as a jury reads it: page by page, from WeasyPrint's layout and from the PDF.

A learner evaluated on all 44 competencies, with long comments and a long text, fills
several pages, so the page breaks are really exercised: no heading alone at the foot of a
page, no table row cut in two, a bloc's table on one page, and on every page a running
header (learner, certification) and "page n / N". The PDF is rasterised with poppler's
``pdftoppm`` and read back with ``pdftotext``, as a person opening it would see it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.db import Database
from lti_tool.evaluation import progress
from lti_tool.evaluation.models import EvaluationRole
from lti_tool.frameworks import bundled_frameworks
from lti_tool.models import LtiContext
from lti_tool.views.matrix import livret_html, paged_livret
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

__all__ = ["canvas", "key_server", "moodle", "registered"]
try:
    from weasyprint.formatting_structure import boxes
except (ImportError, OSError):  # WeasyPrint loads Pango from the system when imported
    pytest.skip("the livret needs WeasyPrint and Pango", allow_module_level=True)
fw = next(f for f in bundled_frameworks() if f.code == FRAMEWORK)
HEADINGS = {"h1", "h2", "h3", "h4"}
LEARNER = "Ana Costa-Lefèvre"
CERTIFICATION = fw.identity.title
TEXT = (
    "1. Axes de la stratégie\n2. Outils de veille retenus\n3. SWOT de la marque\n\n"
    + "Le diagnostic part des publications des six derniers mois. " * 25
    + "\n\nConclusion : trois axes, un calendrier, des indicateurs."
)


@dataclass(frozen=True)
class Livret:
    """A launched course where Ana was evaluated on every épreuve."""

    token: str
    context_id: int
    learner_id: int


@pytest.fixture
def livret(registered: Flask, clean_database: Database, moodle: TestPlatform) -> Livret:
    token = landing_token(Browser(registered.test_client()).launch(moodle, "instructor"))
    with clean_database.session() as session:
        context = session.scalars(sa.select(LtiContext).where(LtiContext.context_id == "7")).one()
        where = course_of(session, context)
        teacher = person(session, where, "Paul Durand", is_staff=True)
        ana = person(session, where, LEARNER)
        for minutes, epreuve in enumerate(fw.epreuves):
            codes = epreuve.competencies
            link = placement(session, where, epreuve.code)
            work = submission(session, where, link, ana, codes, epreuve=epreuve.code)
            version = hand_in(
                session, work, at(10 * minutes), text=TEXT, files=[f"{epreuve.code}.pdf"]
            )
            criteria = {
                criterion.code: ("atteint", True)
                for code in codes
                for criterion in fw.competency(code).criteria
            }
            publish(
                session,
                version,
                teacher,
                at(10 * minutes + 5),
                dict.fromkeys(codes, 1.0) | {codes[0]: 0.5},
                overrides={codes[0]: True},
                criteria=criteria,
                comment="Points forts :\n- la démarche\n- les sources\n\n" + "Bien. " * 60,
            )
        # A jury's second look at two competencies: short enough to stay on one page.
        jury = person(session, where, "Inès Jury", is_staff=True)
        short = {
            c.code: ("atteint", True) for code in codes[:2] for c in fw.competency(code).criteria
        }
        publish(
            session,
            version,
            jury,
            at(60),
            dict.fromkeys(codes[:2], 1.0),
            criteria=short,
            comment="D’accord avec l’évaluateur.",
            role=EvaluationRole.JURY,
        )
        progress.update(session, fw, where.context_id, ana, at(100))
    return Livret(token, where.context_id, ana)


def _layout(app: Flask, livret: Livret, lang: str = "fr") -> Any:
    with app.test_request_context(f"/?lang={lang}"):
        app.preprocess_request()
        return paged_livret(livret_html(livret.context_id, livret.learner_id, fw))


def _flow(box: Any, header: bool = False) -> Iterator[tuple[Any, bool]]:
    """Yield a page's block-level boxes in reading order, each with "is in a table header".

    Margin boxes (the running header, the page number) and lines of text are left out:
    what remains ends with the last block the page shows.
    """
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.MarginBox | boxes.LineBox | boxes.InlineLevelBox):
            continue
        in_header = header or getattr(child, "is_header", False)
        yield child, in_header
        yield from _flow(child, in_header)


def _pages(document: Any) -> list[list[tuple[Any, bool]]]:
    return [list(_flow(page._page_box)) for page in document.pages]


def test_pages_break_after_a_headings_text_between_rows_and_around_what_fits(
    registered: Flask, livret: Livret
) -> None:
    document = _layout(registered, livret)
    pages = _pages(document)

    assert len(pages) >= 6  # long enough for the page breaks to matter
    for number, flow in enumerate(pages[:-1], start=1):
        last, in_header = flow[-1]
        assert last.element_tag not in HEADINGS, f"page {number} ends with a heading"
        assert not in_header, f"page {number} ends with a table's header row"
    rows: dict[int, int] = {}
    for number, flow in enumerate(pages, start=1):
        for row in {id(box.element) for box, in_header in flow if _is_row(box, in_header)}:
            assert row not in rows, f"a table row runs from page {rows[row]} onto page {number}"
            rows[row] = number
    assert len(rows) > 44 + 44 + 135  # blocs, decisions and criteria were all looked at
    # A bloc's table, an épreuve's evaluation: on one page, unless taller than a page.
    height = document.pages[0]._page_box.height
    kept: dict[str, list[tuple[int, float]]] = {}
    for number, flow in enumerate(pages, start=1):
        for box, _ in flow:
            if box.element_tag == "section" and "keep" in box.element.get("class", ""):
                kept.setdefault(box.element.get("id"), []).append((number, box.margin_height()))
    assert len(kept) == len(fw.blocs) + 1  # and the jury's short evaluation
    for name, parts in kept.items():
        on = {number for number, _ in parts}
        assert len(on) == 1 or sum(h for _, h in parts) > height, f"{name} is cut on {on}"


def _is_row(box: Any, in_header: bool) -> bool:
    return isinstance(box, boxes.TableRowBox) and not in_header


def test_the_learners_text_keeps_its_line_breaks(registered: Flask, livret: Livret) -> None:
    with registered.test_request_context("/?lang=fr"):
        registered.preprocess_request()
        html = livret_html(livret.context_id, livret.learner_id, fw)

    assert "<p>1. Axes de la stratégie<br>2. Outils de veille retenus<br>3. SWOT" in html
    assert "<p>Conclusion : trois axes, un calendrier, des indicateurs.</p>" in html
    assert "<p>Points forts :<br>- la démarche<br>- les sources</p>" in html


@pytest.fixture
def poppler() -> None:
    """Skip without poppler-utils (fail under CI, where .ci/browser.sh installs it)."""
    if shutil.which("pdftoppm") and shutil.which("pdftotext"):
        return
    reason = "the livret's pages are read with poppler-utils (pdftoppm, pdftotext)"
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI must not skip them)", pytrace=False)
    pytest.skip(reason)


@pytest.mark.usefixtures("poppler")
def test_every_page_shows_the_learner_the_certification_and_page_n_of_n(
    registered: Flask, livret: Livret, tmp_path: Path
) -> None:
    image = pytest.importorskip("PIL.Image")
    pdf = _download(registered, livret, tmp_path)
    texts = _page_texts(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-png", str(pdf), str(tmp_path / "page")],  # noqa: S607
        check=True,
        timeout=120,
    )
    pngs = sorted(tmp_path.glob("page-*.png"))

    total = len(texts)
    assert total >= 6
    for number, text in enumerate(texts, start=1):
        lines = text.strip().splitlines()
        assert LEARNER in lines[0], f"page {number}: {lines[0]!r}"
        assert CERTIFICATION in lines[0], f"page {number}: {lines[0]!r}"
        assert lines[-1].strip().endswith(f"page {number} / {total}"), f"page {number}"
    # As printed: ink in the header band, the body and the footer band of every page.
    assert len(pngs) == total
    for png in pngs:
        with image.open(png) as picture:
            page = picture.convert("L")
        width, height = page.size
        band = round(height * 18 / 297)  # the 18 mm bottom margin of an A4 page
        for name, area in (
            ("running header", (0, 0, width, band)),
            ("body", (0, band, width, height - band)),
            ("page number", (0, height - band, width, height)),
        ):
            darkest, _ = page.crop(area).getextrema()
            assert darkest < 200, f"{png.name}: nothing printed in the {name}"  # 255 is blank


def _download(app: Flask, livret: Livret, folder: Path) -> Path:
    url = f"/classe/apprenants/{livret.learner_id}/livret.pdf?lt={livret.token}"
    response = app.test_client().get(url)
    assert response.status_code == 200
    pdf = folder / "livret.pdf"
    pdf.write_bytes(response.get_data())
    return pdf


def _page_texts(pdf: Path) -> list[str]:
    """Return each page's text as laid out; pdftotext parts pages with a form feed."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [page for page in out.split("\f") if page.strip()]
