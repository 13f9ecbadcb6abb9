"""What the databases and XML can hold: characters of text, and the range of integers.

PostgreSQL's text refuses NUL, and no UTF-8 encoder takes a lone surrogate; XML 1.0 (the
certifier's declaration, exports) refuses every C0 control but tab, line feed and carriage
return, and U+FFFE/U+FFFF. Such characters arrive in forms, JSON bodies and launch claims;
they are refused at the door (identifiers, form fields) or removed (display text).
"""

from __future__ import annotations

import re
from typing import Any

# Ids and revisions are INTEGER columns: 32 bits on PostgreSQL (which refuses a larger
# value in a comparison, "integer out of range"), 64 on SQLite (which overflows past that).
INTEGER_MAX = 2**31 - 1
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Every unstorable character is a control (Cc), a surrogate (Cs) or a noncharacter (Cn):
# none is printable, so a printable text (most are) is storable — a check in C, twice as
# fast as the search on a launch's id_token. Tab and newlines are not printable but
# storable: such a text goes on to the search. (tests/lti_tool/test_storable.py checks
# the whole of Unicode.)


def is_storable(text: str) -> bool:
    """Return whether every character of ``text`` fits PostgreSQL text and XML 1.0."""
    return text.isprintable() or _UNSTORABLE.search(text) is None


def storable(text: str) -> str:
    """Return ``text`` without the characters PostgreSQL text or XML 1.0 cannot hold."""
    return text if text.isprintable() else _UNSTORABLE.sub("", text)


def cleaned(value: Any) -> Any:
    """Return JSON-like ``value`` with unstorable characters removed from every string."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {cleaned(key): cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [cleaned(item) for item in value]
    return value


def first_unstorable(value: Any, path: str = "") -> str | None:
    """Return the path (``a.b[0]``) of the first string in ``value`` that is not storable.

    Keys are checked as well as values: a key is named by its parent's path.
    """
    if isinstance(value, str):
        return None if is_storable(value) else (path or "_")
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not is_storable(key):
                return path or "_"
            found = first_unstorable(item, name)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = first_unstorable(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
