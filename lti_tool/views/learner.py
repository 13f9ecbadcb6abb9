"""The learner's page of a placed épreuve: what it asks, their work, and its evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext, lazy_gettext
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from lti_tool import csrf, templating
from lti_tool.db import db_session, utcnow
from lti_tool.evaluation import files, status_words, submissions
from lti_tool.evaluation.files import Upload, UploadRefused
from lti_tool.evaluation.placement import Placement, placement_of
from lti_tool.evaluation.submissions import DraftChange, Seat, SubmissionRefused
from lti_tool.lti import session
from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.session import LaunchSession
from lti_tool.prose import one_line_ending
from lti_tool.storable import INTEGER_MAX
from lti_tool.views.referentiels import _human_duration as human_duration

blueprint = Blueprint("learner", __name__)
MAX_TEXT = 100_000
MAX_LINKS = 10
MAX_LINK = 2000
# Custom parameters that may carry the deadline, filled by the platform from a substitution
# variable such as $ResourceLink.submission.endDateTime (LTI 1.3) or
# $Canvas.assignment.dueAt.iso8601 (Canvas); an unsubstituted "$…" is ignored.
DEADLINE_KEYS = ("due_at", "deadline")
TRANSPORT_FIELDS = frozenset({session.PARAM, csrf.FIELD})


def _http_url(value: str) -> None:
    """Accept an absolute http(s) address only (no javascript:, data: or relative links)."""
    is_url = validate.URL(schemes={"http", "https"}, require_tld=False)
    try:
        is_url(value)
    except ValidationError:
        raise ValidationError(gettext("Ce n’est pas une adresse http(s) valide.")) from None
    if len(value) > MAX_LINK:
        raise ValidationError(gettext("Cette adresse est trop longue."))


class DraftForm(Schema):
    """The submission form: revision seen, text, links (one per line) and files to remove."""

    class Meta:  # noqa: D106
        unknown = RAISE

    revision = fields.Integer(
        required=True,
        validate=validate.Range(
            min=0, max=INTEGER_MAX, error=lazy_gettext("Valeur invalide : rechargez la page.")
        ),
        error_messages={
            "required": lazy_gettext("Champ manquant : rechargez la page."),
            "invalid": lazy_gettext("Valeur invalide : rechargez la page."),
        },
    )
    text = fields.String(
        load_default="",
        validate=validate.Length(
            max=MAX_TEXT, error=lazy_gettext("Le texte dépasse {max} caractères.")
        ),
    )
    links = fields.List(
        fields.String(validate=_http_url),
        load_default=list,
        validate=validate.Length(max=MAX_LINKS, error=lazy_gettext("Donnez au plus {max} liens.")),
    )
    remove = fields.List(
        fields.Integer(
            validate=validate.Range(min=1, max=INTEGER_MAX, error=lazy_gettext("Fichier inconnu.")),
            error_messages={"invalid": lazy_gettext("Fichier inconnu.")},
        ),
        load_default=list,
    )

    @post_load
    def _change(self, data: dict[str, Any], **_kwargs: Any) -> tuple[int, DraftChange]:
        change = DraftChange(
            text=one_line_ending(data["text"]),
            links=tuple(dict.fromkeys(data["links"])),
            removed_file_ids=frozenset(data["remove"]),
        )
        return data["revision"], change


def _form_fields(form: MultiDict[str, str]) -> dict[str, Any]:
    """Return the posted fields: links split one per line, files to remove as a list."""
    fields_: dict[str, Any] = {}
    for name in form:
        if name in TRANSPORT_FIELDS:
            continue
        fields_[name] = form.getlist(name) if name == "remove" else form.get(name)
    if "links" in fields_:
        fields_["links"] = [line.strip() for line in fields_["links"].splitlines() if line.strip()]
    return fields_


def _uploads() -> tuple[Upload, ...]:
    # A file input left empty still sends a part, with an empty name.
    return tuple(
        Upload(part.filename, part.stream)  # type: ignore[arg-type]
        for part in request.files.getlist("files")
        if part.filename
    )


def _launch() -> tuple[LaunchSession, Seat, Placement]:
    """Return the launch, the learner's seat and the épreuve placed here; 404 if none."""
    launch = session.current()
    assert launch is not None  # noqa: S101 (learner_required)
    if launch.context_pk is None or launch.user_pk is None or launch.resource_link_pk is None:
        abort(404, description=gettext("Aucune épreuve n’est placée à cet endroit du cours."))
    # The launch carries the placement's custom parameters: no need to read the link row.
    placement = placement_of(db_session(), launch.custom)
    if placement is None or not placement.is_evaluable:
        abort(404, description=gettext("Aucune épreuve évaluable n’est placée ici."))
    seat = Seat(launch.context_pk, launch.user_pk, launch.resource_link_pk, launch.deployment_id)
    return launch, seat, placement


def _deadline(custom: dict[str, Any]) -> dt.datetime | None:
    """Return the deadline the platform gave in the custom parameters, if any."""
    for key in DEADLINE_KEYS:
        value = custom.get(key)
        if isinstance(value, str) and value and not value.startswith("$"):
            try:
                moment = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return None


def _page(
    launch: LaunchSession,
    seat: Seat,
    placement: Placement,
    errors: dict[str, Any] | None = None,
    posted: dict[str, Any] | None = None,
) -> str:
    submission = submissions.find(db_session(), seat)
    draft = submissions.draft_of(submission) if submission else None
    versions = submissions.handed_in(submission)
    shown = draft or (versions[0] if versions else None)
    framework = placement.framework
    assert framework is not None  # noqa: S101 (is_evaluable)
    english = str(get_locale()) == "en"
    rules = files.upload_rules()
    return render_template(
        "learner/epreuve.html",
        launch=launch,
        placement=placement,
        fw=placement.framework,
        deadline=_deadline(launch.custom),
        preparation=human_duration(
            placement.epreuve.preparation_time if placement.epreuve else None
        ),
        submission=submission,
        revision=submissions.revision_of(submission),
        draft=draft,
        shown=shown,
        versions=versions,
        evaluations=submissions.published_evaluations(db_session(), submission),
        numbers={version.id: version.number for version in submission.versions}
        if submission
        else {},
        levels={
            level.code: level.label_en if english else level.label for level in framework.scale
        },
        criteria_list=templating.fragment(
            "learner/criteria.html",
            framework,
            tuple(competency.code for competency in placement.competencies),
            placement=placement,
            lang=framework.identity.language,
        ),
        competencies={competency.code: competency for competency in framework.competencies()},
        criteria={criterion.code: criterion for criterion in framework.criteria()},
        decision_label=status_words.decision_label,
        # Also after a refused form (a POST address): the switch leads back to this page.
        language_path=url_for("learner.epreuve"),
        is_closed=submission is not None and submission.status == "evaluated",
        errors=errors or {},
        posted=posted,
        rules=rules,
        max_size=files.size_label(rules.max_bytes),
        quota_size=files.size_label(rules.quota_bytes),
        used_size=files.size_label(submissions.kept_bytes(submission)),
        max_links=MAX_LINKS,
        saved=request.args.get("fait"),
    )


@blueprint.get("/epreuve")
@session.learner_required
def epreuve() -> str:
    """Show the épreuve, the learner's work on it and its published evaluations."""
    launch, seat, placement = _launch()
    return _page(launch, seat, placement)


@blueprint.post("/epreuve/brouillon")
@session.learner_required
def save() -> ResponseReturnValue:
    """Save the form as the draft."""
    return _change(hand_in=False)


@blueprint.post("/epreuve/remise")
@session.learner_required
def hand_in() -> ResponseReturnValue:
    """Save the form and hand the draft in."""
    return _change(hand_in=True)


def _change(hand_in: bool) -> ResponseReturnValue:
    launch, seat, placement = _launch()
    posted = _form_fields(request.form)
    try:
        revision, change = DraftForm().load(posted)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _page(launch, seat, placement, errors, posted), 400
    change = DraftChange(change.text, change.links, change.removed_file_ids, _uploads())
    database, now = db_session(), utcnow()
    submission = submissions.get_or_create(database, seat, placement)
    try:
        submissions.save_draft(
            database, submission, revision, change, files.file_storage(), files.upload_rules(), now
        )
        if hand_in:
            base_url = current_app.config["JALON"].base_url
            submissions.hand_in(
                database, submission, submission.revision, placement, base_url, now, launch.locale
            )
    except (SubmissionRefused, UploadRefused) as exc:
        database.rollback()
        return _refused(launch, seat, placement, exc, posted)
    done = "remise" if hand_in else "brouillon"
    return redirect(session.lti_url("learner.epreuve", fait=done, _anchor="travail"), code=303)


def _refused(
    launch: LaunchSession,
    seat: Seat,
    placement: Placement,
    exc: SubmissionRefused | UploadRefused,
    posted: dict[str, Any],
) -> tuple[str, int]:
    """Explain a refusal: a stale or closed submission on its own page, else beside the field."""
    if isinstance(exc, (submissions.StaleSubmission, submissions.SubmissionClosed)):
        return render_template(
            "learner/refused.html", message=exc.message, posted=posted
        ), exc.status
    if isinstance(exc, UploadRefused):
        errors = {"files": [str(exc)]}
    else:
        errors = {exc.field or "_schema": [exc.message]}
    return _page(launch, seat, placement, errors, posted), 400


@blueprint.get("/epreuve/fichiers/<int:file_id>")
@session.lti_required
def download(file_id: int) -> Response:
    """Send a handed-in file as an attachment: to its learner, or to the course's staff."""
    launch = session.current()
    assert launch is not None  # noqa: S101 (lti_required)
    if launch.is_anonymous or launch.context_pk is None or launch.user_pk is None:
        raise LaunchRejected("LTI_ROLE_FORBIDDEN")
    if session.can_evaluate(launch):
        found = submissions.file_for_staff(db_session(), file_id, launch.context_pk)
    elif launch.roles.is_learner:
        found = submissions.file_for_learner(
            db_session(), file_id, launch.context_pk, launch.user_pk
        )
    else:
        raise LaunchRejected("LTI_ROLE_FORBIDDEN")
    if found is None:
        abort(404)
    try:
        data = files.file_storage().read(found.storage_key)
    except KeyError:
        abort(404, description=gettext("Ce fichier n’est plus disponible."))
    return _attachment(data, found.name)


def _attachment(data: bytes, name: str) -> Response:
    """Return bytes to save, never to display: a safe type, attachment, no sniffing."""
    response = Response(data, content_type=files.content_type_of(name))
    # RFC 6266: a plain-ASCII quoted fallback for old clients (no quote, backslash or "%",
    # which some decode), then the exact name in RFC 5987 form, which browsers prefer.
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\%' else "_" for c in name
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> tuple[str, int]:
    """Explain a body past the request limit, before the form could even be read."""
    limit = files.size_label(current_app.config["MAX_CONTENT_LENGTH"])
    detail = gettext(
        "L’envoi dépasse la taille maximale d’une requête (%(size)s) : rien n’a été "
        "enregistré. Joignez vos fichiers en plusieurs fois, ou des fichiers plus petits.",
        size=limit,
    )
    return render_template(
        "errors/error.html", code=413, title=gettext("Envoi trop volumineux"), detail=detail
    ), 413
