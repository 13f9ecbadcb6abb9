"""The API's routes: parse the query, check access, read, dump. JSON always, errors too."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response, abort, jsonify, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from lti_tool.api import schemas
from lti_tool.api.access import Caller, caller, open_context, open_learner, require_staff
from lti_tool.api.queries import course_framework, published_evaluations
from lti_tool.db import db_session
from lti_tool.evaluation.matrix import Matrix, MatrixFilters, Sort, class_matrix
from lti_tool.evaluation.record import learner_record
from lti_tool.lti.session import PARAM
from lti_tool.views.errors import with_error_headers
from referentiel.rules import Status

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
OPENAPI = Path(__file__).resolve().parent / "openapi.yaml"
# Parameters any page of Jalon accepts: never an unknown filter.
SHARED_PARAMS = frozenset({PARAM, "lang"})


@blueprint.get("/contexts/<int:context_id>/learners/<int:learner_id>/progress")
def learner_progress(context_id: int, learner_id: int) -> Response:
    """Return one learner's progress in a course."""
    who = caller()
    query = _query(schemas.ProgressQuery())
    session = db_session()
    open_context(session, who, context_id)
    open_learner(session, who, context_id, learner_id)
    return _progress(who, context_id, learner_id, query.get("framework"))


@blueprint.get("/me/progress")
def my_progress() -> Response:
    """Return the launched user's own progress in the course they launched from."""
    who = caller()
    query = _query(schemas.ProgressQuery())
    if who.is_admin or who.context_id is None or who.user_id is None:
        abort(
            403,
            description=_("Réservé à une session LTI : l’administrateur n’a pas de progression."),
        )
    return _progress(who, who.context_id, who.user_id, query.get("framework"))


@blueprint.get("/contexts/<int:context_id>/matrix")
def matrix(context_id: int) -> Response:
    """Return the class matrix of a course (staff and administrator)."""
    who = caller()
    query = _query(schemas.MatrixQuery())
    session = db_session()
    open_context(session, who, context_id)
    require_staff(who)
    framework = course_framework(session, context_id, query.get("framework"), who.custom)
    filters = MatrixFilters(
        bloc=query.get("bloc"),
        status=Status(query["status"]) if "status" in query else None,
        group=query.get("group"),
        sort=Sort(query["sort"]),
        sort_bloc=query.get("sort_bloc"),
        descending=query["descending"],
    )
    for name in ("bloc", "sort_bloc"):
        if query.get(name) is not None and query[name] not in {b.code for b in framework.blocs}:
            raise ValidationError({name: ["Unknown bloc of this framework."]})
    return _json(
        schemas.MatrixOut(),
        _matrix_document(context_id, class_matrix(session, context_id, framework, filters)),
    )


@blueprint.get("/contexts/<int:context_id>/evaluations")
def evaluations(context_id: int) -> Response:
    """Return a course's published evaluations; a learner gets only their own."""
    who = caller()
    query = _query(schemas.EvaluationsQuery())
    session = db_session()
    open_context(session, who, context_id)
    learner_id = query.get("learner")
    if not (who.is_admin or who.is_staff):
        if learner_id not in {None, who.user_id}:
            abort(403, description=_("Un apprenant ne consulte que ses propres résultats."))
        learner_id = who.user_id
    found = published_evaluations(
        session,
        context_id,
        learner_id=learner_id,
        epreuve=query.get("epreuve"),
        since=query.get("since"),
        limit=query["limit"],
        offset=query["offset"],
    )
    page = {"context_id": context_id, "limit": query["limit"], "offset": query["offset"]}
    return _json(schemas.EvaluationsOut(), {**page, "evaluations": found})


@blueprint.get("/openapi.yaml")
def openapi_yaml() -> Response:
    """Serve the API's description as written."""
    return Response(OPENAPI.read_bytes(), mimetype="application/yaml")


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    """Serve the API's description as JSON."""
    return jsonify(openapi_document())


@functools.cache
def openapi_document() -> dict[str, Any]:
    """Return the API's OpenAPI document, parsed once."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return document


@blueprint.after_request
def _no_store(response: Response) -> Response:
    # Answers name learners and their results: no shared cache may keep them.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@blueprint.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> tuple[Response, int]:
    messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
    title = _("Requête invalide")
    return jsonify(error={"status": 400, "title": title}, errors=messages), 400


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[Response, int]:
    code = error.code or 500
    response = with_error_headers(
        jsonify(error={"status": code, "title": error.name, "detail": error.description}), error
    )
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="jalon"'
    return response, code


# -- reading --------------------------------------------------------------------------------


def _query(schema: Schema) -> dict[str, Any]:
    """Load the query string (bar Jalon's shared parameters), or raise a 400."""
    given = {k: v for k, v in request.args.items() if k not in SHARED_PARAMS}
    loaded: dict[str, Any] = schema.load(given)
    return loaded


def _progress(who: Caller, context_id: int, learner_id: int, code: str | None) -> Response:
    session = db_session()
    framework = course_framework(session, context_id, code, who.custom)
    record = learner_record(session, context_id, learner_id, framework)
    return _json(schemas.ProgressOut(), record)


def _matrix_document(context_id: int, matrix: Matrix) -> dict[str, Any]:
    columns = {bloc.code: [c.code for c in bloc.competencies] for bloc in matrix.blocs}
    return {
        "context_id": context_id,
        "framework": {"code": matrix.framework.code, "title": matrix.framework.identity.title},
        "blocs": [
            {"code": bloc.code, "title": bloc.title, "competencies": columns[bloc.code]}
            for bloc in matrix.blocs
        ],
        "learner_count": matrix.learner_count,
        "rows": [
            {
                "learner_id": row.learner.id,
                "name": row.learner.display_name,
                "certification": row.certification,
                "acquired": row.acquired,
                "blocs": [
                    {
                        "code": bloc.code,
                        "status": bloc.status,
                        "acquired": bloc.acquired,
                        "competencies": dict(
                            zip(columns[bloc.code], bloc.competencies, strict=True)
                        ),
                    }
                    for bloc in row.blocs
                ],
            }
            for row in matrix.rows
        ],
    }


def _json(schema: Schema, value: Any) -> Response:
    return jsonify(schema.dump(value))
