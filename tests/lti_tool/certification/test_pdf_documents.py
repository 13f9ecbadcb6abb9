"""The printed documents as a reader sees them: text, pages, QR codes (issue 14, item 2).

Each PDF is printed from rows a jury session would hold, then read back with poppler
(``pdftotext``, ``pdftoppm``) and zbar (``zbarimg``): the names, decisions and codes are
there, the pages are pictures with nothing off their edges, the QR code holds the
verification address, the draft minutes say PROJET on every page until signed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification import documents
from lti_tool.certification.documents import awards, minutes
from lti_tool.certification.links import verification_url
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    IssuedCredential,
    JuryDecision,
)
from lti_tool.config import CertifierSettings, Settings
from lti_tool.db import Database, utcnow
from lti_tool.models import FrameworkRecord
from tests.lti_tool.certification import pdf_reading as read
from tests.lti_tool.certification.pdf_rows import (
    ACCENTED,
    FRAMEWORK,
    LONG_NAME,
    Jury,
    demo_jury,
    sign,
)

CERTIFIER = "École supérieure du numérique de Lyon"


@pytest.fixture(autouse=True)
def _tools() -> None:
    read.require_pdf_tools()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, certifier=CertifierSettings(name=CERTIFIER, url="https://esn.example.fr")
    )


@pytest.fixture
def db(clean_database: Database) -> Iterator[Session]:
    with clean_database.session() as session:
        yield session


@pytest.fixture
def jury(db: Session) -> Jury:
    return demo_jury(db)


def _write(tmp_path: Path, name: str, pdf: bytes) -> Path:
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def _credential(db: Session, jury: Jury, person: int, code: str) -> IssuedCredential:
    public_id = jury.credentials[(jury.learner_ids[person - 1], code)]
    return db.scalars(
        sa.select(IssuedCredential).where(IssuedCredential.public_id == public_id)
    ).one()


def _minutes(db: Session, jury: Jury, settings: Settings, tmp_path: Path, name: str) -> Path:
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    return _write(tmp_path, name, documents.minutes_pdf(db, session, settings))


def test_the_minutes_print_the_jury_every_decision_and_the_corrections(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path
) -> None:
    pdf = _minutes(db, jury, settings, tmp_path, "pv.pdf")
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
    draft = _minutes(db, jury, settings, tmp_path, "draft.pdf")
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    sign(db, session)
    signed = _minutes(db, jury, settings, tmp_path, "signed.pdf")

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
    pdf = _minutes(db, jury, settings, tmp_path, "pv40.pdf")
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


def test_a_certificate_names_the_holder_the_bloc_its_competencies_and_the_jury(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path
) -> None:
    credential = _credential(db, jury, 1, "B2")
    pdf = _write(tmp_path, "certificat.pdf", documents.certificate_pdf(db, credential, settings))
    url = verification_url(settings.base_url, credential.public_id)
    first = read.flat(read.text(pdf, page=1))
    for expected in (
        CERTIFIER,
        "Certificat de réussite",
        ACCENTED,
        "B2 — Produire et diffuser des contenus engageants",
        "du titre Community Manager — Niveau 6",
        "Décision du jury du 18 juin 2026, Lyon — Campus Part-Dieu.",
        "Président du jury : Hélène Garçon",
        "Délivré par École supérieure du numérique de Lyon le 19 juin 2026.",
    ):
        assert expected in first, expected
    assert url in first.replace(" ", "")  # the address in text, wrapped where it fits
    whole = read.flat(read.text(pdf))
    for code in (f"C2.{n}" for n in range(1, 12)):
        assert code in whole
    assert "Concevoir un planning éditorial structuré" in whole
    pictures = read.pages(pdf, tmp_path, dpi=150)
    assert read.qr_codes(pictures[0]) == [url]
    assert read.words_off_the_page(read.layout(pdf)) == []


def test_a_very_long_name_stays_on_the_certificate_page_above_its_footer(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path
) -> None:
    credential = _credential(db, jury, 3, "B2")
    pdf = _write(tmp_path, "long.pdf", documents.certificate_pdf(db, credential, settings))
    assert read.has(read.text(pdf, page=1), LONG_NAME)
    found = read.layout(pdf)
    first = found.on(1)
    last_word = LONG_NAME.split()[-1]
    name_bottom = max(w.y_max for w in first if w.text == last_word)
    footer_top = min(w.y_min for w in first if w.text in {"Vérifier", "Délivré"})
    assert name_bottom < footer_top
    assert read.words_off_the_page(found) == []
    pictures = read.pages(pdf, tmp_path, dpi=150)
    assert read.qr_codes(pictures[0]) == [verification_url(settings.base_url, credential.public_id)]


def test_the_parchment_of_the_title_is_one_landscape_page_with_its_qr_code(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path
) -> None:
    credential = _credential(db, jury, 1, FRAMEWORK)
    pdf = _write(tmp_path, "parchemin.pdf", documents.parchment_pdf(db, credential, settings))
    whole = read.flat(read.text(pdf))
    for expected in (
        "PARCHEMIN",
        "Community Manager — Niveau 6",
        "Titre de niveau 6",
        "Sur décision du jury de certification du 18 juin 2026, le titre est délivré à",
        ACCENTED,
        "B1 — Élaborer une stratégie de communication digitale adaptée aux objectifs",
        "B4 — Surveiller et améliorer la réputation numérique",
        "Le président du jury Hélène Garçon",
        f"Pour le certificateur {CERTIFIER}",
    ):
        assert expected in whole, expected
    found = read.layout(pdf)
    assert len(found.sizes) == 1
    width, height = found.sizes[0]
    assert width > height
    assert read.words_off_the_page(found) == []
    (picture,) = read.pages(pdf, tmp_path, dpi=150)
    assert read.qr_codes(picture) == [verification_url(settings.base_url, credential.public_id)]


def test_documents_print_in_english_too(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path
) -> None:
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    pv = _write(tmp_path, "en.pdf", documents.minutes_pdf(db, session, settings, locale="en"))
    text = read.flat(read.text(pv))
    assert "Minutes of the certification jury" in text
    assert "DRAFT" in text
    assert "June 18, 2026" in text or "18 June 2026" in text
    certificate = _credential(db, jury, 1, "B1")
    pdf = documents.certificate_pdf(db, certificate, settings, locale="en")
    assert "Certificate of achievement" in read.text(_write(tmp_path, "c-en.pdf", pdf))


def test_the_rncp_code_is_printed_once_the_referentiel_has_one(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Until the référentiel format carries `rncp` (another piece), an identity that has it.
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    framework = minutes.session_framework(db, session)

    @dataclasses.dataclass(frozen=True)
    class WithRncp(type(framework.identity)):  # type: ignore[misc]
        rncp: str = "RNCP37714"

    identity = WithRncp(**dataclasses.asdict(framework.identity))
    with_rncp = dataclasses.replace(framework, identity=identity)
    monkeypatch.setattr(minutes, "session_framework", lambda *_: with_rncp)
    monkeypatch.setattr(awards, "session_framework", lambda *_: with_rncp)
    pv = _write(tmp_path, "rncp.pdf", documents.minutes_pdf(db, session, settings))
    assert "code RNCP RNCP37714" in read.flat(read.text(pv))
    certificate = documents.certificate_pdf(db, _credential(db, jury, 1, "B1"), settings)
    assert "RNCP37714" in read.text(_write(tmp_path, "c.pdf", certificate))


def test_the_decision_in_force_is_the_latest_one_no_correction_supersedes(
    db: Session, jury: Jury
) -> None:
    current = minutes.current_decisions(db, jury.session_id)
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


def test_what_is_not_printed(db: Session, jury: Jury, settings: Settings) -> None:
    title = _credential(db, jury, 1, FRAMEWORK)
    with pytest.raises(documents.NotPrintableError):
        documents.certificate_pdf(db, title, settings)
    with pytest.raises(documents.NotPrintableError):
        documents.parchment_pdf(db, _credential(db, jury, 1, "B1"), settings)
    revoked = _credential(db, jury, 1, "B3")
    revoked.revoked_at, revoked.revocation_reason = utcnow(), "Fraude constatée à l’épreuve E2."
    with pytest.raises(documents.RevokedCredentialError) as raised:
        documents.credential_pdf(db, revoked, settings)
    assert raised.value.reason == "Fraude constatée à l’épreuve E2."
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    db.execute(sa.delete(FrameworkRecord))
    with pytest.raises(documents.UnknownFrameworkError):
        documents.minutes_pdf(db, session, settings)
