"""What the databases and XML can hold: the printable fast path agrees with the search."""

from __future__ import annotations

import re

from lti_tool.storable import cleaned, is_storable, storable

# The definition, spelled out again: C0 controls but tab, LF, CR; surrogates; U+FFFE/F.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def test_every_character_of_unicode_is_judged_as_the_definition_says() -> None:
    for code in range(0x110000):
        character = chr(code)
        expected = UNSTORABLE.search(character) is None
        assert is_storable(character) is expected, hex(code)
        assert storable(f"a{character}b") == ("a" + character + "b" if expected else "ab")


def test_texts_with_storable_non_printables_are_kept_whole() -> None:
    for text in ("line\nnext\r\n", "a\tb", "non\u00a0breaking", "zero\u200bwidth", ""):
        assert is_storable(text)
        assert storable(text) == text


def test_unstorable_characters_are_found_anywhere_and_removed() -> None:
    for bad in ("\x00", "\x08", "\x0b", "\x1f", "\ufffe", "\uffff", "\ud800", "\udfff"):
        text = f"début {bad} fin\n"
        assert not is_storable(text)
        assert storable(text) == "début  fin\n"
    assert cleaned({"k\x00": ["a\x01", {"b": "c\ufffe"}], "n": 3}) == {
        "k": ["a", {"b": "c"}],
        "n": 3,
    }
