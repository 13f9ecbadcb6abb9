"""The demo LMS's pages: choose who you are, the course, launches, deep linking, grades."""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool import csrf
from lti_tool.db import utcnow
from lti_tool.demo import gradebook
from lti_tool.demo.context import demo_state, make_platform
from lti_tool.demo.database import demo_session
from lti_tool.demo.gradebook import ToolDataError
from lti_tool.demo.identity import current_user_id, remember_user, sign_hint
from lti_tool.demo.launches import DemoOIDCLogin, FlaskRequest
from lti_tool.demo.models import Course, DeepLinkRequest, Enrolment, Placement, User
from lti_tool.demo.placements import place_items
from lti_tool.demo.protocol import DL_CLAIM, DeepLinkError

blueprint = Blueprint("demo", __name__, url_prefix="/demo")
# A deep-linking round trip is one instructor picking an épreuve: minutes, not days.
DEEP_LINK_LIFETIME = dt.timedelta(hours=1)


def role_labels() -> dict[str, str]:
    """Name the course roles as the LMS does."""
    return {"Instructor": _("Enseignant"), "Learner": _("Étudiant")}


def activity_labels() -> dict[str, str]:
    """Name AGS ``activityProgress`` values."""
    return {
        "Initialized": _("Pas commencée"),
        "Started": _("Commencée"),
        "InProgress": _("En cours"),
        "Submitted": _("Rendue"),
        "Completed": _("Terminée"),
    }


def grading_labels() -> dict[str, str]:
    """Name AGS ``gradingProgress`` values."""
    return {
        "FullyGraded": _("Notée"),
        "Pending": _("Notation en attente"),
        "PendingManual": _("Notation manuelle en attente"),
        "Failed": _("Notation impossible"),
        "NotReady": _("Pas prête à être notée"),
    }


@blueprint.context_processor
def _demo_globals() -> dict[str, object]:
    user_id = current_user_id()
    user = None
    if user_id is not None:
        user = demo_session().get(User, user_id)
    return {"demo_user": user, "role_labels": role_labels()}


def _first_course() -> Course:
    course = demo_session().scalar(sa.select(Course).order_by(Course.id).limit(1))
    if course is None:
        abort(404)
    return course


def _member(course_id: int) -> Enrolment:
    """Return the chosen user's enrolment; send a stranger to "choose who you are"."""
    user_id = current_user_id()
    if user_id is None:
        abort(redirect(url_for(".home"), 303))
    session = demo_session()
    if session.get(Course, course_id) is None:
        abort(404)
    enrolment = session.get(Enrolment, (course_id, user_id))
    if enrolment is None:
        abort(403, description=_("Vous n’êtes pas inscrit à ce cours."))
    return enrolment


def _instructor(course_id: int) -> Enrolment:
    enrolment = _member(course_id)
    if not enrolment.is_instructor:
        abort(403, description=_("Seul l’enseignant du cours peut faire cela."))
    return enrolment


def _placement(course_id: int, placement_id: int) -> Placement:
    placement = demo_session().get(Placement, placement_id)
    if placement is None or placement.course_id != course_id:
        abort(404)
    return placement


@blueprint.route("/", methods=["GET", "POST"])
def home() -> Response | tuple[str, int]:
    """Let the visitor choose who they are in the demo course (no password)."""
    course = _first_course()
    error = None
    if request.method == "POST":
        chosen = request.form.get("user", "")
        enrolment = (
            demo_session().get(Enrolment, (course.id, int(chosen))) if chosen.isdigit() else None
        )
        if enrolment is not None:
            response = redirect(url_for(".course", course_id=course.id), 303)
            remember_user(response, enrolment.user_id)
            return response
        error = _("Choisissez une personne dans la liste.")
    enrolments = sorted(course.enrolments, key=lambda e: (not e.is_instructor, e.user_id))
    page = render_template(
        "demo/home.html",
        course=course,
        enrolments=enrolments,
        current_id=current_user_id(),
        error=error,
    )
    return page, 400 if error else 200


@blueprint.get("/cours/<int:course_id>")
def course(course_id: int) -> str:
    """Show the course: its placed épreuves, a launch button each, the instructor's tools."""
    enrolment = _member(course_id)
    added = request.args.get("ajout", type=int)
    announced = next((p for p in enrolment.course.placements if p.id == added), None)
    return render_template(
        "demo/course.html",
        course=enrolment.course,
        enrolment=enrolment,
        announced=announced,
        nothing_added=request.args.get("ajout") == "0",
    )


@blueprint.get("/cours/<int:course_id>/activites/<int:placement_id>")
def activity(course_id: int, placement_id: int) -> str:
    """Show a placed épreuve, Jalon in a frame as Moodle embeds it."""
    enrolment = _member(course_id)
    placement = _placement(course_id, placement_id)
    return render_template("demo/activity.html", course=enrolment.course, placement=placement)


@blueprint.get("/cours/<int:course_id>/activites/<int:placement_id>/lancement")
def launch(course_id: int, placement_id: int) -> Response:
    """Start the OIDC login: send the browser to the tool's login URL."""
    enrolment = _member(course_id)
    placement = _placement(course_id, placement_id)
    hint = sign_hint({"u": enrolment.user_id, "c": course_id, "p": placement.id})
    login = DemoOIDCLogin(FlaskRequest.current(), make_platform())
    return login.start(user_sub=enrolment.user.sub, hint=hint, target_link_uri=placement.url)


@blueprint.post("/cours/<int:course_id>/ajouter-une-epreuve")
def add_epreuve(course_id: int) -> Response:
    """Start a deep-linking round trip: the tool's picker will return the épreuve to place."""
    enrolment = _instructor(course_id)
    pending = DeepLinkRequest(
        id=secrets.token_urlsafe(24), course_id=course_id, user_id=enrolment.user_id
    )
    session = demo_session()
    session.add(pending)
    session.flush()
    hint = sign_hint({"u": enrolment.user_id, "c": course_id, "dl": pending.id})
    login = DemoOIDCLogin(FlaskRequest.current(), make_platform())
    target = demo_state().tool.deep_link_url
    return login.start(user_sub=enrolment.user.sub, hint=hint, target_link_uri=target)


@blueprint.post("/deep-link-return")
@csrf.exempt
def deep_link_return() -> Response:
    """Take the tool's signed deep-linking response: place the link, make its column."""
    platform = make_platform()
    try:
        items = platform.validate_deeplinking_resp(request.form.to_dict())
    except DeepLinkError as exc:
        abort(
            400,
            description=_("Réponse de sélection de contenu refusée : %(reason)s", reason=str(exc)),
        )
    session = demo_session()
    data = platform.response_claims.get(DL_CLAIM + "data")
    pending = session.get(DeepLinkRequest, data) if isinstance(data, str) else None
    if (
        pending is None
        or pending.used_at is not None
        or utcnow() - pending.created_at > DEEP_LINK_LIFETIME
    ):
        abort(
            400, description=_("Cette sélection de contenu n’a pas été demandée ou a déjà servi.")
        )
    pending.used_at = utcnow()
    course = session.get(Course, pending.course_id)
    assert course is not None  # noqa: S101 (a foreign key)
    try:
        placed = place_items(session, course, items, demo_state().tool)
    except ToolDataError as exc:
        abort(
            400,
            description=_("Réponse de sélection de contenu refusée : %(reason)s", reason=str(exc)),
        )
    added = placed[0].id if placed else 0
    return redirect(url_for(".course", course_id=course.id, ajout=added), 303)


@blueprint.get("/cours/<int:course_id>/notes")
def grades(course_id: int) -> str:
    """Show the instructor what the tool sent: each learner's last score, every column."""
    enrolment = _instructor(course_id)
    book = gradebook.gradebook(demo_session(), enrolment.course)
    return render_template(
        "demo/gradebook.html",
        course=enrolment.course,
        book=book,
        urls=demo_state().urls,
        activity_labels=activity_labels(),
        grading_labels=grading_labels(),
    )
