"""The JSONPath subset that xAPI Profiles allow in statement template rules.

xAPI Profiles 1.0 (Part Two, 8.1) restricts Goessner's JSONPath: no filter or script
expressions; bracket members are quoted names, non-negative indexes or ``*``, and may be
joined by commas (a union); two or more paths may be joined by ``|``, whose value is all
their values, flattened. The specification's own examples also omit the leading ``$``.

Anything outside that subset (filters, slices, negative indexes, recursive descent) is a
:class:`JsonPathError` when the path is compiled, so a profile that uses one is rejected
when it is loaded rather than silently matching nothing. Quoted names follow RFC 9535's
escapes; evaluation follows RFC 9535 (a name selects nothing on an array, an index nothing
on an object).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn


class JsonPathError(ValueError):
    """A path is not in the JSONPath subset xAPI Profiles allow."""


class _Wildcard:
    def __repr__(self) -> str:
        return "*"


WILDCARD: Final = _Wildcard()
Selector = str | int | _Wildcard

_NAME = re.compile(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*")
_INDEX = re.compile(r"0|[1-9][0-9]*")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\"}
_BLANK = " \t\n\r"


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A compiled path: alternatives (joined by ``|``), each a sequence of segments."""

    text: str
    alternatives: tuple[tuple[tuple[Selector, ...], ...], ...]

    def find(self, document: Any) -> list[Any]:
        """Return every value the path selects in ``document``, in document order."""
        found: list[Any] = []
        for segments in self.alternatives:
            nodes = [document]
            for selectors in segments:
                nodes = [child for node in nodes for child in _select(node, selectors)]
            found.extend(nodes)
        return found


def compile_path(text: str) -> JsonPath:
    """Compile ``text`` or raise :class:`JsonPathError` saying where it leaves the subset."""
    parser = _Parser(text)
    alternatives = [parser.path()]
    while parser.skip_blank() and parser.peek() == "|":
        parser.position += 1
        parser.skip_blank()
        alternatives.append(parser.path())
    if parser.position != len(text):
        parser.fail("unexpected character")
    return JsonPath(text, tuple(alternatives))


def find(text: str, document: Any) -> list[Any]:
    """Return the values ``text`` selects in ``document``."""
    return compile_path(text).find(document)


def _select(node: Any, selectors: tuple[Selector, ...]) -> list[Any]:
    selected: list[Any] = []
    for selector in selectors:
        if selector is WILDCARD:
            if isinstance(node, Mapping):
                selected.extend(node.values())
            elif isinstance(node, list):
                selected.extend(node)
        elif isinstance(selector, str):
            if isinstance(node, Mapping) and selector in node:
                selected.append(node[selector])
        elif isinstance(node, list) and isinstance(selector, int) and selector < len(node):
            selected.append(node[selector])
    return selected


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def fail(self, reason: str) -> NoReturn:
        raise JsonPathError(f"{reason} at position {self.position} of {self.text!r}")

    def peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def skip_blank(self) -> bool:
        while self.peek() and self.peek() in _BLANK:
            self.position += 1
        return True

    def path(self) -> tuple[tuple[Selector, ...], ...]:
        segments: list[tuple[Selector, ...]] = []
        rooted = self.peek() == "$"
        if rooted:
            self.position += 1
        elif self.peek() not in {"", "[", "."}:
            segments.append((self.name(),))  # "context.extensions…": the spec's own style
        while self.peek() in {".", "["}:
            if self.peek() == "[":
                segments.append(self.brackets())
                continue
            self.position += 1
            if self.peek() == ".":
                self.fail("recursive descent (..) is not allowed")
            if self.peek() == "*":
                self.position += 1
                segments.append((WILDCARD,))
            else:
                segments.append((self.name(),))
        if not rooted and not segments:
            self.fail("a path is expected")
        return tuple(segments)

    def name(self) -> str:
        match = _NAME.match(self.text, self.position)
        if match is None:
            self.fail("a member name is expected")
        self.position = match.end()
        return match.group()

    def brackets(self) -> tuple[Selector, ...]:
        self.position += 1  # "["
        selectors = [self.selector()]
        while self.skip_blank() and self.peek() == ",":
            self.position += 1
            selectors.append(self.selector())
        self.skip_blank()
        if self.peek() != "]":
            self.fail("']' is expected")
        self.position += 1
        return tuple(selectors)

    def selector(self) -> Selector:
        self.skip_blank()
        char = self.peek()
        if char in {"'", '"'}:
            return self.quoted(char)
        if char == "*":
            self.position += 1
            return WILDCARD
        if char in {"?", "("}:
            self.fail("filter and script expressions are not allowed")
        match = _INDEX.match(self.text, self.position)
        if match is None or self.text[match.end() : match.end() + 1].isdigit():
            self.fail("a quoted name, a non-negative index or * is expected")
        self.position = match.end()
        if self.peek() == ":":
            self.fail("slices are not allowed")
        return int(match.group())

    def quoted(self, quote: str) -> str:
        self.position += 1
        chars: list[str] = []
        while True:
            char = self.peek()
            if char == "":
                self.fail("unterminated string")
            self.position += 1
            if char == quote:
                return "".join(chars)
            if char == "\\":
                chars.append(self.escape(quote))
            elif ord(char) < 0x20:
                self.fail("control characters must be escaped")
            else:
                chars.append(char)

    def escape(self, quote: str) -> str:
        char = self.peek()
        self.position += 1
        if char == quote:
            return quote
        if char in _ESCAPES:
            return _ESCAPES[char]
        if char == "u":
            code = self.hex4()
            if 0xD800 <= code <= 0xDBFF:  # a surrogate pair spells one character
                if self.text[self.position : self.position + 2] != "\\u":
                    self.fail("a low surrogate is expected")
                self.position += 2
                low = self.hex4()
                if not 0xDC00 <= low <= 0xDFFF:
                    self.fail("a low surrogate is expected")
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
            if 0xDC00 <= code <= 0xDFFF:
                self.fail("a lone low surrogate is not a character")
            return chr(code)
        self.fail("unknown escape")

    def hex4(self) -> int:
        digits = self.text[self.position : self.position + 4]
        if not re.fullmatch(r"[0-9A-Fa-f]{4}", digits):
            self.fail("four hexadecimal digits are expected")
        self.position += 4
        return int(digits, 16)
