"""Certificates and parchments as a reader sees them: holder, bloc, jury, QR code.

Printed from the rows an issued credential would have, read back with poppler and zbar
(``zbarimg``): the QR code holds the verification address, a very long name stays on its
page above the verification block, and what must not be printed is refused.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification import documents
from lti_tool.certification.documents import minutes
from lti_tool.certification.links import verification_url
from lti_tool.certification.models import CertificationSession
from lti_tool.config import Settings
from lti_tool.db import utcnow
from lti_tool.frameworks import import_framework
from lti_tool.models import FrameworkRecord
from tests.lti_tool.certification import pdf_reading as read
from tests.lti_tool.certification.pdf_fixtures import (
    CERTIFIER,
    credential_of,
    db,
    jury,
    pdf_tools,
    settings,
    write,
)
from tests.lti_tool.certification.pdf_rows import ACCENTED, FRAMEWORK, LONG_NAME, Jury

__all__ = ["db", "jury", "pdf_tools", "settings"]


def test_a_certificate_names_the_holder_the_bloc_its_competencies_and_the_jury(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path
) -> None:
    credential = credential_of(db, jury, 1, "B2")
    pdf = write(tmp_path, "certificat.pdf", documents.certificate_pdf(db, credential, settings))
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
    credential = credential_of(db, jury, 3, "B2")
    pdf = write(tmp_path, "long.pdf", documents.certificate_pdf(db, credential, settings))
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
    credential = credential_of(db, jury, 1, FRAMEWORK)
    pdf = write(tmp_path, "parchemin.pdf", documents.parchment_pdf(db, credential, settings))
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
    pv = write(tmp_path, "en.pdf", documents.minutes_pdf(db, session, settings, locale="en"))
    text = read.flat(read.text(pv))
    assert "Minutes of the certification jury" in text
    assert "DRAFT" in text
    assert "June 18, 2026" in text or "18 June 2026" in text
    certificate = credential_of(db, jury, 1, "B1")
    pdf = documents.certificate_pdf(db, certificate, settings, locale="en")
    assert "Certificate of achievement" in read.text(write(tmp_path, "c-en.pdf", pdf))


def test_the_rncp_code_is_printed_once_the_referentiel_has_one(
    db: Session, jury: Jury, settings: Settings, tmp_path: Path
) -> None:
    # The certifier's copy of the référentiel names its RNCP code (the shipped one has none).
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    framework = minutes.session_framework(db, session)
    identity = dataclasses.replace(framework.identity, rncp="RNCP37714", version="1.0-rncp")
    import_framework(db, dataclasses.replace(framework, identity=identity))
    session.framework_version = "1.0-rncp"
    db.flush()
    pv = write(tmp_path, "rncp.pdf", documents.minutes_pdf(db, session, settings))
    assert "code RNCP RNCP37714" in read.flat(read.text(pv))
    certificate = documents.certificate_pdf(db, credential_of(db, jury, 1, "B1"), settings)
    assert "RNCP37714" in read.text(write(tmp_path, "c.pdf", certificate))


def test_what_is_not_printed(db: Session, jury: Jury, settings: Settings) -> None:
    title = credential_of(db, jury, 1, FRAMEWORK)
    with pytest.raises(documents.NotPrintableError):
        documents.certificate_pdf(db, title, settings)
    with pytest.raises(documents.NotPrintableError):
        documents.parchment_pdf(db, credential_of(db, jury, 1, "B1"), settings)
    revoked = credential_of(db, jury, 1, "B3")
    revoked.revoked_at, revoked.revocation_reason = utcnow(), "Fraude constatée à l’épreuve E2."
    with pytest.raises(documents.RevokedCredentialError) as raised:
        documents.credential_pdf(db, revoked, settings)
    assert raised.value.reason == "Fraude constatée à l’épreuve E2."
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    db.execute(sa.delete(FrameworkRecord))
    with pytest.raises(documents.UnknownFrameworkError):
        documents.minutes_pdf(db, session, settings)
