"""Check statements against a profile: statement templates, extensions and patterns.

This is the Profile Validator of xAPI Profiles 1.0 (Part Three, section 2): a statement is
matched to the templates whose determining properties it has (verb, object activity type,
context activity types, attachment usage types), then must follow every rule of each of
them; a series of statements sharing a registration must follow a primary pattern, matched
greedily, in timestamp order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeGuard

from jsonschema import Draft7Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

from xapi.profile.model import Pattern, Profile, Rule, Template
from xapi.profile.structure import CONTEXT_KINDS

Statement = str | bytes | Mapping[str, Any]
Lookup = Callable[[str], Statement | None]
"""Find a statement by id (for StatementRef templates), or None when it is not at hand."""

_MAX_REFERENCE_DEPTH = 8
_PLACEMENTS = {"ContextExtension": "context", "ResultExtension": "result"}
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a statement breaks the profile."""

    template: str | None
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.template} " if self.template else ""
        return f"{where}{self.location}: {self.message}"


def validate(
    statement: Statement, profile: Profile, lookup: Lookup | None = None
) -> list[Violation]:
    """Return every way ``statement`` breaks ``profile``; an empty list means it conforms."""
    return _validate(_load(statement), profile, lookup, 0)[0]


def matching_templates(statement: Statement, profile: Profile) -> list[str]:
    """Return the ids of the templates whose determining properties ``statement`` has."""
    data = _load(statement)
    return [t.id for t in profile.templates if matches_determining_properties(data, t)]


def matches_determining_properties(statement: Mapping[str, Any], template: Template) -> bool:
    """Return whether a (normalized) statement has every determining property of ``template``."""
    if template.verb is not None and _dig(statement, "verb", "id") != template.verb:
        return False
    if template.object_activity_type is not None:
        target = statement.get("object")
        if not _is_activity(target) or _dig(target, "definition", "type") != (
            template.object_activity_type
        ):
            return False
    activities = _dig(statement, "context", "contextActivities") or {}
    for kind, required in template.context_activity_types.items():
        present = {_dig(a, "definition", "type") for a in activities.get(kind, [])}
        if not set(required) <= present:
            return False
    if template.attachment_usage_types:
        usages = {a.get("usageType") for a in statement.get("attachments", []) if _is_map(a)}
        if not set(template.attachment_usage_types) <= usages:
            return False
    return True


def follows(
    statements: Sequence[Statement], profile: Profile, lookup: Lookup | None = None
) -> list[Violation]:
    """Return why a registration's statements follow no primary pattern (empty: they do)."""
    loaded = [_load(s) for s in statements]
    violations: list[Violation] = []
    steps: list[tuple[datetime, int, frozenset[str]]] = []
    for index, data in enumerate(loaded):
        problems, matched = _validate(data, profile, lookup, 0)
        for problem in problems:
            location = f"statements[{index}] {problem.location}"
            violations.append(Violation(problem.template, location, problem.message))
        steps.append((_moment(data.get("timestamp")), index, frozenset(matched)))
    if violations:
        return violations
    ordered = [matched for _, _, matched in sorted(steps, key=lambda s: (s[0], s[1]))]
    patterns = {p.id: p for p in profile.patterns}
    for pattern in profile.patterns:
        if pattern.primary:
            outcome, remaining = _matches(ordered, pattern.id, patterns)
            if outcome is _Outcome.SUCCESS and not remaining:
                return []
    names = ", ".join(p.id for p in profile.patterns if p.primary) or "none defined"
    return [Violation(None, "$", f"the statements follow no primary pattern ({names})")]


def _validate(
    data: Mapping[str, Any], profile: Profile, lookup: Lookup | None, depth: int
) -> tuple[list[Violation], list[str]]:
    """Return the violations and the ids of the templates matched and followed."""
    violations = _extension_violations(data, profile)
    candidates = [t for t in profile.templates if matches_determining_properties(data, t)]
    if not candidates:
        verb = _dig(data, "verb", "id")
        kind = _dig(data, "object", "definition", "type")
        message = f"matches no statement template (verb {verb!r}, object type {kind!r})"
        return [*violations, Violation(None, "$", message)], []
    followed = []
    for template in candidates:
        problems = _template_violations(data, template, profile, lookup, depth)
        violations.extend(problems)
        if not problems:
            followed.append(template.id)
    return violations, followed


def _template_violations(
    data: Mapping[str, Any],
    template: Template,
    profile: Profile,
    lookup: Lookup | None,
    depth: int,
) -> list[Violation]:
    found: list[Violation] = []
    references = (
        ("$.object", data.get("object"), template.object_statement_ref_templates),
        (
            "$.context.statement",
            _dig(data, "context", "statement"),
            template.context_statement_ref_templates,
        ),
    )
    for location, reference, allowed in references:
        if allowed is None:
            continue
        message = _reference_problem(reference, allowed, profile, lookup, depth)
        if message is not None:
            found.append(Violation(template.id, location, message))
    for rule in template.rules:
        message = _rule_problem(data, rule)
        if message is not None:
            found.append(Violation(template.id, rule.location.text, message))
    return found


def _reference_problem(
    reference: Any,
    allowed: tuple[str, ...],
    profile: Profile,
    lookup: Lookup | None,
    depth: int,
) -> str | None:
    if not (_is_map(reference) and reference.get("objectType") == "StatementRef"):
        return "must be a StatementRef to a statement of " + ", ".join(allowed)
    if lookup is None or depth >= _MAX_REFERENCE_DEPTH:
        return None
    target = lookup(str(reference.get("id")))
    if target is None:
        return None  # not at hand: the specification only checks what it can see
    _, followed = _validate(_load(target), profile, lookup, depth + 1)
    if not set(followed) & set(allowed):
        return f"refers to {reference.get('id')}, which follows none of " + ", ".join(allowed)
    return None


def _rule_problem(statement: Mapping[str, Any], rule: Rule) -> str | None:
    """Apply one rule as the specification's ``follows_rule`` does; return why it fails."""
    values = rule.location.find(statement)
    unmatchable = 0
    if rule.selector is not None:
        selected = []
        for value in values:
            found = rule.selector.find(value)
            unmatchable += not found
            selected.extend(found)
        values = selected
    present = bool(values) or unmatchable > 0
    strict = True
    if rule.presence == "included":
        if unmatchable:
            return f"{unmatchable} value(s) lack {rule.selector.text if rule.selector else ''}"
        if not values:
            return "is required"
    elif rule.presence == "excluded":
        if values:
            return "must not be present"
    elif rule.presence == "recommended":
        strict = False
    if (
        rule.any is not None
        and (strict or present)
        and not any(_same(value, wanted) for value in values for wanted in rule.any)
    ):
        return f"must include one of {list(rule.any)!r}"
    if rule.all is not None and (strict or present):
        if unmatchable:
            return "has values the selector cannot reach"
        for value in values:
            if not any(_same(value, wanted) for wanted in rule.all):
                return f"{value!r} is not one of {list(rule.all)!r}"
    if rule.none is not None and (strict or present):
        for value in values:
            if any(_same(value, banned) for banned in rule.none):
                return f"{value!r} is not allowed"
    return None


def _extension_violations(data: Mapping[str, Any], profile: Profile) -> list[Violation]:
    """Check the profile's extensions: the right place, and values their schema accepts."""
    places: list[tuple[str, str, str, Any]] = []  # place, location, key, value
    for place in ("context", "result"):
        extensions = _dig(data, place, "extensions")
        if _is_map(extensions):
            places.extend(
                (place, f"$.{place}.extensions[{k!r}]", k, v) for k, v in extensions.items()
            )
    activities = [("$.object", data.get("object"))]
    context_activities = _dig(data, "context", "contextActivities")
    for kind, items in (context_activities if _is_map(context_activities) else {}).items():
        activities.extend(
            (f"$.context.contextActivities.{kind}[{i}]", item) for i, item in enumerate(items)
        )
    for where, activity in activities:
        extensions = _dig(activity, "definition", "extensions") if _is_activity(activity) else None
        if _is_map(extensions):
            places.extend(
                ("activity", f"{where}.definition.extensions[{k!r}]", k, v)
                for k, v in extensions.items()
            )
    found = []
    for place, location, key, value in places:
        extension = profile.extensions.get(key)
        if extension is None:
            continue
        if _PLACEMENTS.get(extension.type, "activity") != place:
            found.append(Violation(None, location, f"a {extension.type} cannot be used here"))
        elif extension.schema is not None:
            error = best_match(Draft7Validator(extension.schema).iter_errors(value))
            if error is not None:
                found.append(Violation(None, location, error.message))
    return found


class _Outcome(Enum):
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILURE = "failure"


_Steps = list[frozenset[str]]


def _matches(
    steps: _Steps, element: str, patterns: Mapping[str, Pattern]
) -> tuple[_Outcome, _Steps]:
    """Match greedily as the specification's ``matches`` (Part Three, 2.2) does."""
    pattern = patterns.get(element)
    if pattern is None:  # a statement template
        if not steps:
            return _Outcome.PARTIAL, []
        if element in steps[0]:
            return _Outcome.SUCCESS, steps[1:]
        return _Outcome.FAILURE, steps
    if pattern.kind == "sequence":
        remaining = steps
        for member in pattern.members:
            outcome, remaining = _matches(remaining, member, patterns)
            if outcome is _Outcome.FAILURE:
                return _Outcome.FAILURE, steps
            if outcome is _Outcome.PARTIAL:
                return _Outcome.PARTIAL, []
        return _Outcome.SUCCESS, remaining
    if pattern.kind == "alternates":
        best, best_rest = _Outcome.FAILURE, steps
        for member in pattern.members:
            outcome, rest = _matches(steps, member, patterns)
            if outcome is _Outcome.SUCCESS:
                best = _Outcome.SUCCESS
                if len(rest) < len(best_rest):
                    best_rest = rest
            if outcome is _Outcome.PARTIAL and best is _Outcome.FAILURE:
                best = _Outcome.PARTIAL
        if best is _Outcome.PARTIAL:
            return _Outcome.PARTIAL, []
        return best, best_rest
    (member,) = pattern.members
    if pattern.kind == "optional":
        if not steps:
            return _Outcome.SUCCESS, []
        outcome, rest = _matches(steps, member, patterns)
        return (outcome, rest) if outcome is not _Outcome.FAILURE else (_Outcome.SUCCESS, steps)
    if pattern.kind == "zeroOrMore":
        last = steps
        while True:
            outcome, rest = _matches(last, member, patterns)
            if outcome is _Outcome.FAILURE:
                return _Outcome.SUCCESS, last
            if outcome is _Outcome.PARTIAL and rest:
                return _Outcome.PARTIAL, rest
            if len(rest) == len(last):
                return _Outcome.SUCCESS, rest
            last = rest
    # oneOrMore
    result, last = _Outcome.FAILURE, steps
    while True:
        outcome, rest = _matches(last, member, patterns)
        if outcome is _Outcome.SUCCESS:
            result = _Outcome.SUCCESS
        elif result is _Outcome.FAILURE and outcome is _Outcome.PARTIAL:
            return _Outcome.PARTIAL, []
        else:
            if outcome is _Outcome.PARTIAL and last:
                return _Outcome.PARTIAL, last
            return result, last
        if len(rest) == len(last):
            return _Outcome.SUCCESS, rest
        last = rest


def _load(statement: Statement) -> dict[str, Any]:
    """Parse a statement and give every contextActivities value as an array (xAPI 2.4.6.2)."""
    text = statement if isinstance(statement, str | bytes) else json.dumps(statement)
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a statement must be a JSON object")
    activities = _dig(data, "context", "contextActivities")
    if isinstance(activities, dict):
        for kind in CONTEXT_KINDS:
            if kind in activities and not isinstance(activities[kind], list):
                activities[kind] = [activities[kind]]
    return data


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not _is_map(value):
            return None
        value = value.get(key)
    return value


def _is_map(value: object) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, Mapping)


def _is_activity(value: Any) -> bool:
    return _is_map(value) and value.get("objectType", "Activity") == "Activity"


def _same(left: Any, right: Any) -> bool:
    """Compare JSON values as JSON does: ``true`` is not ``1``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)


def _moment(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return _EARLIEST
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
