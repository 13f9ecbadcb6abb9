"""Progress pages: a learner's own record, staff's view of one learner, the course's settings.

The settings (the combination method, whether teaching assistants evaluate) are the
instructors' alone: an assistant who could change them could lift their own restriction.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, post_load, validate

from lti_tool.db import db_session, utcnow
from lti_tool.evaluation import charts, line_item_placements, status_words
from lti_tool.evaluation.course import (
    choose_method,
    let_teaching_assistants_evaluate,
    teaching_assistants_evaluate,
)
from lti_tool.evaluation.placement import placement_of
from lti_tool.evaluation.progress import CourseMethod, course_method
from lti_tool.evaluation.record import learner_record
from lti_tool.lti import session
from lti_tool.lti.records import AGS_CLAIM
from lti_tool.lti.session import LaunchSession
from lti_tool.models import LtiMembership, Platform
from lti_tool.services.context import context_for_launch
from lti_tool.views.credentials_learner import my_certifications
from referentiel.model import Framework
from referentiel.rules import DEFAULT_MASTERY_COUNT, DEFAULT_WEIGHT, Method

blueprint = Blueprint("progress", __name__)
AVERAGES = frozenset({Method.WEIGHTED_AVERAGE, Method.DECAYING_AVERAGE})
YES, NO = "oui", "non"


@blueprint.get("/progression")
@session.learner_required
def mine() -> str:
    """Show the launched learner their own progress in the course."""
    launch = _launch()
    _columns_placements(launch)
    base_url = current_app.config["JALON"].base_url
    return _record_page(
        launch,
        launch.user_pk,
        mine=True,
        certifications=my_certifications(db_session(), launch.user_pk, base_url),
        certifications_saved=request.args.get("certifications") == "adresse",
        certifications_reissued=int(request.args.get("reemis", "0")[:6] or 0)
        if request.args.get("reemis", "0")[:6].isdigit()
        else 0,
    )


def _columns_placements(launch: LaunchSession) -> None:
    """Learn the épreuves the course's gradebook columns name (see line_item_placements)."""
    ags = launch.claims.get(AGS_CLAIM)
    if (
        launch.context_pk is None
        or not isinstance(ags, dict)
        or not ags.get("lineitems")
        or not line_item_placements.recent.due(launch.context_pk, time.monotonic())
    ):
        return  # no column listing offered, or read lately: no database read either
    framework = _framework(launch)
    platform = db_session().get(Platform, launch.platform_id)
    if framework is None or platform is None:
        return
    services = context_for_launch(db_session(), platform, launch.claims)
    line_item_placements.refresh(
        db_session(), launch.context_pk, services, {framework.code: framework}, utcnow()
    )


@blueprint.get("/classe/apprenants/<int:learner_id>")
@session.staff_required
def learner(learner_id: int) -> str:
    """Show staff the record of one learner of their course (404 for anyone else)."""
    launch = _launch()
    is_member = db_session().scalar(
        sa.select(LtiMembership.id).where(
            LtiMembership.context_id == launch.context_pk, LtiMembership.user_id == learner_id
        )
    )
    if is_member is None:
        abort(404, description=_("Cet apprenant n’est pas inscrit à ce cours."))
    return _record_page(launch, learner_id, mine=False)


def method_form() -> Schema:
    """Return the schema of the settings form, its messages in the request's language."""
    number = {"invalid": _("n’est pas un nombre entier.")}

    class MethodForm(Schema):
        method = fields.String(
            required=True,
            validate=validate.OneOf(
                [m.value for m in Method], error=_("n’est pas une méthode connue.")
            ),
            error_messages={"required": _("choisissez une méthode.")},
        )
        weight = fields.Integer(
            strict=False,
            validate=validate.Range(1, 99, error=_("doit être compris entre 1 et 99.")),
            error_messages=number,
        )
        count = fields.Integer(
            validate=validate.Range(1, 10, error=_("doit être compris entre 1 et 10.")),
            error_messages=number,
        )

        @post_load
        def _method(self, data: dict[str, Any], **_kwargs: Any) -> CourseMethod:
            method = Method(data["method"])
            if method in AVERAGES:
                return CourseMethod(method, data.get("weight", DEFAULT_WEIGHT))
            if method is Method.N_MASTERY:
                return CourseMethod(method, data.get("count", DEFAULT_MASTERY_COUNT))
            return CourseMethod(method)

    return MethodForm()


def assistants_form() -> Schema:
    """Return the schema of the teaching assistants form, in the request's language."""

    class AssistantsForm(Schema):
        teaching_assistants = fields.String(
            required=True,
            validate=validate.OneOf([YES, NO], error=_("répondez oui ou non.")),
            error_messages={"required": _("répondez oui ou non.")},
        )

        @post_load
        def _allowed(self, data: dict[str, Any], **_kwargs: Any) -> bool:
            return bool(data["teaching_assistants"] == YES)

    return AssistantsForm()


@blueprint.route("/cours/reglages", methods=["GET", "POST"])
@session.instructor_required
def course_settings() -> ResponseReturnValue:
    """Let instructors choose how the course combines evaluations, and recompute everyone."""
    launch = _launch()
    if request.method == "GET":
        chosen = course_method(db_session(), launch.context_pk)
        return _settings_page(launch, _form_values(chosen), {}, request.args.get("recalcul"))
    posted = _posted_fields()
    try:
        method: CourseMethod = method_form().load(posted)
    except ValidationError as error:
        return _settings_page(launch, dict(request.form), error.normalized_messages(), None), 400
    count = choose_method(db_session(), launch.context_pk, method, utcnow())
    return redirect(session.lti_url("progress.course_settings", recalcul=count), code=303)


@blueprint.post("/cours/reglages/assistants")
@session.instructor_required
def teaching_assistants() -> ResponseReturnValue:
    """Let instructors say whether the course's teaching assistants evaluate."""
    launch = _launch()
    posted = {k: v for k, v in request.form.items() if k == "teaching_assistants"}
    try:
        allowed: bool = assistants_form().load(posted)
    except ValidationError as error:
        chosen = _form_values(course_method(db_session(), launch.context_pk))
        return _settings_page(launch, chosen, error.normalized_messages(), None), 400
    let_teaching_assistants_evaluate(db_session(), launch.context_pk, allowed, utcnow())
    return redirect(session.lti_url("progress.course_settings", assistants=YES), code=303)


def _launch() -> Any:
    """Return the launch, which must come from a course (an LTI context)."""
    launch = session.current()
    if launch is None or launch.context_pk is None:
        abort(404, description=_("Cette page n’existe que dans un cours."))
    return launch


def _framework(launch: LaunchSession) -> Framework | None:
    """Return the framework of the launch's placement, if one is installed."""
    placement = placement_of(db_session(), launch.custom)
    return placement.framework if placement else None


def _record_page(launch: LaunchSession, learner_id: int | None, *, mine: bool, **extra: Any) -> str:
    framework = _framework(launch)
    if framework is None or learner_id is None:
        return render_template("progress/record.html", record=None, mine=mine, **extra)
    record = learner_record(db_session(), launch.context_pk or 0, learner_id, framework)
    return render_template(
        "progress/record.html",
        record=record,
        mine=mine,
        can_configure=not mine and session.can_configure(launch),
        overview=charts.blocs_chart(record),
        bloc_charts={bloc.code: charts.scores_chart(bloc) for bloc in record.blocs},
        status_label=status_words.status_label,
        decision_label=status_words.decision_label,
        percent=charts.percent,
        **extra,
    )


def _posted_fields() -> dict[str, str]:
    """Keep the fields the chosen method uses; an empty box means the default."""
    form = request.form
    posted = {"method": form.get("method", "")}
    wanted = {
        Method.WEIGHTED_AVERAGE.value: "weight",
        Method.DECAYING_AVERAGE.value: "weight",
        Method.N_MASTERY.value: "count",
    }.get(posted["method"])
    if wanted and form.get(wanted, "").strip():
        posted[wanted] = form[wanted].strip()
    if not posted["method"]:
        del posted["method"]
    return posted


def _form_values(chosen: CourseMethod) -> dict[str, str]:
    values = {"method": chosen.method.value, "weight": str(DEFAULT_WEIGHT)}
    values["count"] = str(DEFAULT_MASTERY_COUNT)
    if chosen.parameter is not None:
        values["weight" if chosen.method in AVERAGES else "count"] = str(chosen.parameter)
    return values


def _settings_page(
    launch: LaunchSession,
    values: dict[str, str],
    errors: dict[str, Any],
    recomputed: str | None,
) -> str:
    assistants = teaching_assistants_evaluate(db_session(), launch.context_pk)
    return render_template(
        "progress/settings.html",
        values=values,
        errors=errors,
        recomputed=recomputed if recomputed and recomputed.isdigit() else None,
        methods=[m.value for m in Method],
        assistants=YES if assistants else NO,
        assistants_saved=request.args.get("assistants") == YES,
    )
