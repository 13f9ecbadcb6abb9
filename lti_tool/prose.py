"""Free text as its author typed it: a learner's work, an evaluator's comments.

The learner is told their line breaks are kept, so every page that shows such a text (the
copy page, the learner's page, their progress, the livret) renders it with one function:
a blank line starts a paragraph, a single line break stays a line break, and everything
else is text, never markup. Texts are stored with one line ending, LF, so the JSON API
gives back what was typed whatever the browser sent (forms post CR LF).
"""

from __future__ import annotations

import re

from flask import Flask
from markupsafe import Markup, escape

# A paragraph ends at a line holding nothing but blanks (spaces, tabs), or at several.
_PARAGRAPH_BREAK = re.compile(r"\n(?:[^\S\n]*\n)+")


def one_line_ending(text: str) -> str:
    """Return text with every line ending as LF (forms send CR LF, old Macs CR)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def as_written(text: str | None) -> Markup:
    """Return text as HTML paragraphs: blank lines part them, single line breaks stay.

    The text is escaped: HTML a learner types shows as the characters they typed. An empty
    or blank text gives an empty string, so a template can test the result.
    """
    if not text or not text.strip():
        return Markup("")
    paragraphs = _PARAGRAPH_BREAK.split(one_line_ending(text))
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in lines))
        for lines in (p.strip("\n").split("\n") for p in paragraphs if p.strip())
    )


def init_app(app: Flask) -> None:
    """Offer :func:`as_written` to templates as the ``as_written`` filter."""
    app.jinja_env.filters["as_written"] = as_written
