"""Languages: French first, English available.

The locale comes from ``?lang=``, then the ``jalon_lang`` cookie it sets, then the
browser's Accept-Language, then the configured default. After an LTI launch, the
launch's ``launch_presentation.locale`` takes precedence; a platform that sends none
(Open edX) leaves the choice to the browser's Accept-Language, then the default.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_babel import Babel

LOCALES = ("fr", "en")
COOKIE = "jalon_lang"


def select_locale() -> str:
    """Return the language of the current request."""
    if "locale" in g:
        return str(g.locale)
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    if wanted in LOCALES:
        return str(wanted)
    best = request.accept_languages.best_match(LOCALES)
    return best or current_app.config["JALON"].default_locale


def init_app(app: Flask) -> None:
    """Attach Flask-Babel and remember an explicit language choice."""
    # Chosen when first needed (a translated string, a page): the LTI login and launch, a
    # redirect or a JSON answer need no locale, and parsing Accept-Language is not free.
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")

    @app.after_request
    def _remember_choice(response: Response) -> Response:
        chosen = request.args.get("lang")
        if chosen in LOCALES:
            response.set_cookie(COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    @app.context_processor
    def _language() -> dict[str, object]:
        return {"current_locale": select_locale(), "locales": LOCALES}
