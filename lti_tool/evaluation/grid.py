"""The evaluation grid as a form: its field names, and the schema that reads a posted grid.

The grid has a level per criterion (the framework's scale), a comment per competency, an
optional override per competency with its mandatory justification, and a general comment.
A draft may leave levels unset; publishing needs them all. The schema is built for the
competencies a submission targets, so a field it does not know is an error.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from flask_babel import lazy_gettext as _
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from lti_tool.prose import one_line_ending
from lti_tool.storable import INTEGER_MAX
from referentiel.model import Competency, Criterion, Framework

ACQUIRED = "acquise"
NOT_ACQUIRED = "non_acquise"
OVERRIDES = {"": None, ACQUIRED: True, NOT_ACQUIRED: False}
COMMENT_MAX = 10_000


def written(text: str) -> str:
    """Return text without the blanks around it: spaces, and invisible marks such as U+200B.

    A justification of zero-width spaces looks empty on every page: it justifies nothing.
    """
    start, end = 0, len(text)
    while start < end and _is_blank(text[start]):
        start += 1
    while end > start and _is_blank(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_blank(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) == "Cf"


def level_field(criterion_code: str) -> str:
    """Return the name of a criterion's radio buttons."""
    return f"niveau-{criterion_code}"


def comment_field(competency_code: str) -> str:
    """Return the name of a competency's comment."""
    return f"commentaire-{competency_code}"


def override_field(competency_code: str) -> str:
    """Return the name of a competency's override select."""
    return f"decision-{competency_code}"


def justification_field(competency_code: str) -> str:
    """Return the name of a competency's justification."""
    return f"justification-{competency_code}"


@dataclass(frozen=True)
class FieldOwner:
    """The competency (and criterion, for a level) a grid field belongs to.

    Error messages name these in words: an evaluator reads "C1.4 — Élaborer…", never the
    field's internal name ``justification-C1.4``.
    """

    competency: Competency
    criterion: Criterion | None = None


def field_owners(competencies: Sequence[Competency]) -> dict[str, FieldOwner]:
    """Return the owner of every per-competency field of the grid, by field name."""
    owners: dict[str, FieldOwner] = {}
    for competency in competencies:
        for criterion in competency.criteria:
            owners[level_field(criterion.code)] = FieldOwner(competency, criterion)
        for name in (
            comment_field(competency.code),
            override_field(competency.code),
            justification_field(competency.code),
        ):
            owners[name] = FieldOwner(competency)
    return owners


@dataclass(frozen=True)
class CompetencyInput:
    """What the grid says about one competency."""

    comment: str
    override: bool | None
    justification: str | None


@dataclass(frozen=True)
class GridInput:
    """A posted grid: levels by criterion code (set ones only), decisions by competency."""

    revision: int
    levels: dict[str, str]
    competencies: dict[str, CompetencyInput]
    comment: str
    publish: bool


def _key(name: str) -> str:
    """Return the attribute a form field loads into (marshmallow reads dots as nesting)."""
    return name.replace(".", "_")


class _Text(fields.String):
    """A free text, stored with LF line endings whatever the browser sent (forms post CR LF)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return one_line_ending(super()._deserialize(value, attr, data, **kwargs))


def _text(data_key: str | None = None) -> fields.String:
    return _Text(
        data_key=data_key,
        load_default="",
        validate=validate.Length(max=COMMENT_MAX, error=_("Ce texte dépasse {max} caractères.")),
    )


def grid_schema(framework: Framework, competencies: Sequence[Competency]) -> _GridSchema:
    """Return a schema reading the flat form of a grid for these competencies."""
    scale = [level.code for level in framework.scale]
    declared: dict[str, fields.Field[Any]] = {
        "revision": fields.Integer(
            required=True,
            strict=False,
            validate=validate.Range(
                min=0, max=INTEGER_MAX, error=_("Valeur invalide : rechargez la page.")
            ),
        ),
        "commentaire": _text(),
        "action": fields.String(
            required=True,
            validate=validate.OneOf(["brouillon", "publier"], error=_("Action inconnue.")),
        ),
    }
    for competency in competencies:
        for criterion in competency.criteria:
            declared[_key(level_field(criterion.code))] = fields.String(
                data_key=level_field(criterion.code),
                load_default=None,
                validate=validate.OneOf(scale, error=_("Ce niveau n’est pas dans l’échelle.")),
            )
        declared[_key(comment_field(competency.code))] = _text(comment_field(competency.code))
        declared[_key(override_field(competency.code))] = fields.String(
            data_key=override_field(competency.code),
            load_default="",
            validate=validate.OneOf(list(OVERRIDES), error=_("Décision inconnue.")),
        )
        declared[_key(justification_field(competency.code))] = _text(
            justification_field(competency.code)
        )
    schema = cast("_GridSchema", _GridSchema.from_dict(declared, name="GridSchema")())
    schema.competencies = tuple(competencies)
    return schema


class _GridSchema(Schema):
    """Checks across fields; returns a :class:`GridInput`."""

    competencies: tuple[Competency, ...] = ()

    @validates_schema
    def _check(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        publishing = data.get("action") == "publier"
        for competency in self.competencies:
            justification = justification_field(competency.code)
            if data.get(_key(override_field(competency.code))) and not written(
                data.get(_key(justification), "")
            ):
                errors[justification] = [
                    str(_("Justifiez la décision qui s’écarte de la règle du référentiel."))
                ]
            if publishing:
                for criterion in competency.criteria:
                    if data.get(_key(level_field(criterion.code))) is None:
                        errors[level_field(criterion.code)] = [
                            str(_("Choisissez un niveau : tous les critères sont requis."))
                        ]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _make(self, data: dict[str, Any], **_kwargs: Any) -> GridInput:
        levels = {}
        decisions = {}
        for competency in self.competencies:
            for criterion in competency.criteria:
                level = data.get(_key(level_field(criterion.code)))
                if level is not None:
                    levels[criterion.code] = level
            override = OVERRIDES[data[_key(override_field(competency.code))]]
            justification = written(data[_key(justification_field(competency.code))])
            decisions[competency.code] = CompetencyInput(
                comment=data[_key(comment_field(competency.code))].strip(),
                override=override,
                justification=justification if override is not None else None,
            )
        return GridInput(
            revision=data["revision"],
            levels=levels,
            competencies=decisions,
            comment=data["commentaire"].strip(),
            publish=data["action"] == "publier",
        )


def load_grid(
    form: Mapping[str, str], framework: Framework, competencies: Sequence[Competency]
) -> GridInput:
    """Read a posted grid; raise ``ValidationError`` naming each wrong or missing field."""
    # Empty radio groups and selects are simply absent from a form; blank means unset.
    data = {name: value for name, value in form.items() if not name.startswith("niveau-") or value}
    result: GridInput = grid_schema(framework, competencies).load(data)
    return result
