"""From a document's data to PDF bytes: Jinja templates, a QR code, WeasyPrint.

Rendering needs no request: the templates (``templates/certification/pdf/``) run in an
environment of their own, with the catalogue of the language asked for, so the CLI and
the pages print the same documents. The PDF is self-contained: the stylesheet is inlined,
the QR code is inline SVG, fonts are the system's, and nothing is fetched.

WeasyPrint loads Pango from the system when it is imported; :func:`missing_libraries`
says what is missing so that a page can answer 503 with it rather than fail.
"""

from __future__ import annotations

import functools
import importlib
import unicodedata
from datetime import date, datetime
from typing import Any, cast

from babel.dates import format_date, format_datetime
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from lti_tool import HERE, TEMPLATES
from lti_tool.certification.documents.errors import PdfUnavailableError

LOCALES = ("fr", "en")
FOLDER = "certification/pdf"
PANGO = "libpango-1.0-0 libpangoft2-1.0-0"


def missing_libraries() -> str | None:
    """Return what the PDFs need and this machine lacks (None when all is there).

    Not cached: a library installed while Jalon runs is found on the next request.
    """
    missing = []
    try:
        importlib.import_module("weasyprint")
    except ImportError:
        missing.append("WeasyPrint (pip install weasyprint)")
    except OSError:
        # WeasyPrint opens Pango through ctypes as it is imported.
        missing.append(f"Pango (Debian: apt-get install {PANGO})")
    try:
        importlib.import_module("segno")
    except ImportError:
        missing.append("segno (pip install segno)")
    return "; ".join(missing) or None


@functools.lru_cache(maxsize=len(LOCALES))
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations: NullTranslations = Translations.load(
        str(HERE / "translations"), [locale], domain="messages"
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["day"] = functools.partial(_day, locale=locale)
    env.filters["moment"] = functools.partial(_moment, locale=locale)
    env.filters["shortened"] = shortened
    env.filters["css_string"] = css_string
    env.globals["qr_code"] = qr_svg
    env.globals["current_locale"] = locale
    return env


def _day(value: date, *, locale: str) -> str:
    text = format_date(value, format="long", locale=locale)
    # French writes the first of the month as an ordinal: « le 1er juin 2026 ».
    return f"1er{text[1:]}" if locale == "fr" and value.day == 1 else text


def _moment(value: datetime, *, locale: str) -> str:
    # Stored in UTC and printed so: a document travels farther than one time zone.
    return format_datetime(value, "d MMMM y, HH:mm 'UTC'", tzinfo=None, locale=locale)


def qr_svg(url: str) -> Markup:
    """Return a QR code of ``url`` as inline SVG, sized by the stylesheet (class ``qr``)."""
    import segno

    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None)
    return Markup(svg)  # noqa: S704 (segno writes only the path of the modules)


def printable(text: str) -> str:
    """Drop the control characters a platform might send in a name: nothing prints them."""
    return "".join(c for c in text if unicodedata.category(c) != "Cc" or c in "\t\n")


def shortened(text: str, limit: int = 70) -> str:
    """Return ``text`` cut to ``limit`` characters with an ellipsis: a page's footer is one line."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def css_string(text: str) -> Markup:
    """Return ``text`` as a quoted CSS string (a page footer's ``content``), safe in <style>."""
    escaped = "".join(
        c if c.isalnum() or c in " -—–,.:;’'()/_" else f"\\{ord(c):x} " for c in printable(text)
    )
    return Markup(f'"{escaped}"')  # noqa: S704 (every other character is a CSS escape)


def render_html(template: str, locale: str | None, **context: Any) -> str:
    """Render one of the PDF templates in ``locale`` (French by default)."""
    chosen = locale if locale in LOCALES else LOCALES[0]
    return _environment(chosen).get_template(f"{FOLDER}/{template}").render(**context)


def write_pdf(html: str) -> bytes:
    """Lay ``html`` out in pages and return the PDF; fetch nothing."""
    missing = missing_libraries()
    if missing:
        raise PdfUnavailableError(missing)
    from weasyprint import HTML

    # Without a target, WeasyPrint returns the bytes.
    return cast(bytes, HTML(string=html, url_fetcher=_no_fetch).write_pdf())


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Refuse every resource: the documents are self-contained and reach no network."""
    raise ValueError(f"certification documents fetch nothing ({url[:40]})")
