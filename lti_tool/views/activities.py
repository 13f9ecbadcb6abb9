"""Jalon's activity IRIs of LMS objects, as HTML for people or the xAPI Activity as JSON.

Statements name resource links and courses ``/xapi/activities/<kind>/<uuid>``; each such IRI
answers with the activity's definition, as the statements carry it, and 404 only for an id
Jalon never issued (:mod:`lti_tool.activities`). The jury's statements name their session
``/xapi/activities/certification-sessions/<id>``, which answers once its minutes are signed
(no statement names it before).
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, abort, current_app, jsonify, render_template
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _

from lti_tool.activities import ActivityIndex, ActivityKind
from lti_tool.certification.models import CertificationSession
from lti_tool.db import db_session
from lti_tool.views.errors import wants_json
from xapi.jury import session_activity

blueprint = Blueprint("activities", __name__, url_prefix="/xapi/activities")

_KINDS = "any('resource-links', 'courses')"


@blueprint.get(f"/<{_KINDS}:kind>/<uuid:key>")
def activity(kind: str, key: uuid.UUID) -> Response | str:
    """Describe a resource link or a course that Jalon's statements name."""
    found = _index().find(db_session(), ActivityKind(kind), key)
    if found is None:
        abort(404, description=_("Jalon n’a émis aucune activité à cette adresse."))
    if wants_json():
        response = jsonify(found.definition(_index().base_url))
    else:
        page = render_template(
            "activities/activity.html",
            activity=found,
            is_link=found.kind is ActivityKind.RESOURCE_LINK,
        )
        response = Response(page)
    return _public(response)


@blueprint.get("/certification-sessions/<int:session_id>")
def certification_session(session_id: int) -> Response:
    """Describe a certification session the jury's statements name: framework and date only."""
    session = db_session().get(CertificationSession, session_id)
    if session is None or not session.is_signed:
        abort(404, description=_("Jalon n’a émis aucune activité à cette adresse."))
    definition = session_activity(
        _index().base_url, session.id, session.framework_code, session.jury_date
    )
    if wants_json():
        return _public(jsonify(definition))
    page = render_template(
        "activities/certification_session.html",
        activity=definition,
        framework_code=session.framework_code,
        jury_date=session.jury_date,
    )
    return _public(Response(page))


def _public(response: Response) -> Response:
    # Public metadata of an activity, like the profile: any analytics tool may read it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept"
    return response


@blueprint.record_once
def _create_index(state: BlueprintSetupState) -> None:
    state.app.extensions["jalon.activities"] = ActivityIndex(state.app.config["JALON"].base_url)


def _index() -> ActivityIndex:
    index: ActivityIndex = current_app.extensions["jalon.activities"]
    return index
