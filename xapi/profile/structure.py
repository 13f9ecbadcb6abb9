"""The structure rules of xAPI Profiles 1.0 (Part Two) that a program can check.

Each failure is one "where: what" line, so a faulty edit of the profile says exactly what to
fix. Rules that need judgement (is a definition clear? is a concept defined in another
profile?) stay with the author.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft7Validator, SchemaError  # type: ignore[import-untyped]
from rfc3339_validator import validate_rfc3339  # type: ignore[import-untyped]

from xapi.conformance import is_absolute_iri, is_language_tag
from xapi.profile.jsonpath import JsonPathError, compile_path
from xapi.vocabulary import PROFILES_CONTEXT, PROFILES_SPEC

CONTEXT_KINDS = ("parent", "grouping", "category", "other")
PATTERN_KINDS = ("alternates", "optional", "oneOrMore", "sequence", "zeroOrMore")
PRESENCES = ("included", "excluded", "recommended")
_CONCEPT_TYPES = {
    "Verb", "ActivityType", "AttachmentUsageType", "ContextExtension", "ResultExtension",
    "ActivityExtension", "StateResource", "AgentProfileResource", "ActivityProfileResource",
    "Activity",
}  # fmt: skip
EXTENSION_TYPES = {"ContextExtension", "ResultExtension", "ActivityExtension"}
_SEMANTIC = ("broader", "broadMatch", "narrower", "narrowMatch", "related", "relatedMatch")
_KEYS = {
    "profile": {
        "id", "type", "conformsTo", "prefLabel", "definition", "seeAlso", "versions",
        "author", "concepts", "templates", "patterns",
    },
    "concept": {
        "id", "type", "inScheme", "prefLabel", "definition", "deprecated", *_SEMANTIC,
        "exactMatch", "recommendedActivityTypes", "recommendedVerbs", "context", "schema",
        "inlineSchema", "contentType", "activityDefinition",
    },
    "template": {
        "id", "type", "inScheme", "prefLabel", "definition", "deprecated", "verb",
        "objectActivityType", "contextGroupingActivityType", "contextParentActivityType",
        "contextOtherActivityType", "contextCategoryActivityType", "attachmentUsageType",
        "objectStatementRefTemplate", "contextStatementRefTemplate", "rules",
    },
    "rule": {"location", "selector", "presence", "any", "all", "none", "scopeNote"},
    "pattern": {
        "id", "type", "primary", "inScheme", "prefLabel", "definition", "deprecated",
        *PATTERN_KINDS,
    },
}  # fmt: skip


def check_profile_document(document: Mapping[str, Any]) -> list[str]:
    """Return every breach of the xAPI Profiles 1.0 structure rules a program can check."""
    problems: list[str] = []
    _Check(problems).profile(document)
    return problems


class _Check:
    """The structure rules, each failure a "where: what" line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.ids: set[str] = set()

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def profile(self, doc: Mapping[str, Any]) -> None:
        if not isinstance(doc, Mapping):
            self.fail("profile", "must be a JSON object")
            return
        for where, value in _walk(doc, "profile"):
            if value is None or value in ("", [], {}):
                self.fail(where, "must not be null or empty")
        context = doc.get("@context")
        if context != PROFILES_CONTEXT and not (
            isinstance(context, list) and PROFILES_CONTEXT in context
        ):
            self.fail("profile.@context", f"must be {PROFILES_CONTEXT}")
        self.keys("profile", doc, "profile")
        self.iri("profile.id", doc.get("id"))
        self.equal("profile.type", doc.get("type"), "Profile")
        self.equal("profile.conformsTo", doc.get("conformsTo"), PROFILES_SPEC)
        self.labels("profile", doc, required=True)
        version = self.versions(doc)
        author = doc.get("author")
        if not isinstance(author, Mapping) or author.get("type") not in {"Organization", "Person"}:
            self.fail("profile.author", "must be an Organization or a Person")
        elif not isinstance(author.get("name"), str):
            self.fail("profile.author.name", "is required")
        templates = _list(doc.get("templates"))
        patterns = _list(doc.get("patterns"))
        template_ids = {t.get("id") for t in templates if isinstance(t, Mapping)}
        for i, concept in enumerate(_list(doc.get("concepts"))):
            self.concept(f"concepts[{i}]", concept, version)
        for i, template in enumerate(templates):
            self.template(f"templates[{i}]", template, version, template_ids)
        self.patterns(patterns, version, template_ids)

    def versions(self, doc: Mapping[str, Any]) -> str | None:
        versions = _list(doc.get("versions"))
        if not versions:
            self.fail("profile.versions", "must list at least one version")
            return None
        seen: set[str] = set()
        for i, version in enumerate(versions):
            where = f"versions[{i}]"
            if not isinstance(version, Mapping):
                self.fail(where, "must be an object")
                continue
            self.iri(f"{where}.id", version.get("id"))
            if version.get("id") == doc.get("id") or version.get("id") in seen:
                self.fail(f"{where}.id", "must differ from the profile id and other versions")
            seen.add(str(version.get("id")))
            stamp = version.get("generatedAtTime")
            if not (isinstance(stamp, str) and validate_rfc3339(stamp)):
                self.fail(f"{where}.generatedAtTime", "must be an RFC 3339 timestamp")
            for j, earlier in enumerate(_list(version.get("wasRevisionOf"))):
                self.iri(f"{where}.wasRevisionOf[{j}]", earlier)
        first = versions[0]
        return str(first.get("id")) if isinstance(first, Mapping) else None

    def concept(self, where: str, concept: Any, version: str | None) -> None:
        if not self.node(where, concept, "concept", version):
            return
        kind = concept.get("type")
        if kind not in _CONCEPT_TYPES:
            self.fail(f"{where}.type", f"{kind!r} is not a concept type")
            return
        self.labels(where, concept, required=kind != "Activity")
        for key in (*_SEMANTIC, "exactMatch", "recommendedActivityTypes", "recommendedVerbs"):
            for j, iri in enumerate(_list(concept.get(key))):
                self.iri(f"{where}.{key}[{j}]", iri)
        if "recommendedActivityTypes" in concept and kind != "ActivityExtension":
            self.fail(f"{where}.recommendedActivityTypes", "is only for an ActivityExtension")
        if "recommendedVerbs" in concept and kind not in {"ContextExtension", "ResultExtension"}:
            self.fail(f"{where}.recommendedVerbs", "is only for a context or result extension")
        if "schema" in concept and "inlineSchema" in concept:
            self.fail(where, "must not have both schema and inlineSchema")
        if "inlineSchema" in concept:
            try:
                Draft7Validator.check_schema(json.loads(concept["inlineSchema"]))
            except (TypeError, ValueError, SchemaError) as error:
                self.fail(f"{where}.inlineSchema", f"is not a JSON Schema ({error})")
        if kind == "Activity" and not isinstance(concept.get("activityDefinition"), Mapping):
            self.fail(f"{where}.activityDefinition", "is required")

    def template(
        self, where: str, template: Any, version: str | None, template_ids: set[Any]
    ) -> None:
        if not self.node(where, template, "template", version):
            return
        self.equal(f"{where}.type", template.get("type"), "StatementTemplate")
        self.labels(where, template, required=True)
        for key in ("verb", "objectActivityType"):
            if key in template:
                self.iri(f"{where}.{key}", template[key])
        for kind in CONTEXT_KINDS:
            key = f"context{kind.capitalize()}ActivityType"
            for j, iri in enumerate(_list(template.get(key))):
                self.iri(f"{where}.{key}[{j}]", iri)
        for j, iri in enumerate(_list(template.get("attachmentUsageType"))):
            self.iri(f"{where}.attachmentUsageType[{j}]", iri)
        if "objectStatementRefTemplate" in template and "objectActivityType" in template:
            self.fail(where, "must not have both objectStatementRefTemplate and objectActivityType")
        for key in ("objectStatementRefTemplate", "contextStatementRefTemplate"):
            for j, ref in enumerate(_list(template.get(key))):
                if ref not in template_ids:
                    self.fail(f"{where}.{key}[{j}]", f"{ref!r} is not a template of this profile")
        for j, rule in enumerate(_list(template.get("rules"))):
            self.rule(f"{where}.rules[{j}]", rule)

    def rule(self, where: str, rule: Any) -> None:
        if not isinstance(rule, Mapping):
            self.fail(where, "must be an object")
            return
        self.keys(where, rule, "rule")
        if not any(key in rule for key in ("presence", "any", "all", "none")):
            self.fail(where, "needs presence, any, all or none")
        if "presence" in rule and rule["presence"] not in PRESENCES:
            self.fail(f"{where}.presence", "must be included, excluded or recommended")
        for key in ("any", "all", "none"):
            if key in rule and not isinstance(rule[key], list):
                self.fail(f"{where}.{key}", "must be an array")
        for key in ("location", "selector"):
            if key not in rule and key == "selector":
                continue
            path = rule.get(key)
            if not isinstance(path, str):
                self.fail(f"{where}.{key}", "must be a JSONPath string")
                continue
            try:
                compile_path(path)
            except JsonPathError as error:
                self.fail(f"{where}.{key}", str(error))

    def patterns(self, patterns: list[Any], version: str | None, template_ids: set[Any]) -> None:
        by_id: dict[str, Mapping[str, Any]] = {}
        for i, pattern in enumerate(patterns):
            where = f"patterns[{i}]"
            if not self.node(where, pattern, "pattern", version, needs_scheme=False):
                continue
            by_id[pattern["id"]] = pattern
            self.equal(f"{where}.type", pattern.get("type"), "Pattern")
            kinds = [k for k in PATTERN_KINDS if k in pattern]
            if len(kinds) != 1:
                self.fail(where, "must have exactly one of " + ", ".join(PATTERN_KINDS))
            if pattern.get("primary"):
                self.labels(where, pattern, required=True)
        for i, pattern in enumerate(patterns):
            if isinstance(pattern, Mapping) and pattern.get("id") in by_id:
                self.pattern_members(f"patterns[{i}]", pattern, by_id, template_ids)
        for pattern_id in by_id:
            if pattern_id in _reachable(pattern_id, by_id, include_self=False):
                self.fail(pattern_id, "must not contain itself")

    def pattern_members(
        self,
        where: str,
        pattern: Mapping[str, Any],
        by_id: Mapping[str, Mapping[str, Any]],
        template_ids: set[Any],
    ) -> None:
        for kind in PATTERN_KINDS:
            if kind not in pattern:
                continue
            members = pattern[kind]
            members = members if isinstance(members, list) else [members]
            for member in members:
                if member not in by_id and member not in template_ids:
                    self.fail(f"{where}.{kind}", f"{member!r} is no template or pattern here")
            if kind == "alternates":
                if len(members) < 2:
                    self.fail(f"{where}.alternates", "needs at least two members")
                for member in members:
                    inner = by_id.get(member, {})
                    if "optional" in inner or "zeroOrMore" in inner:
                        self.fail(f"{where}.alternates", f"{member!r} is optional or zeroOrMore")
            if kind == "sequence" and len(members) < 2 and not pattern.get("primary"):
                self.fail(f"{where}.sequence", "needs at least two members")

    def node(
        self,
        where: str,
        node: Any,
        kind: str,
        version: str | None,
        *,
        needs_scheme: bool = True,
    ) -> bool:
        if not isinstance(node, Mapping):
            self.fail(where, "must be an object")
            return False
        self.keys(where, node, kind)
        identifier = node.get("id")
        self.iri(f"{where}.id", identifier)
        if identifier in self.ids:
            self.fail(f"{where}.id", f"{identifier!r} is defined twice")
        self.ids.add(str(identifier))
        if (needs_scheme or "inScheme" in node) and node.get("inScheme") != version:
            self.fail(f"{where}.inScheme", "must be the current profile version")
        return True

    def keys(self, where: str, node: Mapping[str, Any], kind: str) -> None:
        for key in node:
            # Other properties are allowed only as JSON-LD keywords or (compact) IRIs.
            if key not in _KEYS[kind] and not key.startswith("@") and ":" not in key:
                self.fail(f"{where}.{key}", "is not a property of the xAPI Profiles spec")

    def labels(self, where: str, node: Mapping[str, Any], *, required: bool) -> None:
        for key in ("prefLabel", "definition", "scopeNote"):
            if key not in node:
                if required and key != "scopeNote":
                    self.fail(f"{where}.{key}", "is required")
                continue
            value = node[key]
            if not isinstance(value, Mapping) or not all(
                is_language_tag(tag) and isinstance(text, str) for tag, text in value.items()
            ):
                self.fail(f"{where}.{key}", "must be a language map")

    def iri(self, where: str, value: Any) -> None:
        if not is_absolute_iri(value):
            self.fail(where, "must be an absolute IRI")

    def equal(self, where: str, value: Any, expected: str) -> None:
        if value != expected:
            self.fail(where, f"must be {expected!r}")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _walk(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    yield where, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key not in {"any", "all", "none"}:  # rule values may be anything, even null
                yield from _walk(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{where}[{index}]")


def _reachable(
    start: str, by_id: Mapping[str, Mapping[str, Any]], *, include_self: bool
) -> set[str]:
    seen: set[str] = {start} if include_self else set()
    stack = [start]
    while stack:
        pattern = by_id.get(stack.pop(), {})
        for kind in PATTERN_KINDS:
            members = pattern.get(kind, [])
            for member in members if isinstance(members, list) else [members]:
                if member in by_id and member not in seen:
                    seen.add(member)
                    stack.append(member)
    return seen
