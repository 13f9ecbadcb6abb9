"""Fixtures of the PDF tests: the tools, the certifier's settings, a session of rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.certification import documents
from lti_tool.certification.models import CertificationSession, IssuedCredential
from lti_tool.config import CertifierSettings, Settings
from lti_tool.db import Database
from tests.lti_tool.certification import pdf_reading as read
from tests.lti_tool.certification.pdf_rows import Jury, demo_jury

CERTIFIER = "École supérieure du numérique de Lyon"


@pytest.fixture(autouse=True)
def pdf_tools() -> None:
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


def write(tmp_path: Path, name: str, pdf: bytes) -> Path:
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def credential_of(db: Session, jury: Jury, person: int, code: str) -> IssuedCredential:
    public_id = jury.credentials[(jury.learner_ids[person - 1], code)]
    return db.scalars(
        sa.select(IssuedCredential).where(IssuedCredential.public_id == public_id)
    ).one()


def minutes_of(db: Session, jury: Jury, settings: Settings, tmp_path: Path, name: str) -> Path:
    session = db.get(CertificationSession, jury.session_id)
    assert session is not None
    return write(tmp_path, name, documents.minutes_pdf(db, session, settings))
