"""Read a framework file, or reject it whole with every problem located.

A problem names the file, the line when the source is YAML, the path of the field
(``blocs[0].competencies[2].criteria``) and what is wrong. Nothing is returned unless the
whole file is valid, so callers never see half a framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from referentiel.model import CompetencyRule, Framework
from referentiel.schemas import FrameworkSchema

PathKey = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a framework file."""

    path: PathKey
    message: str
    line: int | None = None

    @property
    def dotted(self) -> str:
        """Return the path as ``blocs[0].competencies[1].code``."""
        out = ""
        for key in self.path:
            out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
        return out or "(document)"


class FrameworkError(ValueError):
    """A framework source that cannot be loaded, with all its problems."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.dotted))
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s)"]
        for problem in self.problems:
            where = f"{self.source}:{problem.line}" if problem.line else self.source
            lines.append(f"{where}: {problem.dotted}: {problem.message}")
        return "\n".join(lines)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_file(path: str | Path) -> Framework:
    """Load and check a framework file (YAML, or CASE JSON when it ends in ``.json``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkError(str(path), [Problem((), f"cannot be read: {exc}")]) from exc
    if path.suffix.lower() == ".json":
        from referentiel.exports.case import load_case_text

        return load_case_text(text, source=str(path))
    return load_yaml_text(text, source=str(path))


def load_yaml_text(text: str, source: str = "<string>") -> Framework:
    """Load a framework from YAML text; ``source`` names it in error messages."""
    try:
        root = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise FrameworkError(source, [Problem((), f"is not valid YAML: {message}", line)]) from exc
    return load_document(data, source=source, lines=_lines(root))


def load_document(
    data: Any, source: str = "<data>", lines: Mapping[PathKey, int] | None = None
) -> Framework:
    """Load a framework from an already parsed document (the file's mapping)."""
    lines = lines or {}

    def locate(problems: Iterable[tuple[PathKey, str]]) -> list[Problem]:
        return [Problem(path, message, _line_of(path, lines)) for path, message in problems]

    if not isinstance(data, dict):
        raise FrameworkError(
            source, locate([((), "must be a mapping of format, framework, scale, blocs…")])
        )
    try:
        framework: Framework = FrameworkSchema().load(data)
    except ValidationError as exc:
        raise FrameworkError(source, locate(_flatten(exc.messages))) from exc
    problems = locate(check_references(framework))
    if problems:
        raise FrameworkError(source, problems)
    return framework


def check_references(framework: Framework) -> Iterator[tuple[PathKey, str]]:
    """Yield what is inconsistent across the framework: duplicates and dangling codes."""
    yield from _duplicates(framework)
    levels = framework.scale
    if not any(level.is_passing for level in levels):
        yield ("scale",), "needs at least one level with is_passing: true"
    if all(level.is_passing for level in levels):
        yield ("scale",), "needs at least one level with is_passing: false"

    rules = framework.rules
    if rules.competency is CompetencyRule.MIN_CRITERIA and rules.min_criteria is not None:
        for b, bloc in enumerate(framework.blocs):
            for c, competency in enumerate(bloc.competencies):
                if len(competency.criteria) < rules.min_criteria:
                    yield (
                        ("blocs", b, "competencies", c, "criteria"),
                        f"has {len(competency.criteria)} criteria, fewer than rules.min_criteria "
                        f"({rules.min_criteria})",
                    )

    yield from _rncp_codes(framework)
    bloc_codes = {bloc.code for bloc in framework.blocs}
    competencies = {c.code for c in framework.competencies()}
    for a, activity in enumerate(framework.activities):
        if activity.bloc not in bloc_codes:
            yield ("activities", a, "bloc"), f"names an unknown bloc {activity.bloc!r}"
            continue
        for i, code in enumerate(activity.competencies):
            if code not in competencies:
                yield ("activities", a, "competencies", i), f"names an unknown competency {code!r}"
            elif framework.bloc_of(code).code != activity.bloc:
                yield (
                    ("activities", a, "competencies", i),
                    f"{code} belongs to bloc {framework.bloc_of(code).code}, not {activity.bloc}",
                )

    evaluated: set[str] = set()
    for e, epreuve in enumerate(framework.epreuves):
        first: dict[str, int] = {}
        for i, code in enumerate(epreuve.competencies):
            if code in first:
                # Named where it repeats: a competency graded twice in one copy would count
                # twice in the grade and the progress.
                yield (
                    ("epreuves", e, "competencies", i),
                    f"lists {code} again (already epreuves[{e}].competencies[{first[code]}])",
                )
                continue
            first[code] = i
            if code not in competencies:
                yield ("epreuves", e, "competencies", i), f"names an unknown competency {code!r}"
            evaluated.add(code)
    if framework.epreuves:
        for b, bloc in enumerate(framework.blocs):
            for c, competency in enumerate(bloc.competencies):
                if competency.code not in evaluated:
                    yield (
                        ("blocs", b, "competencies", c),
                        f"{competency.code} is evaluated by no épreuve",
                    )


def _rncp_codes(framework: Framework) -> Iterator[tuple[PathKey, str]]:
    """Yield each bloc RNCP code that is not one of the title's, or used twice."""
    title = framework.identity.rncp
    seen: dict[str, int] = {}
    for b, bloc in enumerate(framework.blocs):
        if bloc.rncp is None:
            continue
        where = ("blocs", b, "rncp")
        if title is None:
            yield where, "needs the title's number too (framework.rncp)"
        elif not bloc.rncp.startswith(f"{title}BC"):
            yield where, f"{bloc.rncp} is not a bloc of {title} (framework.rncp)"
        if bloc.rncp in seen:
            yield where, f"duplicate RNCP code {bloc.rncp!r} (already blocs[{seen[bloc.rncp]}])"
        seen.setdefault(bloc.rncp, b)


def _duplicates(framework: Framework) -> Iterator[tuple[PathKey, str]]:
    """Yield every code used a second time, at the place of the second use."""
    seen: dict[str, str] = {}

    def claim(code: str, where: PathKey, what: str) -> Iterator[tuple[PathKey, str]]:
        if code in seen:
            yield where, f"duplicate code {code!r} (already used by {seen[code]})"
        else:
            seen[code] = what

    levels: set[str] = set()
    for i, level in enumerate(framework.scale):
        if level.code in levels:
            yield ("scale", i, "code"), f"duplicate scale level {level.code!r}"
        levels.add(level.code)
    for b, bloc in enumerate(framework.blocs):
        yield from claim(bloc.code, ("blocs", b, "code"), f"bloc {b + 1}")
        for c, competency in enumerate(bloc.competencies):
            yield from claim(
                competency.code, ("blocs", b, "competencies", c, "code"), "a competency"
            )
            for k, criterion in enumerate(competency.criteria):
                where = ("blocs", b, "competencies", c, "criteria", k, "code")
                yield from claim(criterion.code, where, f"a criterion of {competency.code}")
    for a, activity in enumerate(framework.activities):
        yield from claim(activity.code, ("activities", a, "code"), "an activity")
    for e, epreuve in enumerate(framework.epreuves):
        yield from claim(epreuve.code, ("epreuves", e, "code"), "an épreuve")


def _flatten(messages: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, str]]:
    """Turn marshmallow's nested error dict into (path, message) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                yield from _flatten(value, path)
            else:
                yield from _flatten(value, (*path, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, path)
    else:
        text = str(messages)
        yield (
            path,
            {
                "Unknown field.": "is not a known key",
                "Missing data for required field.": "is required",
            }.get(text, text[:1].lower() + text[1:].rstrip(".")),
        )


def _lines(node: yaml.Node | None, path: PathKey = ()) -> dict[PathKey, int]:
    """Map every path of a composed YAML document to its 1-based line."""
    out: dict[PathKey, int] = {}
    if node is None:
        return out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*path, key_node.value)
            out.update(_lines(value_node, key))
            out[key] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_lines(item, (*path, i)))
    return out


def _line_of(path: PathKey, lines: Mapping[PathKey, int]) -> int | None:
    """Return the line of the longest prefix of ``path`` present in the document."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None
