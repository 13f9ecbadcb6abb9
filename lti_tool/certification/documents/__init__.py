"""The certification's printed documents: the jury's minutes, certificates, parchments.

- :func:`minutes_pdf`: the *procès-verbal de jury* of a session — certifier, référentiel,
  jury, every candidate's decisions per bloc and for the title with their reasons, the
  dated corrections, totals and a signature box per member; "PROJET" across every page
  until the session is signed;
- :func:`certificate_pdf`: the *certificat de réussite* of one validated bloc;
- :func:`parchment_pdf`: the *parchemin* of the whole title.

Certificates and parchments carry a QR code of their public verification page
(:func:`lti_tool.certification.links.verification_url`) and that address in text. They
need no request: pages and commands print the same bytes. Each raises a
:class:`~lti_tool.certification.documents.errors.DocumentError` for what cannot be
printed — WeasyPrint missing, the référentiel gone, a revoked credential.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.certification.documents import awards, minutes
from lti_tool.certification.documents.errors import (
    DocumentError,
    NotPrintableError,
    PdfUnavailableError,
    RevokedCredentialError,
    UnknownFrameworkError,
)
from lti_tool.certification.documents.render import missing_libraries, render_html, write_pdf
from lti_tool.certification.models import CertificationSession, DecisionScope, IssuedCredential
from lti_tool.config import Settings

__all__ = [
    "DocumentError",
    "NotPrintableError",
    "PdfUnavailableError",
    "RevokedCredentialError",
    "UnknownFrameworkError",
    "certificate_pdf",
    "credential_pdf",
    "minutes_html",
    "minutes_pdf",
    "missing_libraries",
    "parchment_pdf",
]


def minutes_html(
    db: Session, session: CertificationSession, settings: Settings, *, locale: str | None = None
) -> str:
    """Return the HTML the procès-verbal of ``session`` is printed from."""
    record = minutes.gather(db, session, settings.certifier)
    return render_html("minutes.html", locale, minutes=record)


def minutes_pdf(
    db: Session, session: CertificationSession, settings: Settings, *, locale: str | None = None
) -> bytes:
    """Return the procès-verbal de jury of ``session`` as PDF (a draft until it is signed)."""
    if missing := missing_libraries():
        raise PdfUnavailableError(missing)  # before reading anything
    return write_pdf(minutes_html(db, session, settings, locale=locale))


def certificate_pdf(
    db: Session, credential: IssuedCredential, settings: Settings, *, locale: str | None = None
) -> bytes:
    """Return the certificat de réussite of a validated bloc's credential as PDF."""
    award = awards.gather(db, credential, settings, DecisionScope.BLOC)
    return write_pdf(render_html("certificate.html", locale, award=award))


def parchment_pdf(
    db: Session, credential: IssuedCredential, settings: Settings, *, locale: str | None = None
) -> bytes:
    """Return the parchemin of a title's credential as PDF."""
    award = awards.gather(db, credential, settings, DecisionScope.TITLE)
    return write_pdf(render_html("parchment.html", locale, award=award))


def credential_pdf(
    db: Session, credential: IssuedCredential, settings: Settings, *, locale: str | None = None
) -> bytes:
    """Return the document of any credential: a bloc's certificate or the title's parchment."""
    if credential.scope == DecisionScope.TITLE:
        return parchment_pdf(db, credential, settings, locale=locale)
    return certificate_pdf(db, credential, settings, locale=locale)
