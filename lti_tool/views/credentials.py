"""Public pages of the credentials: verify one, the issuer, its keys, its status lists.

No login: a holder hands these addresses to anyone. A public id names a credential only
if it is one Jalon issued (anything else is a 404); the verify form takes a pasted JSON or
an uploaded JSON or baked PNG file (1 MiB at most), and shows each check with its reason.
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from lti_tool import rate_limits
from lti_tool.certification import keys, links, status_lists
from lti_tool.certification.issuer import issuer_profile
from lti_tool.certification.models import IssuedCredential
from lti_tool.certification.ob3 import issuer_profile_document, multikey_document
from lti_tool.certification.verification import (
    MAX_FILE_BYTES,
    PresentedFileError,
    display,
    read_presented,
    state_of,
    verify_document,
)
from lti_tool.config import Settings
from lti_tool.db import db_session, utcnow

blueprint = Blueprint("credentials", __name__)
JSON_LD = "application/ld+json"
# Each verification canonicalizes the JSON-LD it is given (tens of ms of CPU): anyone may
# verify, but not without end from one address.
VERIFICATIONS = rate_limits.Limit("credential-verify", 30, 10 * 60)
PUBLIC_CACHE = "public, max-age=300"


def _settings() -> Settings:
    settings: Settings = current_app.config["JALON"]
    return settings


def _json(document: object, content_type: str = JSON_LD) -> Response:
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2), content_type=content_type
    )
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers run in browsers too
    return response


def find_credential(public_id: str) -> IssuedCredential | None:
    """Return the credential a public id names; None for an unknown or malformed id."""
    try:
        canonical = str(uuid.UUID(public_id))
    except ValueError:
        return None
    if canonical != public_id:
        return None
    return db_session().scalar(
        sa.select(IssuedCredential).where(IssuedCredential.public_id == canonical)
    )


@blueprint.get("/verifier/<public_id>")
def credential(public_id: str) -> str:
    """Show who holds what, from whom, since when, and whether it is still valid."""
    found = find_credential(public_id)
    if found is None:
        abort(404, description=_("Aucun badge délivré par Jalon ne porte cet identifiant."))
    now = utcnow()
    document = json.loads(found.document)
    return render_template(
        "certification/public/credential.html",
        credential=found,
        shown=display(document),
        state=state_of(found, now).value,
        checks=verify_document(db_session(), document, _settings().base_url, now),
        verify_url=links.verification_url(_settings().base_url, found.public_id),
        limit=MAX_FILE_BYTES,
    )


@blueprint.route("/verifier", methods=["GET", "POST"])
def verify_file() -> ResponseReturnValue:
    """Verify a credential someone presents: pasted JSON, or a JSON or baked PNG file."""
    if request.method == "GET":
        return render_template("certification/public/verify.html", limit=MAX_FILE_BYTES)
    wait = rate_limits.count(VERIFICATIONS)
    if wait is not None:
        raise TooManyRequests(
            description=_(
                "Trop de vérifications depuis votre adresse : réessayez dans %(minutes)d minutes.",
                minutes=max(1, -(-wait // 60)),
            ),
            retry_after=wait,
        )
    try:
        if (request.content_length or 0) > MAX_FILE_BYTES + 64 * 1024:
            return _refused("fichier", _("le fichier dépasse 1 Mio."), 413)
        upload = request.files.get("fichier")
        data = upload.read(MAX_FILE_BYTES + 1) if upload and upload.filename else None
    finally:
        # A large upload is spooled to a temporary file: give it back now, whatever happens.
        for stored in request.files.values():
            stored.close()
    try:
        document = read_presented(request.form.get("document", ""), data)
    except PresentedFileError as error:
        return _refused(error.field, _explain(error), error.status)
    now = utcnow()
    return render_template(
        "certification/public/verify.html",
        limit=MAX_FILE_BYTES,
        shown=display(document),
        checks=verify_document(db_session(), document, _settings().base_url, now),
    )


def _explain(error: PresentedFileError) -> str:
    if error.status == 413:
        return _("le fichier dépasse 1 Mio.")
    if str(error) == "empty":
        return _("collez le JSON d’un badge, ou choisissez un fichier.")
    if str(error).startswith("png"):
        return _("cette image PNG ne contient pas de badge lisible.")
    return _("ce n’est ni le JSON d’un badge ni une image PNG de badge.")


def _refused(field: str, message: str, status: int) -> tuple[str, int]:
    return render_template(
        "certification/public/verify.html",
        limit=MAX_FILE_BYTES,
        errors={field: message},
    ), status


@blueprint.get("/certification/emetteur")
def issuer() -> Response:
    """Serve the certifier's Open Badges issuer profile, naming every signing key."""
    settings = _settings()
    methods = [keys.verification_method(settings.base_url, k) for k in keys.all_keys(db_session())]
    return _json(issuer_profile_document(issuer_profile(settings), assertion_methods=methods))


@blueprint.get("/certification/cles/<key_id>")
def key(key_id: str) -> Response:
    """Serve a signing key's Multikey document (current or retired: both still verify)."""
    found = keys.find_key(db_session(), key_id)
    if found is None:
        abort(404, description=_("Aucune clé de signature ne porte cet identifiant."))
    base = _settings().base_url
    return _json(
        multikey_document(
            links.key_url(base, found.key_id), links.issuer_url(base), keys.public_key(found)
        )
    )


@blueprint.get("/certification/statuts/<int:list_id>")
def status_list(list_id: int) -> Response:
    """Serve a signed BitstringStatusListCredential, re-signed only after it changed."""
    found = status_lists.published(db_session(), list_id, _settings().base_url)
    if found is None:
        abort(404, description=_("Aucune liste de statuts ne porte ce numéro."))
    if request.if_none_match.contains(found.etag):
        response = Response(status=304)
    else:
        response = Response(found.body, content_type="application/vc+ld+json")
    response.set_etag(found.etag)
    response.last_modified = found.last_modified
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
