"""Every message of the app has its English, in the catalogue the app loads."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import REPO

CATALOGUE = REPO / "lti_tool" / "translations" / "en" / "LC_MESSAGES"
METHODS = [("lti_tool/**.py", "python"), ("templates/**.html", "jinja2")]


def _source_messages() -> set[str]:
    found = extract_from_dir(
        str(REPO), METHODS, keywords={"_": None, "gettext": None, "lazy_gettext": None}
    )
    return {
        message for _file, _line, message, _comments, _context in found if isinstance(message, str)
    }


def test_every_message_is_translated() -> None:
    with (CATALOGUE / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    messages = _source_messages()
    assert len(messages) > 30
    untranslated = sorted(m for m in messages if not (catalogue.get(m) and catalogue.get(m).string))
    assert untranslated == []


def test_compiled_catalogue_matches_the_po_file() -> None:
    with (CATALOGUE / "messages.po").open("rb") as po, (CATALOGUE / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    expected = {_key(m.id): _key(m.string) for m in source if m.id}
    actual = {_key(m.id): _key(m.string) for m in compiled if m.id}
    assert actual == expected, "run: pybabel compile -d lti_tool/translations"


def _key(value: str | list[str] | tuple[str, ...]) -> str | tuple[str, ...]:
    """Return a message's id or text; a plural one is a list (.mo) or a tuple (.po)."""
    return value if isinstance(value, str) else tuple(value)
