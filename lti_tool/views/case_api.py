"""The CASE 1.1 provider API, at ``/ims/case/v1p1``: the installed référentiels, read-only.

The endpoints and answers are those of the 1EdTech CASE Service REST/JSON binding 1.1, so a
CASE consumer (an LMS, a curriculum tool) reads Jalon's référentiels directly: the document
list, a whole package, a document, an item, an association, an item with its associations,
a rubric (an épreuve), and the definitions endpoints. Single objects come bare, sets in
their wrapper (``{"CFDocuments": [...]}``, ``{"CFItem": ..., "CFAssociations": [...]}``).
Failures are the binding's ``imsx_StatusInfo`` payload: an unknown identifier is 404
``unknownobject``, a malformed one 404 ``invalid_uuid``, a bad query parameter 400 naming it.

Référentiel data is public (the browsable IRIs serve it to anyone), so no session is asked
for; answers may be cached and carry an ETag that changes with any installed version.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from lti_tool.case_provider import (
    CaseIndex,
    Found,
    case_index,
    children,
    document_link,
    dumps,
)
from lti_tool.db import db_session
from lti_tool.views.case_query import DocumentQuery, QueryError, select_documents

log = logging.getLogger(__name__)
PREFIX = "/ims/case/v1p1"
blueprint = Blueprint("case_api", __name__, url_prefix=PREFIX)
MAX_AGE = 300  # seconds a cache may keep an answer before asking again (ETag: cheap 304)
_STATUS_MINOR = {
    400: "invalid_selection_field",
    401: "unauthorised_request",
    403: "forbidden",
    404: "unknownobject",
    405: "unsupported",
    429: "server_busy",
}


class CaseError(Exception):
    """A failure answered with the binding's ``imsx_StatusInfo`` payload."""

    def __init__(self, status: int, minor: str, name: str, description: str) -> None:
        super().__init__(description)
        self.status, self.minor, self.name, self.description = status, minor, name, description


@blueprint.get("/CFDocuments")
def all_documents() -> Response:
    """Answer getAllCFDocuments: every current document, paged, sorted, filtered, projected."""
    try:
        query = DocumentQuery.parse(request.args)
    except QueryError as error:
        raise CaseError(400, error.minor, error.name, error.reason) from error
    index = _index()
    unchanged = _not_modified(index)
    if unchanged is not None:
        return unchanged
    documents = [_document(package) for package in index.packages]
    page, total = select_documents(documents, query)
    response = _answer(index, dumps({"CFDocuments": page}))
    response.headers["X-Total-Count"] = str(total)
    return response


@blueprint.get("/CFDocuments/<sourced_id>")
def document(sourced_id: str) -> Response:
    """Answer getCFDocument: the document alone, with the address of its package."""
    index, identifier = _index(), _identifier(sourced_id)
    package = index.documents.get(identifier)
    if package is None:
        raise _unknown("CFDocument", sourced_id)
    return _serve(index, identifier, lambda: _document(package))


@blueprint.get("/CFPackages/<sourced_id>")
def package(sourced_id: str) -> Response:
    """Answer getCFPackage: the whole package, exactly as the CASE export writes it."""
    index, identifier = _index(), _identifier(sourced_id)
    found = index.documents.get(identifier)
    if found is None:
        raise _unknown("CFPackage", sourced_id)
    return _serve(index, identifier, lambda: found)


@blueprint.get("/CFItems/<sourced_id>")
def item(sourced_id: str) -> Response:
    """Answer getCFItem: a bloc, competency or activity, with the document it belongs to."""
    index, found = _find("CFItems", sourced_id)
    return _serve(index, found.value["identifier"], lambda: _with_document(found))


@blueprint.get("/CFItemAssociations/<sourced_id>")
def item_associations(sourced_id: str) -> Response:
    """Answer getCFItemAssociations: an item and every association it is an end of."""
    index, found = _find("CFItems", sourced_id)
    identifier = found.value["identifier"]
    associations = index.links.get(identifier, [])
    return _serve(
        index,
        identifier,
        lambda: {"CFItem": _with_document(found), "CFAssociations": associations},
    )


@blueprint.get("/CFAssociations/<sourced_id>")
def association(sourced_id: str) -> Response:
    """Answer getCFAssociation: one association, with the document it belongs to."""
    index, found = _find("CFAssociations", sourced_id)
    return _serve(index, found.value["identifier"], lambda: _with_document(found))


@blueprint.get("/CFRubrics/<sourced_id>")
def rubric(sourced_id: str) -> Response:
    """Answer getCFRubric: an épreuve's rubric, its criteria and their levels."""
    index, found = _find("CFRubrics", sourced_id)
    return _serve(index, found.value["identifier"], lambda: found.value)


@blueprint.get("/CFLicenses/<sourced_id>")
def license_(sourced_id: str) -> Response:
    """Answer getCFLicense."""
    index, found = _find("CFLicenses", sourced_id)
    return _serve(index, found.value["identifier"], lambda: found.value)


@blueprint.get("/CFAssociationGroupings/<sourced_id>")
def association_grouping(sourced_id: str) -> Response:
    """Answer getCFAssociationGrouping."""
    index, found = _find("CFAssociationGroupings", sourced_id)
    return _serve(index, found.value["identifier"], lambda: found.value)


@blueprint.get("/CFConcepts/<sourced_id>")
def concept(sourced_id: str) -> Response:
    """Answer getCFConcept: the concept and those below it (a CFConceptSet)."""
    return _definition_set("CFConcepts", sourced_id)


@blueprint.get("/CFSubjects/<sourced_id>")
def subject(sourced_id: str) -> Response:
    """Answer getCFSubject: the subject and those below it (a CFSubjectSet)."""
    return _definition_set("CFSubjects", sourced_id)


@blueprint.get("/CFItemTypes/<sourced_id>")
def item_type(sourced_id: str) -> Response:
    """Answer getCFItemType: the item type and those below it (a CFItemTypeSet)."""
    return _definition_set("CFItemTypes", sourced_id)


@blueprint.errorhandler(CaseError)
def _case_error(error: CaseError) -> Response:
    return _status_info(error.status, error.minor, error.name, error.description)


@blueprint.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """Answer an HTTP error with the binding's ``imsx_StatusInfo`` payload."""
    status = error.code or 500
    minor = _STATUS_MINOR.get(status, "internal_server_error")
    response = _status_info(status, minor, "TargetEndSystem", error.description or error.name)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@blueprint.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return _status_info(500, "internal_server_error", "TargetEndSystem", _("Erreur interne."))


# -- helpers --------------------------------------------------------------------------------


def _index() -> CaseIndex:
    return case_index(db_session(), str(current_app.config["JALON"].base_url))


def _identifier(sourced_id: str) -> str:
    """Return the canonical form of a sourcedId, or answer 404 ``invalid_uuid``."""
    try:
        return str(uuid.UUID(sourced_id))
    except ValueError:
        reason = _("Identifiant invalide (UUID attendu) : « %(id)s ».", id=sourced_id[:100])
        raise CaseError(404, "invalid_uuid", "sourcedId", reason) from None


def _unknown(kind: str, sourced_id: str) -> CaseError:
    reason = _("Aucun objet %(kind)s n’a l’identifiant %(id)s.", kind=kind, id=sourced_id)
    return CaseError(404, "unknownobject", "sourcedId", reason)


def _find(collection: str, sourced_id: str) -> tuple[CaseIndex, Found]:
    index = _index()
    found = index.find(collection, _identifier(sourced_id))
    if found is None:
        raise _unknown(collection[:-1], sourced_id)  # CFItems → CFItem
    return index, found


def _definition_set(collection: str, sourced_id: str) -> Response:
    index, found = _find(collection, sourced_id)
    return _serve(
        index, found.value["identifier"], lambda: {collection: children(collection, found)}
    )


def _document(package: dict[str, Any]) -> dict[str, Any]:
    """Return the package's CFDocument as a CFDocument answer: with its package's URI."""
    document = package["CFDocument"]
    base = str(current_app.config["JALON"].base_url).rstrip("/")
    link = {
        "title": document["title"],
        "identifier": document["identifier"],
        "uri": f"{base}{PREFIX}/CFPackages/{document['identifier']}",
    }
    return {**document, "CFPackageURI": link}


def _with_document(found: Found) -> dict[str, Any]:
    # A copy: the package is shared by every request of this process.
    return {**found.value, "CFDocumentURI": document_link(found.package)}


def _not_modified(index: CaseIndex) -> Response | None:
    if not request.if_none_match.contains(index.etag):
        return None
    response = Response(status=304)
    _cache_headers(response, index)
    return response


def _serve(index: CaseIndex, identifier: str, body: Callable[[], dict[str, Any]]) -> Response:
    """Answer 304 if the client holds this version, else the body, serialised once."""
    unchanged = _not_modified(index)
    if unchanged is not None:
        return unchanged
    return _answer(index, index.text((str(request.endpoint), identifier), body))


def _answer(index: CaseIndex, text: bytes) -> Response:
    response = Response(text, mimetype="application/json")
    _cache_headers(response, index)
    return response


def _cache_headers(response: Response, index: CaseIndex) -> None:
    response.set_etag(index.etag)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    # Public data: browser-side CASE viewers on other origins may read it.
    response.headers["Access-Control-Allow-Origin"] = "*"


def _status_info(status: int, minor: str, name: str, description: str) -> Response:
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": name, "imsx_codeMinorFieldValue": minor}
            ]
        },
    }
    response = Response(json.dumps(body, ensure_ascii=False), status=status)
    response.mimetype = "application/json"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return response
