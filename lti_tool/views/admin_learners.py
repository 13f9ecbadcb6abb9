"""Admin page of a person's rights: export their data, erase it, see the erasures done.

The person is named in the body of a POST, never in a URL: addresses end in access logs.
Erasing takes two steps, the second on a page that says what will go and what will stay.
"""

from __future__ import annotations

import datetime as dt
import tempfile

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool.auth import admin_required
from lti_tool.db import db_session
from lti_tool.evaluation.files import file_storage
from lti_tool.evaluation.models import Evaluation, Submission
from lti_tool.models import LtiUser, Platform
from lti_tool.privacy.erase import ErasureRequest, erase
from lti_tool.privacy.export import write_zip
from lti_tool.privacy.models import Erasure
from lti_tool.privacy.person import UnknownPerson, find_person, person_statements

blueprint = Blueprint("admin_learners", __name__, url_prefix="/admin/personnes")
# An export larger than this goes to a temporary file rather than memory.
SPOOL_BYTES = 16 * 1024 * 1024


@blueprint.get("/")
@admin_required
def index() -> str:
    """Show the forms (export, erase) and the register of erasures."""
    return _page()


@blueprint.post("/export")
@admin_required
def export() -> Response:
    """Send the person's archive (ZIP)."""
    person = _person()
    now = dt.datetime.now(dt.UTC)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (send_file closes it)
    write_zip(db_session(), person, file_storage(), out, now)
    out.seek(0)
    return send_file(
        out,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"jalon-donnees-personne-{now:%Y%m%d-%H%M%S}.zip",
    )


@blueprint.post("/effacer")
@admin_required
def confirm_erasure() -> str:
    """Ask before erasing: say what goes and what stays."""
    session = db_session()
    person = _person()
    mine = sa.select(Submission.id).where(Submission.learner_id == person.id)
    published = sa.select(sa.func.count()).where(
        Evaluation.submission_id.in_(mine), Evaluation.status == "published"
    )
    return render_template(
        "admin/learner_erase.html",
        person=person,
        submissions=session.scalar(sa.select(sa.func.count()).select_from(mine.subquery())),
        published=session.scalar(published),
        statements=len(person_statements(session, person)),
        keep_decisions=current_app.config["JALON"].erasure_keep_decisions,
    )


@blueprint.post("/effacer/confirmer")
@admin_required
def erase_person() -> Response:
    """Erase the person; files go once the request's transaction commits."""
    settings = current_app.config["JALON"]
    session = db_session()
    person = _person(lock=True)
    erasure = ErasureRequest(
        keep_decisions=settings.erasure_keep_decisions,
        requested_by=request.form.get("requested_by", ""),
        channel="admin",
        base_url=settings.base_url,
        secret_key=settings.secret_key,
    )
    report = erase(session, person, file_storage(), erasure, dt.datetime.now(dt.UTC))
    flash(_("Effacement n° %(id)d enregistré.", id=report.erasure_id))
    return redirect(url_for(".index"))


def _person(*, lock: bool = False) -> LtiUser:
    """Return the person the form names, or a 404 page that changes nothing."""
    try:
        return find_person(
            db_session(), request.form.get("issuer", ""), request.form.get("sub", ""), lock=lock
        )
    except UnknownPerson:
        abort(404, description=_("Aucune personne de cette plateforme n’a cet identifiant (sub)."))


def _page() -> str:
    session = db_session()
    issuers = session.scalars(sa.select(Platform.issuer).distinct().order_by(Platform.issuer))
    erasures = session.scalars(sa.select(Erasure).order_by(Erasure.id.desc()).limit(50))
    return render_template(
        "admin/learners.html",
        issuers=list(issuers),
        erasures=list(erasures),
        keep_decisions=current_app.config["JALON"].erasure_keep_decisions,
    )
