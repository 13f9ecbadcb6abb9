"""The query parameters of getAllCFDocuments: limit, offset, sort, orderBy, filter, fields.

Their form is the 1EdTech REST binding's: ``limit`` ≥ 1 (default 100) and ``offset`` ≥ 0;
``sort`` names a CFDocument property and ``orderBy`` is ``asc`` or ``desc``; ``filter`` is
``property<op>'value'`` with ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=`` or ``~`` (contains,
ignoring case), several joined by `` AND `` or by `` OR ``; ``fields`` lists the properties
to keep. Property names are those of the CASE 1.1 schema's document, so a name the standard
does not have is refused (400, the parameter named) rather than silently matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask_babel import gettext as _

from referentiel.exports.case import case_schema

DEFAULT_LIMIT = 100
# Parameters any page of Jalon accepts (the interface language, a session token): ignored.
SHARED = frozenset({"lang", "lt"})
KNOWN = frozenset({"limit", "offset", "sort", "orderBy", "filter", "fields"})
_PREDICATE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(!=|>=|<=|=|>|<|~)\s*'(.*)'\s*$", re.S)
_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "~": lambda a, b: b.casefold() in a.casefold(),
}


class QueryError(ValueError):
    """A parameter the binding does not allow: its name, the CASE code minor, the reason."""

    def __init__(self, name: str, minor: str, reason: str) -> None:
        super().__init__(reason)
        self.name, self.minor, self.reason = name, minor, reason


@cache
def document_properties() -> tuple[frozenset[str], frozenset[str]]:
    """Return the CFDocument's properties, and those holding one text value (sortable)."""
    properties = case_schema()["$defs"]["CFPckgDocument"]["properties"]
    scalar = frozenset(name for name, spec in properties.items() if spec.get("type") == "string")
    return frozenset(properties) | {"CFPackageURI"}, scalar


@dataclass(frozen=True, slots=True)
class DocumentQuery:
    """A parsed getAllCFDocuments query."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: str | None = None
    descending: bool = False
    predicates: tuple[tuple[str, str, str], ...] = ()
    any_predicate: bool = False  # joined by OR rather than AND
    fields: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> DocumentQuery:
        """Read the query string, or raise ``QueryError`` naming the first bad parameter."""
        for name in args:
            if name not in KNOWN and name not in SHARED:
                raise QueryError(
                    name,
                    "invalid_selection_field",
                    _("Paramètre inconnu : « %(name)s ».", name=name),
                )
        properties, scalar = document_properties()
        sort = args.get("sort") or None
        if sort is not None and sort not in scalar:
            raise QueryError(
                "sort", "invalid_sort_field", _("Tri impossible sur « %(name)s ».", name=sort)
            )
        order = args.get("orderBy", "asc")
        if order not in {"asc", "desc"}:
            raise QueryError(
                "orderBy", "invalid_sort_field", _("orderBy vaut « asc » ou « desc ».")
            )
        fields = None
        if args.get("fields"):
            fields = tuple(f.strip() for f in args["fields"].split(",") if f.strip())
            unknown = [f for f in fields if f not in properties]
            if unknown or not fields:
                names = ", ".join(unknown) or "—"
                raise QueryError(
                    "fields",
                    "invalid_selection_field",
                    _("Champ(s) inconnu(s) : %(names)s.", names=names),
                )
        predicates, any_predicate = _filter(args.get("filter"), scalar)
        return cls(
            limit=_integer(args, "limit", DEFAULT_LIMIT, 1),
            offset=_integer(args, "offset", 0, 0),
            sort=sort,
            descending=order == "desc",
            predicates=predicates,
            any_predicate=any_predicate,
            fields=fields,
        )


def select_documents(
    documents: list[dict[str, Any]], query: DocumentQuery
) -> tuple[list[dict[str, Any]], int]:
    """Filter, sort, page and project; return the page and how many matched in all."""
    if query.predicates:
        join = any if query.any_predicate else all
        documents = [
            d
            for d in documents
            if join(
                isinstance(d.get(name), str) and _OPERATORS[op](d[name], value)
                for name, op, value in query.predicates
            )
        ]
    if query.sort is not None:
        key = query.sort
        # Documents without the property come last, whatever the order.
        present = sorted(
            (d for d in documents if key in d), key=lambda d: d[key], reverse=query.descending
        )
        documents = present + [d for d in documents if key not in d]
    elif query.descending:
        documents = documents[::-1]
    page = documents[query.offset : query.offset + query.limit]
    if query.fields is not None:
        page = [{f: d[f] for f in query.fields if f in d} for d in page]
    return page, len(documents)


def _integer(args: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw.strip()) or int(raw) < minimum:
        reason = _("%(name)s doit être un entier ≥ %(minimum)d.", name=name, minimum=minimum)
        raise QueryError(name, "invalid_selection_field", reason)
    return int(raw)


def _filter(
    text: str | None, scalar: frozenset[str]
) -> tuple[tuple[tuple[str, str, str], ...], bool]:
    if not text:
        return (), False
    if " AND " in text and " OR " in text:
        raise QueryError(
            "filter", "invalid_filter_field", _("Le filtre emploie AND ou OR, pas les deux.")
        )
    any_predicate = " OR " in text
    parts = text.split(" OR " if any_predicate else " AND ")
    predicates = []
    for part in parts:
        match = _PREDICATE.match(part)
        if match is None:
            reason = _("Filtre illisible : « %(part)s ».", part=part.strip())
            raise QueryError("filter", "invalid_filter_field", reason)
        name, op, value = match.groups()
        if name not in scalar:
            reason = _("Filtre impossible sur « %(name)s ».", name=name)
            raise QueryError("filter", "invalid_filter_field", reason)
        predicates.append((name, op, value))
    return tuple(predicates), any_predicate
