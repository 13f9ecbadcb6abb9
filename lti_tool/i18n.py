"""Languages: French first, English available.

The locale comes from ``?lang=``, then the ``jalon_lang`` cookie it sets, then the
browser's Accept-Language, then the configured default. After an LTI launch, a language
chosen on one of its pages (``?lang=``) stays for the rest of the launch: it is kept with
the launch on the server (:mod:`lti_tool.lti.session`), since an LMS iframe may drop the
cookie. Until then the launch's ``launch_presentation.locale`` decides; a platform that
sends none (Open edX) leaves the choice to the browser's Accept-Language, then the default.

Dates and sizes read the same way on every page, by the locale's conventions, 24-hour in
both: "6 déc. 2026, 06:44" and "6 Dec 2026, 06:44"; "80 octets", "1,5 ko", "2 Mo" and
"80 bytes", "1.5 kB", "2 MB". The templates' ``datetimeformat``, ``dateformat`` and
``filesizeformat`` filters give them, whatever length (short, long) a template asks for.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, format_decimal, get_locale, gettext, ngettext

LOCALES = ("fr", "en")
COOKIE = "jalon_lang"
# Babel (CLDR) patterns: day, abbreviated month, year; hours 00-23 in both languages
# (CLDR's English "short" would give "12/6/26, 6:44 AM", its French "06/12/2026 06:44").
MOMENT = "d MMM y, HH:mm"
DAY = "d MMM y"
KIB = 1024


def select_locale() -> str:
    """Return the language of the current request."""
    if "locale" in g:
        return str(g.locale)
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    if wanted in LOCALES:
        return str(wanted)
    best = request.accept_languages.best_match(LOCALES)
    return best or current_app.config["JALON"].default_locale


def date_formats() -> dict[str, str | None]:
    """Return Flask-Babel's formats: every length of a date or a moment reads one way."""
    formats = dict(Babel.default_date_formats)
    for length in ("short", "medium", "long"):
        formats[f"datetime.{length}"] = MOMENT
        formats[f"date.{length}"] = DAY
    return formats


_SIZES: dict[tuple[str, int], str] = {}


def size_label(size: int) -> str:
    """Return a size for people: "80 octets", "1,5 ko", "2 Mo" ("80 bytes", "1.5 kB", "2 MB").

    Units of 1,024; one decimal below 10 of a unit, where it still says something. Kept
    per language and size: pages show the same limits (upload size, quota) every time.
    """
    key = (str(get_locale()), size)
    label = _SIZES.get(key)
    if label is None:
        label = _size_label(size)
        if len(_SIZES) >= 1024:
            _SIZES.clear()
        _SIZES[key] = label
    return label


def _size_label(size: int) -> str:
    if size < KIB:
        return str(ngettext("%(num)d octet", "%(num)d octets", size))
    value, unit = size / KIB, gettext("%(num)s ko")
    if value >= KIB:
        value, unit = value / KIB, gettext("%(num)s Mo")
    if value >= KIB:
        value, unit = value / KIB, gettext("%(num)s Go")
    number = format_decimal(value, format="#,##0.#" if value < 10 else "#,##0")
    return unit % {"num": number}


def init_app(app: Flask) -> None:
    """Attach Flask-Babel and remember an explicit language choice."""
    # Chosen when first needed (a translated string, a page): the LTI login and launch, a
    # redirect or a JSON answer need no locale, and parsing Accept-Language is not free.
    Babel(
        app,
        date_formats=date_formats(),
        locale_selector=select_locale,
        default_translation_directories="translations",
    )
    # Jinja's own filter would say "80 Bytes" in every language.
    app.jinja_env.filters["filesizeformat"] = size_label

    @app.after_request
    def _remember_choice(response: Response) -> Response:
        chosen = request.args.get("lang")
        if chosen in LOCALES:
            response.set_cookie(COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    @app.context_processor
    def _language() -> dict[str, object]:
        return {"current_locale": select_locale(), "locales": LOCALES}
