"""Read a CASE 1.1 CFPackage back into a framework (see ``referentiel.exports.case``)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft201909Validator  # type: ignore[import-untyped]

from referentiel.exports.case.writer import EPOCH
from referentiel.loader import FrameworkError, PathKey, Problem, load_document
from referentiel.model import Framework
from referentiel.schemas import FORMAT

SCHEMA_RESOURCE = "data/case-v1p1-cfpackage.schema.json"
# What a package without Jalon extensions gets (see ``load_case``).
DEFAULT_SCALE: tuple[dict[str, Any], ...] = (
    {"code": "non_atteint", "label": "Non atteint", "label_en": "Not met", "is_passing": False},
    {"code": "atteint", "label": "Atteint", "label_en": "Met", "is_passing": True},
)
DEFAULT_RULES: dict[str, Any] = {
    "competency": "all_criteria",
    "min_criteria": None,
    "bloc": "all_competencies",
    "certification": "all_blocs",
}
DEFAULT_MODALITY = ("etude_de_cas", "Étude de cas")


@cache
def case_schema() -> dict[str, Any]:
    """Return the CASE 1.1 CFPackage JSON schema shipped with the package."""
    text = resources.files("referentiel").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Any:
    return Draft201909Validator(case_schema(), format_checker=Draft201909Validator.FORMAT_CHECKER)


def load_case_text(text: str, source: str = "<string>") -> Framework:
    """Load a framework from CASE JSON text; ``source`` names it in error messages."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = Problem((), f"is not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno)
        raise FrameworkError(source, [problem]) from exc
    return load_case(data, source)


def load_case(data: Any, source: str = "<data>") -> Framework:
    """Load a framework from a parsed CASE 1.1 package, or raise ``FrameworkError``.

    The package is checked against the CASE schema, turned into the document a
    ``jalon-referentiel/1`` file holds, and loaded by ``referentiel.loader.load_document``,
    so every check of a framework file applies; each problem is located in the package
    (``CFItems[3].humanCodingScheme``).

    A package written by Jalon comes back whole. A package without Jalon extensions gets
    these defaults:

    - code: the slug of the document's title; level: none; version ``1.0`` and language
      ``fr`` when the document has none; publisher: the creator when there is no publisher;
      ``updated``: the date of ``lastChangeDateTime`` (none for ``2000-01-01T00:00:00Z``);
    - scale: non_atteint / atteint (only *atteint* passes); rules: the defaults;
    - an item's kind comes from its depth under the document: 1 bloc, 2 competency,
      3 criterion of its competency (deeper is refused); codes are ``humanCodingScheme``,
      else ``B1``, ``C1.2``, and ``<competency>-<n>`` for criteria by position;
    - a rubric is an épreuve: code ``E<n>``, title and description from the rubric,
      modality ``etude_de_cas``, no deliverables, interview or preparation time, covering
      the competencies its criteria point at, in order.

    A competency left without criteria is then reported by the usual checks.
    """
    problems = list(_schema_problems(data))
    if problems:
        raise FrameworkError(source, problems)
    reader = _Reader(data)
    document = reader.document()
    if reader.problems:
        raise FrameworkError(source, reader.problems)
    try:
        return load_document(document, source)
    except FrameworkError as exc:
        raise FrameworkError(source, [reader.locate(p) for p in exc.problems]) from exc


def _schema_problems(data: Any) -> Iterator[Problem]:
    for error in _validator().iter_errors(data):
        path: PathKey = tuple(error.absolute_path)
        if error.validator == "required":
            missing = [
                name for name in error.validator_value if error.message.startswith(repr(name))
            ]
            yield Problem((*path, *missing[:1]), "is required")
        else:
            yield Problem(path, str(error.message))


def _jalon(node: Any) -> dict[str, Any]:
    """Return the ``extensions.jalon`` mapping of a CASE object, or an empty one."""
    extensions = node.get("extensions") if isinstance(node, dict) else None
    jalon = extensions.get("jalon") if isinstance(extensions, dict) else None
    return jalon if isinstance(jalon, dict) else {}


def slug(text: str) -> str:
    """Return ``text`` as a framework code: ASCII lower-case words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "referentiel"


def _language(tag: str) -> str:
    """Lower-case the primary subtag of a language tag (``FR-ca`` → ``fr-ca``), as files want."""
    primary, _, rest = tag.partition("-")
    return f"{primary.lower()}-{rest}" if rest else primary.lower()


def _order(sequence: Any, index: int) -> tuple[float, int]:
    """Sort by ``sequenceNumber`` (or ``position``) when there is one, then by place."""
    return (sequence if isinstance(sequence, int) else float("inf"), index)


_PARENT_KIND = {
    "bloc": "document",
    "competency": "bloc",
    "activity": "bloc",
    "criterion": "competency",
}
_DEPTH_KIND = {1: "bloc", 2: "competency", 3: "criterion"}
# Criteria as found in the package (rubric criteria, or items) with where each was found.
_Found = list[tuple[dict[str, Any], PathKey]]
_EPREUVE_EXTENSION = (
    "code",
    "modality",
    "modality_label",
    "deliverables",
    "interview",
    "preparation_time",
    "competencies",
)


class _Reader:
    """Turn a schema-valid package into a framework document, noting where each part came from."""

    def __init__(self, package: dict[str, Any]) -> None:
        self.package = package
        self.problems: list[Problem] = []
        # Path in the framework document -> path in the package; see ``locate``.
        self.origins: dict[PathKey, PathKey] = {}
        self.cf_document: dict[str, Any] = package["CFDocument"]
        self.root: str = self.cf_document["identifier"]
        self.items: dict[str, tuple[int, dict[str, Any]]] = {}
        self.parent: dict[str, tuple[str, int]] = {}  # child -> (parent, association index)
        self.children: dict[str, list[tuple[Any, int, str]]] = {}
        self.related: dict[str, list[tuple[Any, int, str]]] = {}
        self.kind: dict[str, str] = {}
        self.orphans: set[str] = set()  # items whose isChildOf is already reported
        # Per rubric: the competencies its criteria point at, in order, and where.
        self.covered: list[list[tuple[str, PathKey]]] = []

    def problem(self, path: PathKey, message: str) -> None:
        self.problems.append(Problem(path, message))

    def locate(self, problem: Problem) -> Problem:
        """Move a problem found in the framework document to where it comes from in the package."""
        for end in range(len(problem.path), -1, -1):
            origin = self.origins.get(problem.path[:end])
            if origin is not None:
                return Problem((*origin, *problem.path[end:]), problem.message, problem.line)
        return problem

    def name(self, identifier: str) -> str:
        if identifier == self.root:
            return "the document"
        index, item = self.items[identifier]
        code = item.get("humanCodingScheme", f"CFItems[{index}]")
        return f"{self.kind.get(identifier, 'item')} {code}"

    # The tree.

    def read_items(self) -> None:
        for i, item in enumerate(self.package.get("CFItems", [])):
            identifier = item["identifier"]
            if identifier in self.items or identifier == self.root:
                self.problem(("CFItems", i, "identifier"), f"duplicate identifier {identifier}")
            else:
                self.items[identifier] = (i, item)

    def read_associations(self) -> None:
        for i, association in enumerate(self.package.get("CFAssociations", [])):
            kind = association["associationType"]
            origin = association["originNodeURI"]["identifier"]
            destination = association["destinationNodeURI"]["identifier"]
            entry = (association.get("sequenceNumber"), i, origin)
            if kind == "isChildOf":
                if destination not in self.items and destination != self.root:
                    self.orphans.add(origin)
                if origin not in self.items:
                    self.problem(
                        ("CFAssociations", i, "originNodeURI"),
                        f"isChildOf names an unknown item {origin}",
                    )
                elif destination not in self.items and destination != self.root:
                    self.problem(
                        ("CFAssociations", i, "destinationNodeURI"),
                        f"isChildOf points at an unknown node {destination}",
                    )
                elif origin in self.parent:
                    first = self.parent[origin][1]
                    self.problem(
                        ("CFAssociations", i),
                        f"gives a second parent to an item (first in CFAssociations[{first}])",
                    )
                else:
                    self.parent[origin] = (destination, i)
                    self.children.setdefault(destination, []).append(entry)
            elif kind == "isRelatedTo":
                self.related.setdefault(origin, []).append((*entry[:2], destination))

    def classify(self) -> None:
        """Give each item its kind, from its Jalon extension or its depth under the document."""
        depth = {self.root: 0}
        queue = deque([self.root])
        while queue:
            node = queue.popleft()
            for _, _, child in self.children.get(node, []):
                if child not in depth:
                    depth[child] = depth[node] + 1
                    queue.append(child)
        for identifier, (i, item) in self.items.items():
            if identifier not in depth:
                if identifier in self.orphans:
                    continue
                if identifier in self.parent:
                    self.problem(("CFItems", i), "does not reach the document through isChildOf")
                else:
                    self.problem(("CFItems", i), "is attached to nothing: it has no isChildOf")
                continue
            kind = _jalon(item).get("kind")
            if kind not in _PARENT_KIND:
                kind = _DEPTH_KIND.get(depth[identifier])
            if kind is None:
                self.problem(
                    ("CFItems", i),
                    "is nested too deep: Jalon holds blocs, their "
                    "competencies and the criteria of these",
                )
                continue
            self.kind[identifier] = kind
        for identifier, kind in self.kind.items():
            parent, a = self.parent[identifier]
            parent_kind = "document" if parent == self.root else self.kind.get(parent)
            if parent_kind != _PARENT_KIND[kind]:
                self.problem(
                    ("CFAssociations", a),
                    f"makes a {kind} the child of "
                    f"{self.name(parent)}: it must be the child of a {_PARENT_KIND[kind]}",
                )

    def children_of(self, node: str, kind: str) -> list[str]:
        entries = sorted(self.children.get(node, []), key=lambda e: _order(e[0], e[1]))
        return [child for _, _, child in entries if self.kind.get(child) == kind]

    # The document.

    def document(self) -> dict[str, Any]:
        self.read_items()
        self.read_associations()
        self.classify()
        if self.problems:
            return {}
        jalon = _jalon(self.cf_document)
        codes: dict[str, str] = {}
        criteria = self.read_rubrics()
        blocs = self.blocs(codes, criteria)
        document: dict[str, Any] = {
            "format": jalon.get("format", FORMAT),
            "framework": self.identity(jalon),
            "scale": jalon.get("scale", [dict(level) for level in DEFAULT_SCALE]),
            "rules": jalon.get("rules", dict(DEFAULT_RULES)),
            "blocs": blocs,
            "activities": self.activities(codes),
            "epreuves": self.epreuves(codes),
        }
        extension = ("CFDocument", "extensions", "jalon")
        for key in ("format", "scale", "rules"):
            self.origins[(key,)] = (*extension, key)
        return document

    def identity(self, jalon: dict[str, Any]) -> dict[str, Any]:
        cf = self.cf_document
        stamp = cf["lastChangeDateTime"]
        fields = {
            "code": ("code", jalon["code"]) if "code" in jalon else ("title", slug(cf["title"])),
            "title": ("title", cf["title"]),
            "level": ("level", jalon.get("level")),
            "version": ("version", cf.get("version") or "1.0"),
            "language": ("language", _language(cf.get("language") or "fr")),
            "publisher": ("publisher", cf.get("publisher") or cf["creator"]),
            "description": ("description", cf.get("description")),
            "updated": ("updated", jalon["updated"])
            if "updated" in jalon
            else ("lastChangeDateTime", None if stamp == EPOCH else stamp[:10]),
        }
        self.origins[("framework",)] = ("CFDocument",)
        out: dict[str, Any] = {}
        for key, (case_key, value) in fields.items():
            in_extension = key in ("code", "level", "updated") and case_key == key
            where = ("CFDocument", "extensions", "jalon") if in_extension else ("CFDocument",)
            self.origins[("framework", key)] = (*where, case_key)
            out[key] = value
        if "rncp" in jalon:
            self.origins[("framework", "rncp")] = ("CFDocument", "extensions", "jalon", "rncp")
            out["rncp"] = jalon["rncp"]
        return out

    def read_rubrics(self) -> dict[str, _Found]:
        """Collect each competency's criteria from the rubrics, keeping the first of each uri."""
        criteria: dict[str, _Found] = {}
        seen: set[tuple[str, str]] = set()
        for r, rubric in enumerate(self.package.get("CFRubrics", [])):
            covers: list[tuple[str, PathKey]] = []
            entries = list(enumerate(rubric.get("CFRubricCriteria", [])))
            for q, criterion in sorted(entries, key=lambda e: _order(e[1].get("position"), e[0])):
                where: PathKey = ("CFRubrics", r, "CFRubricCriteria", q)
                link = criterion.get("CFItemURI")
                if link is None:
                    self.problem(where, "criterion without competency: it has no CFItemURI")
                    continue
                target = link["identifier"]
                if target not in self.items:
                    self.problem((*where, "CFItemURI"), f"points at an unknown item {target}")
                    continue
                if self.kind.get(target) != "competency":
                    self.problem(
                        (*where, "CFItemURI"),
                        f"points at {self.name(target)}, which is not a competency",
                    )
                    continue
                if target not in {c for c, _ in covers}:
                    covers.append((target, (*where, "CFItemURI")))
                if (target, criterion["uri"]) not in seen:
                    seen.add((target, criterion["uri"]))
                    criteria.setdefault(target, []).append((criterion, where))
            self.covered.append(covers)
        return criteria

    def blocs(self, codes: dict[str, str], criteria: dict[str, _Found]) -> list[dict[str, Any]]:
        blocs: list[dict[str, Any]] = []
        for b, bloc_id in enumerate(self.children_of(self.root, "bloc")):
            i, item = self.items[bloc_id]
            code = item.get("humanCodingScheme") or f"B{b + 1}"
            codes[bloc_id] = code
            self.map_item(("blocs", b), i, title="fullStatement")
            competencies: list[dict[str, Any]] = []
            for c, competency_id in enumerate(self.children_of(bloc_id, "competency")):
                j, competency = self.items[competency_id]
                codes[competency_id] = competency.get("humanCodingScheme") or f"C{b + 1}.{c + 1}"
                at: PathKey = ("blocs", b, "competencies", c)
                self.map_item(at, j, statement="fullStatement")
                competencies.append(
                    {
                        "code": codes[competency_id],
                        "statement": competency["fullStatement"],
                        "criteria": self.criteria(
                            at,
                            codes[competency_id],
                            [
                                *criteria.get(competency_id, []),
                                *self.item_criteria(competency_id),
                            ],
                        ),
                    }
                )
            bloc = {"code": code, "title": item["fullStatement"], "competencies": competencies}
            rncp = _jalon(item).get("rncp")
            if rncp is not None:
                self.origins[("blocs", b, "rncp")] = ("CFItems", i, "extensions", "jalon", "rncp")
                bloc["rncp"] = rncp
            blocs.append(bloc)
        return blocs

    def item_criteria(self, competency_id: str) -> Iterator[tuple[dict[str, Any], PathKey]]:
        """Yield the criteria a package without rubrics gives as items under a competency."""
        for criterion_id in self.children_of(competency_id, "criterion"):
            i, item = self.items[criterion_id]
            text = {"description": item["fullStatement"]}
            jalon = {"code": item["humanCodingScheme"]} if item.get("humanCodingScheme") else {}
            yield text | {"extensions": {"jalon": jalon}}, ("CFItems", i)

    def criteria(self, at: PathKey, competency: str, found: _Found) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for k, (criterion, where) in enumerate(found):
            jalon = _jalon(criterion)
            self.origins[(*at, "criteria", k)] = where
            if where[0] == "CFItems":
                self.origins[(*at, "criteria", k, "text")] = (*where, "fullStatement")
                self.origins[(*at, "criteria", k, "code")] = (*where, "humanCodingScheme")
            else:
                self.origins[(*at, "criteria", k, "text")] = (*where, "description")
                self.origins[(*at, "criteria", k, "code")] = (*where, "extensions", "jalon", "code")
            out.append(
                {
                    "code": jalon.get("code", f"{competency}-{k + 1}"),
                    "text": criterion.get("description", ""),
                }
            )
        return out

    def map_item(self, at: PathKey, index: int, **fields: str) -> None:
        self.origins[at] = ("CFItems", index)
        self.origins[(*at, "code")] = ("CFItems", index, "humanCodingScheme")
        for key, case_key in fields.items():
            self.origins[(*at, key)] = ("CFItems", index, case_key)

    def activities(self, codes: dict[str, str]) -> list[dict[str, Any]]:
        found = [(self.parent[a][1], a) for a, kind in self.kind.items() if kind == "activity"]
        sequence = [a.get("sequenceNumber") for a in self.package["CFAssociations"]]
        ordered = sorted(found, key=lambda e: _order(sequence[e[0]], e[0]))
        out: list[dict[str, Any]] = []
        for n, (_, activity_id) in enumerate(ordered):
            i, item = self.items[activity_id]
            self.map_item(("activities", n), i, title="fullStatement")
            competencies: list[str] = []
            related = sorted(self.related.get(activity_id, []), key=lambda e: _order(e[0], e[1]))
            for _, a, target in related:
                if self.kind.get(target) == "competency":
                    self.origins[("activities", n, "competencies", len(competencies))] = (
                        "CFAssociations",
                        a,
                    )
                    competencies.append(codes[target])
                else:
                    what = self.name(target) if target in self.items else f"unknown node {target}"
                    self.problem(
                        ("CFAssociations", a, "destinationNodeURI"),
                        f"relates an activity to {what}: it must be a competency",
                    )
            self.origins[("activities", n, "tasks")] = (
                "CFItems",
                i,
                "extensions",
                "jalon",
                "tasks",
            )
            out.append(
                {
                    "code": item.get("humanCodingScheme") or f"A{n + 1}",
                    "bloc": codes[self.parent[activity_id][0]],
                    "title": item["fullStatement"],
                    "tasks": _jalon(item).get("tasks", []),
                    "competencies": competencies,
                }
            )
        return out

    def epreuves(self, codes: dict[str, str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for r, rubric in enumerate(self.package.get("CFRubrics", [])):
            jalon = _jalon(rubric)
            if jalon.get("kind") == "criteria":
                continue
            e = len(out)
            title = rubric.get("title") or f"Épreuve {e + 1}"
            epreuve: dict[str, Any] = {
                "code": f"E{e + 1}",
                "title": title,
                "modality": DEFAULT_MODALITY[0],
                "modality_label": DEFAULT_MODALITY[1],
                "description": rubric.get("description") or title,
                "deliverables": [],
                "interview": [],
                "preparation_time": None,
                "competencies": [codes[c] for c, _ in self.covered[r]],
            }
            self.origins[("epreuves", e)] = ("CFRubrics", r)
            for key in ("title", "description"):
                self.origins[("epreuves", e, key)] = ("CFRubrics", r, key)
            for i, (_, where) in enumerate(self.covered[r]):
                self.origins[("epreuves", e, "competencies", i)] = where
            for key in _EPREUVE_EXTENSION:
                if key in jalon:
                    epreuve[key] = jalon[key]
                    self.origins[("epreuves", e, key)] = (
                        "CFRubrics",
                        r,
                        "extensions",
                        "jalon",
                        key,
                    )
            out.append(epreuve)
        return out
