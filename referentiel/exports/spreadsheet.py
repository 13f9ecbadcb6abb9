"""Text cells a spreadsheet will show as text, never run as a formula (CSV injection).

Excel, LibreOffice and Google Sheets read a cell as a formula when its first character,
once leading blanks are skipped, is ``=``, ``+``, ``-`` or ``@``; the full-width forms
(U+FF1D, U+FF0B, U+FF0D, U+FF20) count too (Excel folds them in East Asian locales), and
a leading tab or carriage return is stripped by some of them before the formula is read.
Such a cell gets a leading apostrophe, which spreadsheets take as "this is text" and do
not show.

Only text goes through here: numbers a writer puts in a cell itself stay numbers.
"""

from __future__ import annotations

FORMULA_LEADS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# Characters some spreadsheets treat as leads on their own, whatever follows.
CONTROL_LEADS = frozenset("\t\r")


def is_formula_like(value: str) -> bool:
    """Return whether a spreadsheet could read this text as a formula."""
    if not value:
        return False
    if value[0] in CONTROL_LEADS:
        return True
    rest = value.lstrip()
    return bool(rest) and rest[0] in FORMULA_LEADS


def neutralise(value: str) -> str:
    """Return a cell's text that no spreadsheet will run as a formula."""
    return "'" + value if is_formula_like(value) else value
