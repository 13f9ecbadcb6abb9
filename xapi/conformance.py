"""The xAPI 1.0.3 data rules a strict LRS enforces, checked offline.

Learning Locker's statement service rejects a whole batch for one bad IRI, language tag,
timestamp, UUID, score or unknown key, so Jalon checks its statements against the same rules
(xAPI 1.0.3, Part Two) before they ever leave. The checker covers what Jalon emits: Agents
(not Groups), Activities and StatementRefs as objects, results, contexts; anything else it
reports as unsupported rather than letting it pass unexamined.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from rfc3339_validator import validate_rfc3339  # type: ignore[import-untyped]

# RFC 5646 "Language-Tag", written from its ABNF (section 2.1).
_ALNUM = "[A-Za-z0-9]"
_LANGTAG = (
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4}|[A-Za-z]{5,8})"  # language (+ extlang)
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    rf"(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*"  # variants
    rf"(?:-[0-9A-WY-Za-wy-z](?:-{_ALNUM}{{2,8}})+)*"  # extensions
    rf"(?:-[Xx](?:-{_ALNUM}{{1,8}})+)?"  # private use
)
_GRANDFATHERED = (
    "en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|"
    "i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE|art-lojban|cel-gaulish|no-bok|no-nyn|"
    "zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANGUAGE_TAG = re.compile(
    rf"(?:{_LANGTAG}|[Xx](?:-{_ALNUM}{{1,8}})+|{_GRANDFATHERED})", re.IGNORECASE
)

# RFC 3987 absolute IRI: a scheme, then no character that an IRI cannot hold (spaces,
# controls, <>"{}|\^`), and every % followed by two hex digits.
_IRI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:"
    r"(?:[^\x00-\x20\x7f-\x9f<>\"{}|\\^`%]|%[0-9A-Fa-f]{2})+"
)
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)
_DURATION = re.compile(
    r"P(?!$)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?!$)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?"
)
# Learning Locker's mailto rule, narrower than RFC 5322: no "!#$&*/=?^{|}~" before the "@",
# an ASCII domain with a letters-only top level.
_MAILTO = re.compile(r"mailto:[A-Za-z0-9.`'_%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{1,63}")
# Learning Locker's IRI check backtracks exponentially on percent-escapes (2 more escapes,
# 4 times longer: 24 take 0.5 s, 28 take 9 s, during which the LRS answers no one).
MAX_PERCENT_ESCAPES = 16

_STATEMENT_KEYS = {
    "id", "actor", "verb", "object", "result", "context",
    "timestamp", "stored", "authority", "version", "attachments",
}  # fmt: skip
_AGENT_KEYS = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_ACTIVITY_KEYS = {"objectType", "id", "definition"}
_DEFINITION_KEYS = {
    "name", "description", "type", "moreInfo", "extensions", "interactionType",
    "correctResponsesPattern", "choices", "scale", "source", "target", "steps",
}  # fmt: skip
_RESULT_KEYS = {"score", "success", "completion", "response", "duration", "extensions"}
_SCORE_KEYS = {"scaled", "raw", "min", "max"}
_CONTEXT_KEYS = {
    "registration", "instructor", "team", "contextActivities", "revision",
    "platform", "language", "statement", "extensions",
}  # fmt: skip
_CONTEXT_ACTIVITY_KEYS = {"parent", "grouping", "category", "other"}


def is_language_tag(value: object) -> bool:
    """Return whether ``value`` is a well-formed RFC 5646 language tag."""
    return isinstance(value, str) and _LANGUAGE_TAG.fullmatch(value) is not None


def is_absolute_iri(value: object) -> bool:
    """Return whether ``value`` is an absolute IRI (RFC 3987 syntax, as xAPI requires)."""
    return isinstance(value, str) and _IRI.fullmatch(value) is not None


def is_mailto(value: object) -> bool:
    """Return whether ``value`` is a ``mailto:`` IRI that Learning Locker accepts."""
    return isinstance(value, str) and _MAILTO.fullmatch(value) is not None


def is_uuid(value: object) -> bool:
    """Return whether ``value`` is a UUID in standard string form, RFC 4122 variant."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def check_statement(statement: Mapping[str, Any]) -> list[str]:
    """Return every breach of the xAPI 1.0.3 data rules in ``statement`` ("path: reason")."""
    problems: list[str] = []
    _Checker(problems).statement(statement)
    return problems


class _Checker:
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def fail(self, path: str, reason: str) -> None:
        self.problems.append(f"{path}: {reason}")

    def mapping(self, path: str, value: Any, allowed: set[str]) -> bool:
        if not isinstance(value, Mapping):
            self.fail(path, "must be an object")
            return False
        for key in sorted(set(value) - allowed):
            self.fail(f"{path}.{key}", "is not an xAPI property here")
        for key, item in value.items():
            if item is None:
                self.fail(f"{path}.{key}", "must not be null")
        return True

    def statement(self, data: Mapping[str, Any]) -> None:
        if not self.mapping("$", data, _STATEMENT_KEYS):
            return
        for key in ("actor", "verb", "object"):
            if key not in data:
                self.fail(f"$.{key}", "is required")
        if "id" in data and not is_uuid(data["id"]):
            self.fail("$.id", "must be a UUID")
        if "actor" in data:
            self.agent("$.actor", data["actor"])
        if "verb" in data:
            self.verb("$.verb", data["verb"])
        if "object" in data:
            self.object("$.object", data["object"])
        if "result" in data:
            self.result("$.result", data["result"])
        if "context" in data:
            self.context("$.context", data["context"], data.get("object"))
        for key in ("timestamp", "stored"):
            if key in data:
                self.timestamp(f"$.{key}", data[key])
        if "version" in data and not re.fullmatch(r"1\.0(\.\d+)?", str(data["version"])):
            self.fail("$.version", "must start with 1.0")
        for key in ("authority", "attachments"):
            if key in data:
                self.fail(f"$.{key}", "is not checked here (Jalon never sends it)")

    def agent(self, path: str, data: Any) -> None:
        if not self.mapping(path, data, _AGENT_KEYS):
            return
        if data.get("objectType", "Agent") != "Agent":
            self.fail(f"{path}.objectType", "must be Agent (Groups are not checked here)")
        ifis = [key for key in _IFIS if key in data]
        if len(ifis) != 1:
            self.fail(path, f"must have exactly one identifier, has {len(ifis)}")
        if "name" in data and not isinstance(data["name"], str):
            self.fail(f"{path}.name", "must be a string")
        if "mbox" in data and not is_mailto(data["mbox"]):
            self.fail(f"{path}.mbox", "must be mailto:address")
        if "mbox_sha1sum" in data and not re.fullmatch(r"[0-9a-f]{40}", str(data["mbox_sha1sum"])):
            self.fail(f"{path}.mbox_sha1sum", "must be a SHA-1 in hexadecimal")
        if "openid" in data:
            self.iri(f"{path}.openid", data["openid"])
        if "account" in data:
            account = data["account"]
            if self.mapping(f"{path}.account", account, {"homePage", "name"}):
                for key in ("homePage", "name"):
                    if key not in account:
                        self.fail(f"{path}.account.{key}", "is required")
                if "homePage" in account:
                    self.iri(f"{path}.account.homePage", account["homePage"])
                if "name" in account and not (isinstance(account["name"], str) and account["name"]):
                    self.fail(f"{path}.account.name", "must be a non-empty string")

    def verb(self, path: str, data: Any) -> None:
        if not self.mapping(path, data, {"id", "display"}):
            return
        self.iri(f"{path}.id", data.get("id"))
        if "display" in data:
            self.language_map(f"{path}.display", data["display"])

    def object(self, path: str, data: Any) -> None:
        if not isinstance(data, Mapping):
            self.fail(path, "must be an object")
            return
        kind = data.get("objectType", "Activity")
        if kind == "Activity":
            self.activity(path, data)
        elif kind == "StatementRef":
            self.statement_ref(path, data)
        elif kind == "Agent":
            self.agent(path, data)
        else:
            self.fail(f"{path}.objectType", f"{kind} is not checked here")

    def activity(self, path: str, data: Any) -> None:
        if not self.mapping(path, data, _ACTIVITY_KEYS):
            return
        if data.get("objectType", "Activity") != "Activity":
            self.fail(f"{path}.objectType", "must be Activity")
        self.iri(f"{path}.id", data.get("id"))
        definition = data.get("definition")
        if definition is None or not self.mapping(
            f"{path}.definition", definition, _DEFINITION_KEYS
        ):
            return
        for key in ("name", "description"):
            if key in definition:
                self.language_map(f"{path}.definition.{key}", definition[key])
        for key in ("type", "moreInfo"):
            if key in definition:
                self.iri(f"{path}.definition.{key}", definition[key])
        if "extensions" in definition:
            self.extensions(f"{path}.definition.extensions", definition["extensions"])
        if "interactionType" in definition:
            self.fail(f"{path}.definition.interactionType", "is not checked here")

    def statement_ref(self, path: str, data: Any) -> None:
        if not self.mapping(path, data, {"objectType", "id"}):
            return
        if data.get("objectType") != "StatementRef":
            self.fail(f"{path}.objectType", "must be StatementRef")
        if not is_uuid(data.get("id")):
            self.fail(f"{path}.id", "must be a UUID")

    def result(self, path: str, data: Any) -> None:
        if not self.mapping(path, data, _RESULT_KEYS):
            return
        for key in ("success", "completion"):
            if key in data and not isinstance(data[key], bool):
                self.fail(f"{path}.{key}", "must be true or false")
        if "response" in data and not isinstance(data["response"], str):
            self.fail(f"{path}.response", "must be a string")
        if "duration" in data and not (
            isinstance(data["duration"], str) and _DURATION.fullmatch(data["duration"])
        ):
            self.fail(f"{path}.duration", "must be an ISO 8601 duration")
        if "extensions" in data:
            self.extensions(f"{path}.extensions", data["extensions"])
        if "score" in data:
            self.score(f"{path}.score", data["score"])

    def score(self, path: str, data: Any) -> None:
        if not self.mapping(path, data, _SCORE_KEYS):
            return
        numbers = {}
        for key in _SCORE_KEYS & set(data):
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.fail(f"{path}.{key}", "must be a number")
            elif not math.isfinite(value):
                self.fail(f"{path}.{key}", "must be finite")
            else:
                numbers[key] = float(value)
        if "scaled" in numbers and not -1.0 <= numbers["scaled"] <= 1.0:
            self.fail(f"{path}.scaled", "must lie between -1 and 1")
        low, high = numbers.get("min"), numbers.get("max")
        if low is not None and high is not None and not low < high:
            self.fail(f"{path}.min", "must be less than max")
        raw = numbers.get("raw")
        if raw is not None and (
            (low is not None and raw < low) or (high is not None and raw > high)
        ):
            self.fail(f"{path}.raw", "must lie between min and max")

    def context(self, path: str, data: Any, target: Any) -> None:
        if not self.mapping(path, data, _CONTEXT_KEYS):
            return
        if "registration" in data and not is_uuid(data["registration"]):
            self.fail(f"{path}.registration", "must be a UUID")
        if "instructor" in data:
            self.agent(f"{path}.instructor", data["instructor"])
        if "team" in data:
            self.fail(f"{path}.team", "is not checked here")
        # Learning Locker wants the object's objectType spelled out for these two.
        is_activity = isinstance(target, Mapping) and target.get("objectType") == "Activity"
        for key in ("revision", "platform"):
            if key in data:
                if not isinstance(data[key], str):
                    self.fail(f"{path}.{key}", "must be a string")
                if not is_activity:
                    self.fail(f"{path}.{key}", "is only allowed when the object is an Activity")
        if "language" in data and not is_language_tag(data["language"]):
            self.fail(f"{path}.language", "must be an RFC 5646 language tag")
        if "statement" in data:
            self.statement_ref(f"{path}.statement", data["statement"])
        if "extensions" in data:
            self.extensions(f"{path}.extensions", data["extensions"])
        activities = data.get("contextActivities")
        if activities is not None and self.mapping(
            f"{path}.contextActivities", activities, _CONTEXT_ACTIVITY_KEYS
        ):
            for key, value in activities.items():
                items = value if isinstance(value, list) else [value]
                for index, item in enumerate(items):
                    self.activity(f"{path}.contextActivities.{key}[{index}]", item)

    def language_map(self, path: str, data: Any) -> None:
        if not isinstance(data, Mapping):
            self.fail(path, "must be a language map")
            return
        for key, text in data.items():
            if not is_language_tag(key):
                self.fail(f"{path}.{key}", "is not an RFC 5646 language tag")
            if not isinstance(text, str):
                self.fail(f"{path}.{key}", "must be a string")

    def extensions(self, path: str, data: Any) -> None:
        if not isinstance(data, Mapping):
            self.fail(path, "must be an object")
            return
        for key, value in data.items():
            if not is_absolute_iri(key) or key.count("%") > MAX_PERCENT_ESCAPES:
                self.fail(f"{path}[{key!r}]", "key must be an absolute IRI")
            if value is None:
                self.fail(f"{path}[{key!r}]", "must not be null")

    def iri(self, path: str, value: Any) -> None:
        if not is_absolute_iri(value):
            self.fail(path, "must be an absolute IRI")
        elif value.count("%") > MAX_PERCENT_ESCAPES:
            self.fail(
                path, f"has over {MAX_PERCENT_ESCAPES} %-escapes, which stall Learning Locker"
            )

    def timestamp(self, path: str, value: Any) -> None:
        if not (isinstance(value, str) and validate_rfc3339(value)):
            self.fail(path, "must be an RFC 3339 timestamp with its time zone")
