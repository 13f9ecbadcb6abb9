"""The livret laid out in A4 pages by WeasyPrint, keeping together what fits on a page.

The template asks, in CSS, that a bloc's table and an épreuve's evaluation stay on one page
(``class="keep"``). A part longer than a page cannot: WeasyPrint then pushes it whole to
the next page anyway, leaving its heading alone at the foot of the page before, and a
half-empty page. So the livret is laid out once; the kept parts that still run over
several pages are too long to keep, and the livret is laid out again letting those break
between their rows. Only livrets with such long parts pay for the second layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weasyprint.document import Document

KEEP = "keep"


def paged_livret(html: str) -> Document:
    """Lay a livret out in pages: its PDF writes out this layout, which tests look at."""
    from weasyprint import CSS, HTML

    page = HTML(string=html, url_fetcher=_no_fetch)
    document = page.render()
    too_long = sorted(_kept_over_pages(document))
    if not too_long:
        return document
    # Given stylesheets are the user's: only !important overrides the template's CSS.
    breakable = ", ".join(f"#{name}" for name in too_long)
    relaxed = CSS(string=f"{breakable} {{ break-inside: auto !important; }}")
    return page.render(stylesheets=[relaxed])


def _kept_over_pages(document: Document) -> set[str]:
    """Return the ids of the parts asked to stay on one page that run over several."""
    pages_of: dict[str, set[int]] = {}
    for number, page in enumerate(document.pages):
        for element in _kept_elements(page._page_box):  # no public box tree
            pages_of.setdefault(element, set()).add(number)
    return {name for name, pages in pages_of.items() if len(pages) > 1}


def _kept_elements(box: Any) -> Iterator[str]:
    for child in getattr(box, "children", ()):
        element = getattr(child, "element", None)
        if element is not None and KEEP in (element.get("class") or "").split():
            yield element.get("id")
            continue
        yield from _kept_elements(child)


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Refuse every resource: the livret is self-contained and must not reach the network."""
    raise ValueError(f"the livret fetches nothing ({url[:40]})")
