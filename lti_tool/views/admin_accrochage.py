"""Admin pages of the accrochage file: each signed session's holders, problems, and file.

The file is built and validated on each request (it holds a new ``idFlux`` every time) and
is offered only when nothing stops it; otherwise the page lists, per candidate and per
field, what is missing or invalid. A newer XSD from the Caisse's portal may be uploaded to
validate against it instead of the shipped 1.1.2.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template
from flask import request as http_request
from flask_babel import gettext as _
from lxml import etree
from werkzeug.wrappers import Response

from lti_tool.auth import admin_required
from lti_tool.certification.accrochage import (
    Certifier,
    Issue,
    Outcome,
    Problem,
    SchemaError,
    UnknownSessionError,
    declare,
    load_schema,
)
from lti_tool.certification.accrochage.gather import Declaration
from lti_tool.certification.accrochage.xsd import MAX_XSD_BYTES
from lti_tool.certification.models import CertificationSession
from lti_tool.db import db_session
from lti_tool.people import display_name

blueprint = Blueprint("admin_accrochage", __name__, url_prefix="/admin/certification/accrochage")


@blueprint.get("/")
@admin_required
def index() -> str:
    """List the sessions, signed first, with a link to each one's file."""
    sessions = db_session().scalars(
        sa.select(CertificationSession).order_by(
            CertificationSession.jury_date.desc(), CertificationSession.id.desc()
        )
    )
    return render_template("certification/accrochage/index.html", sessions=list(sessions))


@blueprint.get("/sessions/<int:session_id>")
@admin_required
def session_page(session_id: int) -> str:
    """Show the holders the file declares and every problem that stops it."""
    declaration, outcome = _declare(session_id, load_schema())
    return _page(declaration, outcome, xsd_name=None)


@blueprint.get("/sessions/<int:session_id>/accrochage.xml")
@admin_required
def download(session_id: int) -> Response | tuple[str, int]:
    """Send the validated file, or answer 422 with the page that lists the problems."""
    declaration, outcome = _declare(session_id, load_schema())
    return _file_or_problems(declaration, outcome, xsd_name=None)


@blueprint.post("/sessions/<int:session_id>/accrochage.xml")
@admin_required
def download_with_xsd(session_id: int) -> Response | tuple[str, int]:
    """Validate against an uploaded XSD (the Caisse's current one), then send the file."""
    upload = http_request.files.get("xsd")
    if upload is None or not upload.filename:
        abort(400, description=_("Champ xsd : choisissez le fichier XSD à utiliser."))
    data = upload.stream.read(MAX_XSD_BYTES + 1)
    try:
        schema = load_schema(data)
    except SchemaError as exc:
        abort(
            400,
            description=_(
                "Champ xsd : ce fichier n’est pas un XSD utilisable (%(reason)s).", reason=str(exc)
            ),
        )
    declaration, outcome = _declare(session_id, schema)
    return _file_or_problems(declaration, outcome, xsd_name=upload.filename)


def _declare(session_id: int, schema: etree.XMLSchema) -> tuple[Declaration, Outcome]:
    settings = current_app.config["JALON"]
    certifier = Certifier(settings.certifier.id_client, settings.certifier.id_contrat)
    try:
        return declare(
            db_session(),
            session_id,
            certifier,
            settings.base_url,
            schema,
            name_of=lambda user: display_name(user, user.sub),
        )
    except UnknownSessionError:
        abort(404, description=_("Aucune session de certification n’a ce numéro."))


def _file_or_problems(
    declaration: Declaration, outcome: Outcome, xsd_name: str | None
) -> Response | tuple[str, int]:
    if outcome.document is None:
        return _page(declaration, outcome, xsd_name), 422
    response = Response(outcome.document, mimetype="application/xml")
    name = (
        f"accrochage-session-{declaration.session.id}-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.xml"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(declaration: Declaration, outcome: Outcome, xsd_name: str | None) -> str:
    return render_template(
        "certification/accrochage/session.html",
        session=declaration.session,
        holders=declaration.flux.holders,
        problems=[(problem, problem_text(problem)) for problem in outcome.problems],
        is_valid=outcome.is_valid,
        xsd_name=xsd_name,
        max_xsd_mb=MAX_XSD_BYTES // (1024 * 1024),
    )


def problem_text(problem: Problem) -> str:
    """Return why the field is refused, in the reader's language."""
    detail = problem.detail
    texts = {
        Issue.MISSING: _("obligatoire, et absent"),
        Issue.XML_CHARACTER: _(
            "contient un caractère que XML 1.0 ne peut pas porter (%(char)s)", char=detail
        ),
        Issue.TOO_LONG: _("dépasse %(limit)s caractères", limit=detail),
        Issue.WRONG_LENGTH: _("doit compter exactement %(length)s caractères", length=detail),
        Issue.NOT_ALLOWED: _("doit être l’une des valeurs : %(values)s", values=detail),
        Issue.OUT_OF_RANGE: _(
            "hors des bornes (%(bounds)s)", bounds=detail.replace(" and ", " – ")
        ),
        Issue.INVALID_DATE: _("date impossible (%(date)s)", date=detail),
        Issue.NO_RNCP: _(
            "le référentiel ne donne pas de code RNCP pour %(code)s : ajoutez-y « rncp »",
            code=detail,
        ),
        Issue.NOT_SIGNED: _(
            "le procès-verbal de la session n’est pas signé : ses décisions ne sont pas définitives"
        ),
        Issue.NO_HOLDER: _(
            "aucun candidat n’a de titre ni de bloc validé par une décision définitive"
        ),
        Issue.UNKNOWN_FRAMEWORK: _("le référentiel %(code)s n’est pas installé", code=detail),
        Issue.XSD: _("refusé par le XSD : %(message)s", message=detail),
    }
    return texts[problem.issue]
