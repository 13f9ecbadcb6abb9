"""The certification's PDFs over HTTP: the jury's minutes, a credential's certificate.

Administrators download the procès-verbal of any session and the document of any
credential; a learner downloads the documents of their own credentials only, from their
LTI session (another learner's is a 404, as if it did not exist). A revoked credential's
document is gone (410, with the reason); a server without WeasyPrint's libraries says
which are missing (503). Every PDF is personal: ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import NoReturn

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool.auth import admin_required
from lti_tool.certification import documents
from lti_tool.certification.models import CertificationSession, DecisionScope, IssuedCredential
from lti_tool.config import Settings
from lti_tool.db import db_session
from lti_tool.lti import session

blueprint = Blueprint("certification_documents", __name__)
log = logging.getLogger(__name__)


@blueprint.get("/admin/certification/sessions/<int:session_id>/proces-verbal.pdf")
@admin_required
def minutes(session_id: int) -> Response:
    """Download a session's procès-verbal (marked PROJET until the session is signed)."""
    _require_libraries()
    jury = db_session().get(CertificationSession, session_id)
    if jury is None:
        abort(404, description=_("Aucune session de certification n’a ce numéro."))
    return _pdf(
        lambda: documents.minutes_pdf(db_session(), jury, _settings(), locale=_locale()),
        f"proces-verbal-session-{jury.id}.pdf",
    )


@blueprint.get("/admin/certification/documents/<public_id>.pdf")
@admin_required
def credential_for_admin(public_id: str) -> Response:
    """Download any credential's certificate (a bloc) or parchment (the title)."""
    _require_libraries()
    return _credential_pdf(_credential(public_id))


@blueprint.get("/certification/documents/<public_id>.pdf")
@session.learner_required
def credential_for_learner(public_id: str) -> Response:
    """Download the launched learner's own certificate or parchment; 404 for any other."""
    _require_libraries()
    credential = _credential(public_id)
    launch = session.current()
    if launch is None or credential.learner_id != launch.user_pk:
        abort(404, description=_("Aucun document de certification à cette adresse."))
    return _credential_pdf(credential)


def _credential(public_id: str) -> IssuedCredential:
    """Return the credential a URL names, or a 404 page (also for what is not a UUID)."""
    try:
        # The one spelling Jalon prints (lowercase, hyphens): one address per document.
        wanted = public_id if str(uuid.UUID(public_id)) == public_id else None
    except ValueError:
        wanted = None
    found = wanted and db_session().scalar(
        sa.select(IssuedCredential).where(IssuedCredential.public_id == wanted)
    )
    if not found:
        abort(404, description=_("Aucun document de certification à cette adresse."))
    return found


def _credential_pdf(credential: IssuedCredential) -> Response:
    kind = "parchemin" if credential.scope == DecisionScope.TITLE else "certificat"
    code = re.sub(r"[^A-Za-z0-9]+", "-", credential.code).strip("-")[:40] or "titre"
    return _pdf(
        lambda: documents.credential_pdf(db_session(), credential, _settings(), locale=_locale()),
        f"{kind}-{code}-{credential.public_id[:8]}.pdf",
    )


def _pdf(make: Callable[[], bytes], filename: str) -> Response:
    """Answer with the PDF ``make`` prints, or with the page that says why it cannot."""
    try:
        body = make()
    except documents.RevokedCredentialError as revoked:
        page = render_template("certification/pdf/revoked.html", reason=revoked.reason)
        return Response(page, 410, content_type="text/html; charset=utf-8")
    except documents.PdfUnavailableError as missing:
        _unavailable(str(missing))
    except documents.UnknownFrameworkError as gone:
        abort(404, description=_("Le référentiel %(code)s n’est plus installé.", code=str(gone)))
    except documents.NotPrintableError:
        abort(404, description=_("Ce justificatif n’a pas de document à imprimer."))
    response = Response(body, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _require_libraries() -> None:
    """Answer 503 before reading anything when this server cannot print PDFs."""
    missing = documents.missing_libraries()
    if missing:
        _unavailable(missing)


def _unavailable(missing: str) -> NoReturn:
    log.warning("certification documents: PDF libraries missing (%s)", missing)
    abort(
        503,
        description=_(
            "Ce serveur ne peut pas produire de PDF : il lui manque %(missing)s. "
            "L’administrateur du serveur doit l’installer.",
            missing=missing,
        ),
    )


def _settings() -> Settings:
    settings: Settings = current_app.config["JALON"]
    return settings


def _locale() -> str:
    return str(get_locale() or "fr")
