"""Template helpers that pages call many times: kept out of Jinja macros and proxies.

A page such as the learner's épreuve shows dozens of competency and criterion codes and a
few dozen translated strings. A Jinja macro call costs far more than the markup it writes,
and Flask-Babel's template ``gettext`` finds the request's translations again through
several context proxies for every string. So:

- ``code(value)`` is a Python function writing ``<span class="code">…</span>`` (escaped),
  the same markup the macro of that name in ``macros.html`` wrote — which now hands this
  function to the templates that import it from there;
- every ``render_template`` binds ``gettext``/``ngettext`` (what ``_`` and ``{% trans %}``
  call) to the translations of the request's locale, looked up once for the render. The
  locale is settled before a page renders (a launch's language, ``?lang=``, an error
  page's ``refresh``), so the strings are those Flask-Babel's own would give.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask, current_app
from flask_babel import get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape


def code(value: Any) -> Markup:
    """Return a code (competency, criterion, épreuve) as it shows in text: escaped."""
    # Not Markup.format, which goes through string.Formatter: several times slower.
    return Markup(f'<span class="code">{escape(value)}</span>')  # noqa: S704 (escaped)


def _gettext(lookup: Callable[[str], str]) -> Callable[..., str]:
    # As Jinja's "newstyle" gettext: always a format string, marked safe when autoescaping.
    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        text = lookup(string)
        if context.eval_ctx.autoescape:
            # As Jinja's: a catalogue's string is markup, the variables are escaped.
            text = Markup(text)  # noqa: S704
        return text % variables

    return gettext


def _ngettext(lookup: Callable[[str, str, int], str]) -> Callable[..., str]:
    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = lookup(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 (as above)
        return text % variables

    return ngettext


def init_app(app: Flask) -> None:
    """Offer ``code`` to templates and bind their translations once per render."""
    app.jinja_env.globals["code"] = code

    @app.context_processor
    def _translations() -> dict[str, Any]:
        translations = get_translations()
        return {
            "gettext": _gettext(translations.ugettext),
            "ngettext": _ngettext(translations.ungettext),
        }


_FRAGMENTS: dict[tuple[str, int, Hashable], tuple[object, Markup]] = {}
_FRAGMENTS_MAX = 256


def fragment(name: str, owner: object, key: Hashable, **context: Any) -> Markup:
    """Return a template rendered once per ``owner`` object and ``key``, then kept.

    For a part of a page that depends only on an immutable object, such as what a parsed
    référentiel (parsed once per version, :mod:`lti_tool.frameworks`) says of a placement's
    competencies and criteria: ``context`` must hold nothing but what ``owner`` and ``key``
    decide, and the template no translated string (it is rendered for any locale).
    """
    cache_key = (name, id(owner), key)
    found = _FRAGMENTS.get(cache_key)
    if found is not None and found[0] is owner:  # the same object, not a later one at its id
        return found[1]
    html = Markup(current_app.jinja_env.get_template(name).render(**context))  # noqa: S704 (autoescaped)
    if len(_FRAGMENTS) >= _FRAGMENTS_MAX:
        _FRAGMENTS.clear()
    _FRAGMENTS[cache_key] = (owner, html)
    return html
