"""The framework file format (``jalon-referentiel/1``) as marshmallow schemas.

One schema per object serves both directions: loading a file yields the dataclasses of
``referentiel.model``, and dumping a framework yields the same document, so a file read
and written back is unchanged. Unknown keys are errors.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    post_load,
    validate,
    validates_schema,
)

from referentiel.model import (
    Activity,
    Bloc,
    Competency,
    CompetencyRule,
    Criterion,
    Epreuve,
    Framework,
    Identity,
    Modality,
    Rules,
    ScaleLevel,
)

FORMAT = "jalon-referentiel/1"

SLUG = validate.Regexp(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="must be lower-case letters, digits and hyphens"
)
CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$", error="must be letters, digits, '.', '_' or '-'"
)
# ISO 8601 durations as the file writes them: P4W, P2D, PT3H, P1DT2H30M.
DURATION = validate.Regexp(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$",
    error="must be an ISO 8601 duration such as P4W or PT3H",
)
_TEXT = validate.Length(min=1, error="must not be empty")
# France Compétences' numbers: a title ``RNCP12345``, one of its blocs ``RNCP12345BC02``.
RNCP = validate.Regexp(r"^RNCP[0-9]{1,6}$", error="must be an RNCP number such as RNCP12345")
RNCP_BLOC = validate.Regexp(
    r"^RNCP[0-9]{1,6}BC[0-9]{2}$", error="must be an RNCP bloc code such as RNCP12345BC01"
)


def _text(**kwargs: Any) -> fields.String:
    return fields.String(required=True, validate=_TEXT, **kwargs)


def _codes(**kwargs: Any) -> fields.List[str]:
    return fields.List(
        fields.String(validate=CODE),
        required=True,
        validate=validate.Length(min=1, error="must list at least one code"),
        **kwargs,
    )


def _tuples(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in keys} | {
        k: v for k, v in data.items() if k not in keys
    }


class _Date(fields.Date):
    """A date that YAML may already have parsed (``updated: 2025-01-31``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if isinstance(value, date):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _rncp(rule: validate.Validator) -> fields.String:
    return fields.String(allow_none=True, load_default=None, validate=rule)


def _without_absent_rncp(data: dict[str, Any]) -> dict[str, Any]:
    """Leave ``rncp`` out when it is not set, so files written before it are unchanged."""
    if data.get("rncp") is None:
        data.pop("rncp", None)
    return data


class ScaleLevelSchema(_Strict):
    """A level of the criterion scale."""

    code = fields.String(required=True, validate=CODE)
    label = _text()
    label_en = _text()
    is_passing = fields.Boolean(required=True, truthy={True}, falsy={False})

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> ScaleLevel:
        return ScaleLevel(**data)


class RulesSchema(_Strict):
    """Acquisition rules."""

    competency = fields.Enum(
        CompetencyRule, by_value=True, load_default=CompetencyRule.ALL_CRITERIA
    )
    min_criteria = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1)
    )
    bloc = fields.String(
        load_default="all_competencies", validate=validate.OneOf(["all_competencies"])
    )
    certification = fields.String(load_default="all_blocs", validate=validate.OneOf(["all_blocs"]))

    @validates_schema
    def _min_criteria_goes_with_its_rule(self, data: dict[str, Any], **_: Any) -> None:
        wants = data.get("competency") is CompetencyRule.MIN_CRITERIA
        if wants and data.get("min_criteria") is None:
            raise ValidationError("is required when competency is min_criteria", "min_criteria")
        if not wants and data.get("min_criteria") is not None:
            raise ValidationError("is only allowed when competency is min_criteria", "min_criteria")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Rules:
        return Rules(**data)


class CriterionSchema(_Strict):
    """An evaluation criterion."""

    code = fields.String(required=True, validate=CODE)
    text = _text()

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Criterion:
        return Criterion(**data)


class CompetencySchema(_Strict):
    """A competency and its criteria."""

    code = fields.String(required=True, validate=CODE)
    statement = _text()
    criteria = fields.List(
        fields.Nested(CriterionSchema),
        required=True,
        validate=validate.Length(min=1, error="a competency needs at least one criterion"),
    )

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Competency:
        return Competency(**_tuples(data, "criteria"))


class BlocSchema(_Strict):
    """A bloc and its competencies."""

    code = fields.String(required=True, validate=CODE)
    title = _text()
    competencies = fields.List(
        fields.Nested(CompetencySchema),
        required=True,
        validate=validate.Length(min=1, error="a bloc needs at least one competency"),
    )
    rncp = _rncp(RNCP_BLOC)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Bloc:
        return Bloc(**_tuples(data, "competencies"))

    @post_dump
    def _unset(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _without_absent_rncp(data)


class ActivitySchema(_Strict):
    """An activity of the référentiel d'activités."""

    code = fields.String(required=True, validate=CODE)
    bloc = fields.String(required=True, validate=CODE)
    title = _text()
    tasks = fields.List(fields.String(validate=_TEXT), load_default=list)
    competencies = _codes()

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Activity:
        return Activity(**_tuples(data, "tasks", "competencies"))


class EpreuveSchema(_Strict):
    """An épreuve."""

    code = fields.String(required=True, validate=CODE)
    title = _text()
    modality = fields.Enum(Modality, by_value=True, required=True)
    modality_label = _text()
    description = _text()
    deliverables = fields.List(fields.String(validate=_TEXT), load_default=list)
    interview = fields.List(fields.String(validate=_TEXT), load_default=list)
    preparation_time = fields.String(allow_none=True, load_default=None, validate=DURATION)
    competencies = _codes()

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Epreuve:
        return Epreuve(**_tuples(data, "deliverables", "interview", "competencies"))


class IdentitySchema(_Strict):
    """Identity and version of a framework."""

    code = fields.String(required=True, validate=SLUG)
    title = _text()
    level = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1, max=8)
    )
    version = _text()
    language = fields.String(
        required=True, validate=validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")
    )
    publisher = _text()
    description = fields.String(allow_none=True, load_default=None)
    updated = _Date(allow_none=True, load_default=None)
    rncp = _rncp(RNCP)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Identity:
        return Identity(**data)

    @post_dump
    def _unset(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _without_absent_rncp(data)


class FrameworkSchema(_Strict):
    """A whole framework file."""

    format = fields.String(
        required=True,
        dump_default=FORMAT,
        validate=validate.Equal(FORMAT, error=f"must be {FORMAT!r}"),
    )
    framework = fields.Nested(IdentitySchema, required=True, attribute="identity")
    scale = fields.List(
        fields.Nested(ScaleLevelSchema),
        required=True,
        validate=validate.Length(min=2, error="a scale needs at least two levels"),
    )
    rules = fields.Nested(RulesSchema, load_default=Rules)
    blocs = fields.List(
        fields.Nested(BlocSchema),
        required=True,
        validate=validate.Length(min=1, error="a framework needs at least one bloc"),
    )
    activities = fields.List(fields.Nested(ActivitySchema), load_default=list)
    epreuves = fields.List(fields.Nested(EpreuveSchema), load_default=list)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Framework:
        data.pop("format", None)
        return Framework(**_tuples(data, "scale", "blocs", "activities", "epreuves"))


__all__ = ["FORMAT", "FrameworkSchema"]
