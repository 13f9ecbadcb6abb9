"""The épreuve picker (Deep Linking 2.0): choose, narrow, and return to the platform."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from lti_tool import csrf
from lti_tool.db import db_session, utcnow
from lti_tool.evaluation.placement import next_number, record_placement
from lti_tool.frameworks import current_records, framework_of
from lti_tool.lti import deep_linking, services, session
from lti_tool.lti.deep_linking import DeepLinkingRefused, DeepLinkingSettings
from lti_tool.lti.launch import LAUNCH_TTL
from lti_tool.views import headers
from lti_tool.views.errors import wants_json
from referentiel.model import Framework

log = logging.getLogger(__name__)
blueprint = Blueprint("deep_linking", __name__, url_prefix="/lti")
# Fields of the picker's form that are not the choice itself.
TRANSPORT_FIELDS = frozenset({session.PARAM, csrf.FIELD})


def answered_key(launch_id: str) -> str:
    """Return the store key that marks a deep-linking launch as answered."""
    return f"deep-link-answered:{launch_id}"


def _frameworks() -> dict[str, Framework]:
    frameworks = (framework_of(record) for record in current_records(db_session()))
    return {framework.code: framework for framework in frameworks}


def _settings() -> tuple[session.LaunchSession, DeepLinkingSettings]:
    launch = session.current()
    assert launch is not None  # noqa: S101 (staff_required)
    return launch, deep_linking.read_settings(launch.message_type, launch.claims)


def _form_fields(form: MultiDict[str, str]) -> dict[str, Any]:
    """Return the posted choice: repeated fields as lists, ``competencies`` always a list."""
    fields: dict[str, Any] = {"competencies": []}
    for name in form:
        if name in TRANSPORT_FIELDS:
            continue
        values = form.getlist(name)
        fields[name] = values if name == "competencies" or len(values) > 1 else values[0]
    return fields


def _picker(
    settings: DeepLinkingSettings,
    errors: dict[str, Any] | None = None,
    chosen: dict[str, Any] | None = None,
) -> str:
    return render_template(
        "lti/deep_linking.html",
        settings=settings,
        frameworks=list(_frameworks().values()),
        errors=errors or {},
        chosen=chosen or {},
    )


@blueprint.get("/selection")
@session.staff_required
def picker() -> str:
    """Show the épreuves an instructor may place, each with its competencies to narrow."""
    _launch, settings = _settings()
    return _picker(settings)


@blueprint.post("/selection")
@session.staff_required
def choose() -> Response | str | tuple[Response | str, int]:
    """Validate the choice and auto-post the signed deep-linking response to the platform."""
    launch, settings = _settings()
    fields = _form_fields(request.form)
    try:
        choice = deep_linking.load_choice(fields, _frameworks())
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        if wants_json():
            return jsonify(error={"status": 400, "fields": errors}), 400
        return _picker(settings, errors, fields), 400
    if not services().store().add(answered_key(launch.launch_id), "1", LAUNCH_TTL):
        raise DeepLinkingRefused("DL_ALREADY_ANSWERED")
    if launch.context_pk is not None:  # a second placement of the same épreuve gets a number
        choice = replace(choice, number=next_number(db_session(), launch.context_pk, choice.custom))
    launch_url = str(current_app.config["JALON"].base_url) + url_for("lti.launch")
    item = deep_linking.content_item(choice, settings, launch_url)
    claims = deep_linking.response_claims(
        client_id=launch.client_id,
        issuer=launch.issuer,
        deployment_id=launch.deployment_id,
        settings=settings,
        items=[item],
    )
    token = deep_linking.sign(db_session(), claims)
    if launch.context_pk is not None:  # the course is known before anyone launches the link
        record_placement(db_session(), launch.context_pk, item["custom"], utcnow())
    log.info("deep linking: %s %s returned to the platform", choice.framework.code, item["title"])
    headers.allow_form_action(settings.return_url)  # the auto-post goes back to the platform
    return render_template(
        "lti/deep_linking_return.html", return_url=settings.return_url, jwt=token, choice=choice
    )


@blueprint.errorhandler(DeepLinkingRefused)
def _refused(exc: DeepLinkingRefused) -> tuple[Response | str, int]:
    log.warning("deep linking refused: %s", exc.code)
    if wants_json():
        body = {"status": exc.status, "code": exc.code, "title": str(exc.reason.title)}
        return jsonify(error=body), exc.status
    return render_template(
        "lti/rejected.html", code=exc.code, reason=exc.reason, detail=exc.detail, status=exc.status
    ), exc.status
