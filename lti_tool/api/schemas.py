"""What the API reads from a query string (load schemas) and what it answers (dump schemas).

Load schemas refuse unknown parameters, so a misspelt filter is a 400 naming it rather
than a silently unfiltered answer. Dump schemas write what ``openapi.yaml`` documents.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from lti_tool.evaluation.matrix import Sort
from lti_tool.storable import INTEGER_MAX
from referentiel.rules import Status

STATUSES = [status.value for status in Status]


class _Query(Schema):
    class Meta:
        unknown = RAISE

    framework = fields.String(validate=validate.Length(min=1, max=100))


class ProgressQuery(_Query):
    """``?framework=``: which framework, when the course uses several."""


class MatrixQuery(_Query):
    """Filters and order of the class matrix."""

    bloc = fields.String(validate=validate.Length(min=1, max=50))
    status = fields.String(validate=validate.OneOf(STATUSES))
    group = fields.String(validate=validate.Length(min=1, max=255))
    sort = fields.String(validate=validate.OneOf([s.value for s in Sort]), load_default="name")
    sort_bloc = fields.String(validate=validate.Length(min=1, max=50))
    descending = fields.Boolean(load_default=False)

    @post_load
    def _needs_a_bloc_to_sort_by(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if data["sort"] == Sort.BLOC and not data.get("sort_bloc"):
            raise ValidationError("Required when sort is bloc.", "sort_bloc")
        return data


class EvaluationsQuery(_Query):
    """Filters of the published evaluations of a course, and the page wanted."""

    learner = fields.Integer(strict=False, validate=validate.Range(min=1, max=INTEGER_MAX))
    epreuve = fields.String(validate=validate.Length(min=1, max=50))
    since = fields.AwareDateTime(format="iso")
    limit = fields.Integer(validate=validate.Range(min=1, max=500), load_default=100)
    offset = fields.Integer(validate=validate.Range(min=0, max=INTEGER_MAX), load_default=0)


# -- answers --------------------------------------------------------------------------------


class FrameworkRef(Schema):
    """The framework an answer is about."""

    code = fields.String()
    title = fields.String()


class CriterionOut(Schema):
    """A criterion of a competency and the level last given to it."""

    code = fields.String()
    text = fields.String()
    level = fields.String(attribute="level_code", allow_none=True)
    is_met = fields.Boolean(allow_none=True)
    epreuve = fields.String(attribute="epreuve_code", allow_none=True)
    evaluated_at = fields.AwareDateTime(allow_none=True)


class CompetencyOut(Schema):
    """A competency's standing."""

    code = fields.String()
    statement = fields.String()
    status = fields.String()
    score = fields.Float(allow_none=True)
    attempts = fields.Integer()
    acquired_at = fields.AwareDateTime(allow_none=True)
    criteria = fields.List(fields.Nested(CriterionOut))


class BlocOut(Schema):
    """A bloc's standing and what remains to validate it."""

    code = fields.String()
    title = fields.String()
    status = fields.String()
    acquired = fields.Integer()
    in_progress = fields.Integer()
    total = fields.Integer()
    remaining = fields.Function(lambda bloc: [c.code for c in bloc.remaining])
    competencies = fields.List(fields.Nested(CompetencyOut))


class ProgressOut(Schema):
    """A learner's record in a course."""

    context_id = fields.Integer()
    learner_id = fields.Integer()
    learner_name = fields.String(allow_none=True)
    framework = fields.Function(lambda r: {"code": r.framework_code, "title": r.framework_title})
    certification = fields.String()
    blocs = fields.List(fields.Nested(BlocOut))


class MatrixBlocOut(Schema):
    """One bloc of a learner's row: its status and its competencies' (code → status)."""

    code = fields.String()
    status = fields.String()
    acquired = fields.Integer()
    competencies = fields.Dict(keys=fields.String(), values=fields.String())


class MatrixRowOut(Schema):
    """A learner's row."""

    learner_id = fields.Integer()
    name = fields.String(allow_none=True)
    certification = fields.String()
    acquired = fields.Integer()
    blocs = fields.List(fields.Nested(MatrixBlocOut))


class MatrixOut(Schema):
    """The class matrix."""

    context_id = fields.Integer()
    framework = fields.Nested(FrameworkRef)
    blocs = fields.List(fields.Dict())
    learner_count = fields.Integer()
    rows = fields.List(fields.Nested(MatrixRowOut))


class DecisionOut(Schema):
    """One evaluation's decision on a competency."""

    competency = fields.String(attribute="competency_code")
    is_acquired = fields.Boolean()
    is_rule_acquired = fields.Boolean()
    override = fields.Boolean(allow_none=True)
    justification = fields.String(allow_none=True)
    settlement = fields.String(allow_none=True)
    score = fields.Float()
    comment = fields.String()


class CriterionResultOut(Schema):
    """The level one evaluation gave a criterion."""

    criterion = fields.String(attribute="criterion_code")
    competency = fields.String(attribute="competency_code")
    level = fields.String()
    is_met = fields.Boolean()


class EvaluationOut(Schema):
    """A published evaluation."""

    id = fields.Integer()
    learner_id = fields.Integer()
    submission_id = fields.Integer()
    version = fields.Integer(attribute="version_number")
    framework = fields.String(attribute="framework_code")
    epreuve = fields.String(attribute="epreuve_code", allow_none=True)
    evaluator_id = fields.Integer()
    role = fields.String()
    published_at = fields.AwareDateTime()
    score_given = fields.Float(allow_none=True)
    score_maximum = fields.Float(allow_none=True)
    comment = fields.String()
    decisions = fields.List(fields.Nested(DecisionOut))
    criteria = fields.List(fields.Nested(CriterionResultOut))


class EvaluationsOut(Schema):
    """A page of published evaluations."""

    context_id = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    evaluations = fields.List(fields.Nested(EvaluationOut))
