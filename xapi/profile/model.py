"""Jalon's xAPI Profile: the JSON-LD document and its parsed form.

The document lives in ``xapi/data/profile.jsonld`` with ``{base_url}`` standing for the
instance's public URL, so its id is ``{base_url}/xapi/profile`` wherever Jalon runs, like the
référentiel IRIs. :func:`load_profile` refuses a document that breaks a structure rule of
xAPI Profiles 1.0 (:mod:`xapi.profile.structure`), so a faulty edit fails the tests instead
of reaching an LRS consumer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from xapi.profile.jsonpath import JsonPath, compile_path
from xapi.profile.structure import (
    CONTEXT_KINDS,
    EXTENSION_TYPES,
    PATTERN_KINDS,
    check_profile_document,
)

PLACEHOLDER = "{base_url}"
MEDIA_TYPE = "application/ld+json"


class ProfileError(ValueError):
    """A profile document breaks the xAPI Profiles structure rules."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid xAPI profile: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Rule:
    """A statement template rule: where to look, and what must (not) be there."""

    location: JsonPath
    selector: JsonPath | None = None
    presence: str | None = None
    any: tuple[Any, ...] | None = None
    all: tuple[Any, ...] | None = None
    none: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class Template:
    """A statement template: its determining properties and its rules."""

    id: str
    verb: str | None
    object_activity_type: str | None
    context_activity_types: Mapping[str, tuple[str, ...]]
    attachment_usage_types: tuple[str, ...]
    object_statement_ref_templates: tuple[str, ...] | None
    context_statement_ref_templates: tuple[str, ...] | None
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Pattern:
    """A pattern: one of the five kinds, over templates and other patterns."""

    id: str
    primary: bool
    kind: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Extension:
    """An extension the profile defines: where it may appear, what its value looks like."""

    id: str
    type: str
    schema: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Profile:
    """A parsed profile, and its document serialized once for serving."""

    id: str
    version_id: str
    templates: tuple[Template, ...]
    patterns: tuple[Pattern, ...]
    extensions: Mapping[str, Extension]
    json: str

    def document(self) -> dict[str, Any]:
        """Return a fresh copy of the JSON-LD document."""
        return dict(json.loads(self.json))


def profile_document(base_url: str) -> dict[str, Any]:
    """Return Jalon's profile document for the instance at ``base_url``."""
    raw = json.loads(_document_text())
    return dict(_substitute(raw, base_url.rstrip("/")))


@lru_cache(maxsize=16)
def load_profile(base_url: str) -> Profile:
    """Return Jalon's parsed profile for the instance at ``base_url`` (cached)."""
    return parse_profile(profile_document(base_url))


def parse_profile(document: Mapping[str, Any]) -> Profile:
    """Parse a profile document, or raise :class:`ProfileError` listing every problem."""
    problems = check_profile_document(document)
    if problems:
        raise ProfileError(problems)
    extensions = {
        concept["id"]: Extension(
            concept["id"],
            concept["type"],
            json.loads(concept["inlineSchema"]) if "inlineSchema" in concept else None,
        )
        for concept in document.get("concepts", ())
        if concept["type"] in EXTENSION_TYPES
    }
    return Profile(
        id=document["id"],
        version_id=document["versions"][0]["id"],
        templates=tuple(_template(t) for t in document.get("templates", ())),
        patterns=tuple(_pattern(p) for p in document.get("patterns", ())),
        extensions=extensions,
        json=json.dumps(document, ensure_ascii=False, indent=2),
    )


def _template(data: Mapping[str, Any]) -> Template:
    return Template(
        id=data["id"],
        verb=data.get("verb"),
        object_activity_type=data.get("objectActivityType"),
        context_activity_types={
            kind: tuple(data[key])
            for kind in CONTEXT_KINDS
            if (key := f"context{kind.capitalize()}ActivityType") in data
        },
        attachment_usage_types=tuple(data.get("attachmentUsageType", ())),
        object_statement_ref_templates=_optional_tuple(data.get("objectStatementRefTemplate")),
        context_statement_ref_templates=_optional_tuple(data.get("contextStatementRefTemplate")),
        rules=tuple(
            Rule(
                location=compile_path(rule["location"]),
                selector=compile_path(rule["selector"]) if "selector" in rule else None,
                presence=rule.get("presence"),
                any=_optional_tuple(rule.get("any")),
                all=_optional_tuple(rule.get("all")),
                none=_optional_tuple(rule.get("none")),
            )
            for rule in data.get("rules", ())
        ),
    )


def _pattern(data: Mapping[str, Any]) -> Pattern:
    kind = next(k for k in PATTERN_KINDS if k in data)
    members = data[kind]
    return Pattern(
        id=data["id"],
        primary=bool(data.get("primary", False)),
        kind=kind,
        members=tuple(members) if isinstance(members, list) else (members,),
    )


def _optional_tuple(value: list[Any] | None) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)


@lru_cache(maxsize=1)
def _document_text() -> str:
    return resources.files("xapi").joinpath("data/profile.jsonld").read_text(encoding="utf-8")


def _substitute(value: Any, base_url: str) -> Any:
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, base_url)
    if isinstance(value, list):
        return [_substitute(item, base_url) for item in value]
    if isinstance(value, dict):
        return {_substitute(k, base_url): _substitute(v, base_url) for k, v in value.items()}
    return value
