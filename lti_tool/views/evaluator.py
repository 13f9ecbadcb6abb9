"""Evaluator pages: the placement's queue, and the grid of one copy (save, publish)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from lti_tool import csrf
from lti_tool.db import db_session, utcnow
from lti_tool.evaluation import grading, grid, passback
from lti_tool.evaluation.models import (
    CompetencyDecision,
    CriterionResult,
    Evaluation,
    EvaluationStatus,
    GradePassback,
    Submission,
)
from lti_tool.evaluation.placement import placement_of
from lti_tool.evaluation.queue import queue_of
from lti_tool.lti import session
from lti_tool.models import LtiResourceLink, LtiUser
from lti_tool.people import display_name, sharing_notice
from referentiel.model import Competency, Framework
from referentiel.rules import threshold

blueprint = Blueprint("evaluator", __name__, url_prefix="/evaluation")
TRANSPORT_FIELDS = frozenset({session.PARAM, csrf.FIELD})
CONFIRM = "confirm"  # "Confirmer la publication": without it, "Publier" only asks
BACK = "revoir"  # "Revenir à la grille" from the confirmation step


def _link() -> LtiResourceLink:
    """Return the launch's placement, in the launch's course."""
    launch = session.current()
    link = db_session().get(LtiResourceLink, launch.resource_link_pk) if launch else None
    if link is None or launch is None or link.context_id != launch.context_pk:
        abort(404)
    return link


def _copy(submission_id: int) -> tuple[Submission, Framework]:
    """Return a submission of the launch's course and its framework; 404 for any other."""
    launch = session.current()
    found = db_session().get(Submission, submission_id)
    if found is None or launch is None or found.context_id != launch.context_pk:
        abort(404)
    framework = grading.framework_for(db_session(), found)
    if framework is None:
        abort(404)
    return found, framework


@blueprint.get("/")
@session.staff_required
def queue() -> str:
    """List the copies to evaluate, then the others, then who has not handed in."""
    link = _link()
    placement = placement_of(db_session(), link.custom)
    listed = queue_of(db_session(), link, utcnow())
    return render_template(
        "evaluator/queue.html",
        link=link,
        placement=placement,
        queue=listed,
        naming_notice=sharing_notice(listed.sources),
    )


@blueprint.get("/copies/<int:submission_id>")
@session.staff_required
def copy(submission_id: int) -> str:
    """Show a copy and its grid (or the published decisions)."""
    submission, framework = _copy(submission_id)
    opening = grading.open_evaluation(
        db_session(), submission, _evaluator_id(), utcnow(), create=False
    )
    return _page(opening, framework, done=request.args.get("fait"))


@blueprint.post("/copies/<int:submission_id>")
@session.staff_required
def save(submission_id: int) -> Response | tuple[str, int] | str:
    """Save the grid as a draft, or publish it once the evaluator has confirmed.

    "Publier" is final, so a grid posted to publish without ``confirm=1`` writes nothing:
    it gets a page summarising the decisions, whose form posts the same grid again with
    ``confirm=1`` ("Confirmer la publication") or ``revoir=1`` (back to the grid as posted).
    """
    submission, framework = _copy(submission_id)
    form = {k: v for k, v in request.form.items() if k not in TRANSPORT_FIELDS}
    confirmed = form.pop(CONFIRM, "") == "1"
    back = form.pop(BACK, "") == "1"
    now = utcnow()
    if back or (form.get("action") == "publier" and not confirmed):
        return _before_publishing(submission, framework, form, back=back)
    opening = grading.open_evaluation(db_session(), submission, _evaluator_id(), now, create=True)
    try:
        posted = grid.load_grid(form, framework, grading.targeted(framework, submission))
        if posted.publish:
            base_url = str(current_app.config["JALON"].base_url)
            published = grading.publish(
                db_session(), opening, posted, framework, base_url, now, _language()
            )
            # Once the request commits, one quick attempt: the next page can say at once
            # whether the LMS took the grade (the background retries otherwise).
            passback.send_after_commit(db_session(), published.evaluation.id)
        else:
            grading.save(db_session(), opening, posted, framework, now)
    except ValidationError as exc:
        return _invalid(opening, framework, exc, form)
    except grading.GradingError as exc:
        if exc.code != "EVAL_STALE":
            raise
        db_session().rollback()  # nothing of this grid is kept; show what is saved
        fresh = grading.open_evaluation(
            db_session(), submission, _evaluator_id(), now, create=False
        )
        return _page(fresh, framework, refusal=exc.message), exc.status
    done = "publie" if posted.publish else "brouillon"
    return redirect(session.lti_url("evaluator.copy", submission_id=submission.id, fait=done), 303)


def _before_publishing(
    submission: Submission, framework: Framework, form: dict[str, str], *, back: bool
) -> tuple[str, int] | str:
    """Show the confirmation step of a valid grid, or the grid as posted; write nothing."""
    opening = grading.open_evaluation(
        db_session(), submission, _evaluator_id(), utcnow(), create=False
    )
    if _is_published(opening.evaluation):
        raise grading.GradingError("EVAL_PUBLISHED")
    if back:
        return _page(opening, framework, posted=form)
    competencies = grading.targeted(framework, submission)
    try:
        posted = grid.load_grid(form, framework, competencies)
    except ValidationError as exc:
        return _invalid(opening, framework, exc, form)
    if posted.revision != (opening.evaluation.revision if opening.evaluation else 0):
        stale = grading.GradingError("EVAL_STALE")  # say it now, not after "Confirmer"
        return _page(opening, framework, refusal=stale.message), stale.status
    decisions = [
        grading.decide(framework, c, posted.levels, posted.competencies[c.code].override, utcnow())
        for c in competencies
    ]
    return render_template(
        "evaluator/confirm.html",
        opening=opening,
        framework=framework,
        learner=_learner_name(opening),
        decisions=decisions,
        posted=posted,
        hidden={k: v for k, v in form.items() if k != "action"},
        met=sum(d.met for d in decisions),
        judged=sum(len(c.criteria) for c in competencies),
    )


def _invalid(
    opening: grading.Opening, framework: Framework, exc: ValidationError, form: dict[str, str]
) -> tuple[str, int]:
    errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return _page(opening, framework, errors=errors, posted=form), 400


@blueprint.errorhandler(grading.GradingError)
def _refused(exc: grading.GradingError) -> tuple[str, int]:
    return render_template("evaluator/refused.html", message=exc.message), exc.status


def _evaluator_id() -> int:
    launch = session.current()
    if launch is None or launch.user_pk is None:  # pragma: no cover (staff_required)
        abort(403)
    return launch.user_pk


def _language() -> str | None:
    launch = session.current()
    return launch.locale if launch else None


def _page(
    opening: grading.Opening,
    framework: Framework,
    *,
    errors: dict[str, Any] | None = None,
    posted: dict[str, str] | None = None,
    refusal: str | None = None,
    done: str | None = None,
) -> str:
    """Render the grid page: the copy, the other evaluation, the grid or the summary."""
    db = db_session()
    evaluation = opening.evaluation
    competencies = grading.targeted(framework, opening.submission)
    learner = db.get(LtiUser, opening.submission.learner_id)
    mine = _decisions(db, evaluation)
    other = _decisions(db, opening.other) if _is_published(opening.other) else None
    passback = None
    if evaluation is not None and evaluation.status == EvaluationStatus.PUBLISHED:
        passback = db.scalar(
            sa.select(GradePassback)
            .where(GradePassback.evaluation_id == evaluation.id)
            .order_by(GradePassback.id.desc())
            .limit(1)
        )
    values = posted if posted is not None else _values(evaluation, mine)
    return render_template(
        "evaluator/copy.html",
        opening=opening,
        evaluation=evaluation,
        framework=framework,
        competencies=competencies,
        learner=display_name(learner, learner.sub) if learner else "",
        links=[(link, link.startswith(("https://", "http://"))) for link in opening.version.links],
        files=opening.version.files,
        values=values,
        tallies=_tallies(framework, competencies, values),
        owners=grid.field_owners(competencies),
        thresholds={c.code: repr(threshold(c, framework.rules)) for c in competencies},
        passing=" ".join(sorted(framework.passing_levels())),
        mine=mine,
        other=other,
        passback=passback,
        errors=errors or {},
        refusal=refusal,
        done=done,
        fields=grid,
        revision=_revision(posted, evaluation),
    )


def _learner_name(opening: grading.Opening) -> str:
    learner = db_session().get(LtiUser, opening.submission.learner_id)
    if learner is None:  # pragma: no cover (a submission's learner is a foreign key)
        return ""
    return display_name(learner, learner.sub)


def _tallies(
    framework: Framework, competencies: Sequence[Competency], values: dict[str, str]
) -> dict[str, grading.Decision]:
    """Judge each competency from the grid's values, by the rule that publishing applies.

    Without JavaScript this is what the grid shows after "Enregistrer le brouillon": the
    criteria met and the rule's decision, computed on the server by the same code.
    """
    levels = {
        criterion.code: values.get(grid.level_field(criterion.code), "")
        for competency in competencies
        for criterion in competency.criteria
    }
    overrides = {c.code: values.get(grid.override_field(c.code), "") for c in competencies}
    now = utcnow()
    return {
        c.code: grading.decide(framework, c, levels, grid.OVERRIDES.get(overrides[c.code]), now)
        for c in competencies
    }


def _revision(posted: dict[str, str] | None, evaluation: Evaluation | None) -> str:
    """Return the revision a grid was shown with: posted back as is, it stays stale-proof."""
    if posted is not None and posted.get("revision", "").isdigit():
        return posted["revision"]
    return str(evaluation.revision if evaluation else 0)


def _is_published(evaluation: Evaluation | None) -> bool:
    return evaluation is not None and evaluation.status == EvaluationStatus.PUBLISHED


def _decisions(db: Any, evaluation: Evaluation | None) -> dict[str, Any]:
    """Return an evaluation's saved rows: levels by criterion, decisions by competency."""
    if evaluation is None:
        return {"levels": {}, "competencies": {}, "comment": ""}
    levels = dict(
        db.execute(
            sa.select(CriterionResult.criterion_code, CriterionResult.level).where(
                CriterionResult.evaluation_id == evaluation.id
            )
        ).all()
    )
    decisions = {
        row.competency_code: row
        for row in db.scalars(
            sa.select(CompetencyDecision).where(CompetencyDecision.evaluation_id == evaluation.id)
        )
    }
    return {"levels": levels, "competencies": decisions, "comment": evaluation.comment}


def _values(evaluation: Evaluation | None, saved: dict[str, Any]) -> dict[str, str]:
    """Return the form's values from what is saved, keyed by field name."""
    values = {grid.level_field(code): level for code, level in saved["levels"].items()}
    values["commentaire"] = saved["comment"]
    for code, decision in saved["competencies"].items():
        values[grid.comment_field(code)] = decision.comment
        override = {True: grid.ACQUIRED, False: grid.NOT_ACQUIRED}.get(decision.override, "")
        values[grid.override_field(code)] = override
        values[grid.justification_field(code)] = decision.justification or ""
    return values
