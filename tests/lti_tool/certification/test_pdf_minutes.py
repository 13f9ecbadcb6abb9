"""The procès-verbal as a reader sees it: jury, decisions, corrections, pages (issue 14).

Printed from rows a jury session would hold, then read back with poppler (``pdftotext``,
``pdftoppm``): the names, decisions and codes are there, nothing runs off a page, the
table's header repeats on each page it runs over, and PROJET is on every page until the
session is signed.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification.decisions import session_decisions
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    JuryDecision,
    SessionStatus,
)
from lti_tool.config import Settings
from tests.lti_tool.certification import pdf_reading as read
from tests.lti_tool.certification.pdf_fixtures import (
    CERTIFIER,
    db,
    jury,
    minutes_of,
    pdf_tools,
    settings,
)
from tests.lti_tool.certification.pdf_rows import (
    ACCENTED,
    LONG_NAME,
    Jury,
    demo_jury,
    session_with_jury,
    sign,
)

__all__ = ["db", "jury", "pdf_tools", "settings"]


def test_the_minutes_print_the_jury_every_decision_and_the_corrections(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path
) -> None:
    pdf = minutes_of(db, jury, settings, tmp_path, "pv.pdf")
    whole = read.flat(read.text(pdf))
    for expected in (
        CERTIFIER,
        "Procès-verbal de jury de certification",
        "Community Manager — Niveau 6",
        "community-manager-n6, version 1.0",
        "Session de juin 2026 — promotion Community Manager",
        "18 juin 2026",
        "Lyon — Campus Part-Dieu",
        "du 1er juin 2026 au 12 juin 2026",
        "Président du jury Hélène Garçon Directrice",
        "Membre du jury Paul Durand Formateur",
        "Professionnel du métier Zoé Lefèvre Responsable communication, Agence Œuvre",
        ACCENTED,
        LONG_NAME,
        # The reasons, then the correction: dated, naming the decision it corrects.
        "Étude de cas E3 insuffisante : veille non sourcée.",
        "20 juin 2026, 15:00 UTC",
        "Pièce retrouvée : dossier complet.",
    ):
        assert read.has(whole, expected), expected
    corrected = re.search(
        r"rectifie la décision n° (\d+) du 18 juin 2026, 14:00 UTC : Non validé", whole
    )
    assert corrected, whole
    # One line per candidate: the decision in force per bloc and for the title.
    lines = read.text(pdf, layout=True)
    assert re.search(rf"1\s+{ACCENTED}\s+Validé\s+Validé\s+Validé\s+Validé\s+Validé", lines)
    assert re.search(r"2\s+Bastien Roux\s+Validé\s+Validé\s+Non validé\s+Validé\s+—", lines)
    # Totals: 3 candidates; B1 ×2, B2 ×3, B3 ×1, B4 ×2 (after the correction); 1 title; 1 fix.
    assert re.search(r"Candidats.*Rectifications\s+3\s+2\s+3\s+1\s+2\s+1\s+1", lines)
    # The signatures: one box per member, after the "Fait à".
    signing = whole[whole.index("Signatures des membres du jury") :]
    assert "Fait à Lyon — Campus Part-Dieu, le 18 juin 2026." in signing
    for member in ("Hélène Garçon", "Paul Durand", "Zoé Lefèvre"):
        assert f"{member}" in signing
    assert signing.count("Signature") == 4  # the heading and three boxes
    assert read.words_off_the_page(read.layout(pdf)) == []


def test_the_minutes_are_a_draft_until_the_session_is_signed(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path
) -> None:
    draft = minutes_of(db, jury, settings, tmp_path, "draft.pdf")
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    sign(db, session)
    signed = minutes_of(db, jury, settings, tmp_path, "signed.pdf")

    draft_pages = read.pages(draft, tmp_path)
    for number, png in enumerate(draft_pages, start=1):
        assert "PROJET" in read.text(draft, page=number)
        assert read.red_pixels(png) > 20_000, f"no watermark on page {number}"
    assert "session n’est pas signée" in read.text(draft)
    signed_text = read.flat(read.text(signed))
    assert "PROJET" not in signed_text
    assert "Procès-verbal signé le 18 juin 2026, 17:30 UTC par Hélène Garçon." in signed_text
    assert all(read.red_pixels(png) == 0 for png in read.pages(signed, tmp_path))


def test_forty_candidates_run_over_pages_with_the_table_header_on_each(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    jury = demo_jury(db, extra=40)
    pdf = minutes_of(db, jury, settings, tmp_path, "pv40.pdf")
    pictures = read.pages(pdf, tmp_path)
    assert len(pictures) >= 3
    header = re.compile(r"N°\s+Candidat\s+B1\s+B2\s+B3\s+B4\s+Titre")
    table_pages = [n for n in range(1, len(pictures) + 1) if "Candidat·e" in read.text(pdf, page=n)]
    assert len(table_pages) >= 2
    for number in table_pages:
        assert header.search(read.text(pdf, page=number, layout=True)), f"page {number}"
    whole = read.text(pdf)
    for n in range(4, 44):
        assert whole.count(f"Candidat·e numéro {n:03d}") == 1, n  # every row, none cut in two
    assert "page 1 / " in whole
    assert read.words_off_the_page(read.layout(pdf)) == []


def test_the_decision_in_force_is_the_latest_one_no_correction_supersedes(
    db: Session, jury: Jury
) -> None:
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    current = {
        (candidate, scope, code): decision
        for candidate, by_key in session_decisions(db, session).items()
        for (scope, code), decision in by_key.items()
    }
    bastien = db.scalars(
        sa.select(Candidate.id).where(Candidate.learner_id == jury.learner_ids[1])
    ).one()
    in_force = current[(bastien, "bloc", "B4")]
    assert in_force.is_validated
    assert in_force.reasons == "Pièce retrouvée : dossier complet."
    refused = db.get(JuryDecision, in_force.supersedes_id)
    assert refused is not None
    assert not refused.is_validated  # it stays in the record, dated, but is not in force
    assert refused not in current.values()
    # Ten decisions of three candidates are in force: 5 + 4 + 1.
    assert len(current) == 10


def test_a_session_without_candidates_or_jury_prints_its_empty_minutes(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    session = session_with_jury(db, place="")
    session.members.clear()
    session.status, session.signed_at = SessionStatus.SIGNED, None  # signed, time unknown
    db.flush()
    pdf = minutes_of(db, Jury(session.id), settings, tmp_path, "empty.pdf")
    text = read.flat(read.text(pdf))
    assert "Aucun candidat." in text
    assert "Procès-verbal signé." in text
    assert "Fait le 18 juin 2026." in text
    totals = read.text(pdf, layout=True)
    assert re.search(r"Candidats.*Rectifications\s+0(\s+0){6}\s", totals, re.DOTALL)
