"""Read a PDF as a person would: its text, its pages as pictures, its QR codes.

poppler's ``pdftotext`` and ``pdftoppm`` and zbar's ``zbarimg`` (installed by
``.ci/pdf.sh``). Without them, or without WeasyPrint's libraries, the tests skip naming
what is missing — and fail under CI, which must have them. With ``JALON_TEST_PDF_PAGES``
set to a folder, every page rendered is also kept there, to be looked at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from lti_tool.certification.documents import missing_libraries

TOOLS = {"pdftotext": "poppler-utils", "pdftoppm": "poppler-utils", "zbarimg": "zbar-tools"}
PT_PER_MM = 72 / 25.4


def require_pdf_tools() -> None:
    """Skip (fail under CI) when WeasyPrint or a reading tool is missing, naming it."""
    missing = [f"{tool} ({package})" for tool, package in TOOLS.items() if not shutil.which(tool)]
    if libraries := missing_libraries():
        missing.append(libraries)
    if missing:
        reason = "the PDF tests need " + "; ".join(missing) + " (run .ci/pdf.sh)"
        if os.environ.get("CI"):
            pytest.fail(reason + " — CI must not skip them", pytrace=False)
        pytest.skip(reason)


def _run(tool: str, *args: str | Path) -> str:
    return subprocess.run(
        [_path(tool), *map(str, args)], capture_output=True, text=True, check=True, timeout=120
    ).stdout


def _path(tool: str) -> str:
    found = shutil.which(tool)
    assert found, f"{tool} is missing"
    return found


def text(pdf: Path, *, page: int | None = None, layout: bool = False) -> str:
    """Return the text of a PDF (one page, or all; ``layout`` keeps columns on a line)."""
    options = [*(["-f", str(page), "-l", str(page)] if page else []), *(["-layout"] * layout)]
    return _run("pdftotext", *options, pdf, "-")


def flat(value: str) -> str:
    """Return text with every run of blanks made one space (lines wrap where they fit)."""
    return re.sub(r"\s+", " ", value).strip()


def has(text: str, wanted: str) -> bool:
    """Return whether ``wanted`` is in ``text``, wherever lines wrapped (even at a hyphen).

    pdftotext joins a word cut at a hyphen at the end of a line, dropping the hyphen.
    """
    return re.sub(r"[\s-]+", "", wanted) in re.sub(r"[\s-]+", "", text)


def pages(pdf: Path, folder: Path, *, dpi: int = 100) -> list[Path]:
    """Rasterise every page as PNG; keep copies in ``JALON_TEST_PDF_PAGES`` if set."""
    prefix = folder / pdf.stem
    _run("pdftoppm", "-r", str(dpi), "-png", pdf, prefix)
    found = sorted(folder.glob(f"{pdf.stem}-*.png"))
    keep = os.environ.get("JALON_TEST_PDF_PAGES")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in found:
            shutil.copy(png, Path(keep) / png.name)
    return found


def qr_codes(png: Path) -> list[str]:
    """Return the QR codes zbarimg decodes on a page picture."""
    result = subprocess.run(
        [_path("zbarimg"), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if line]


@dataclass(frozen=True)
class Word:
    """A word where pdftotext found it on its page, in points from the top left."""

    page: int
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class Layout:
    """Every word of a PDF with its box, and each page's size in points."""

    sizes: list[tuple[float, float]]
    words: list[Word]

    def on(self, page: int) -> list[Word]:
        """Return the words of page ``page`` (from 1)."""
        return [w for w in self.words if w.page == page]


def layout(pdf: Path) -> Layout:
    """Return where every word lies (``pdftotext -bbox``)."""
    xhtml = _run("pdftotext", "-bbox", pdf, "-")
    sizes, words = [], []
    for number, page in enumerate(re.findall(r"<page (.*?)</page>", xhtml, re.DOTALL), start=1):
        head = re.match(r'width="([\d.]+)" height="([\d.]+)"', page)
        assert head is not None
        sizes.append((float(head[1]), float(head[2])))
        for box in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
            page,
        ):
            x0, y0, x1, y1 = map(float, box.groups()[:4])
            words.append(Word(number, box[5], x0, y0, x1, y1))
    return Layout(sizes, words)


def words_off_the_page(found: Layout, margin_mm: float = 5) -> list[Word]:
    """Return the words that run into the page's edge (``margin_mm``) or off the page."""
    margin = margin_mm * PT_PER_MM
    off = []
    for word in found.words:
        width, height = found.sizes[word.page - 1]
        if (
            word.x_min < margin
            or word.y_min < margin
            or word.x_max > width - margin
            or word.y_max > height - margin
        ):
            off.append(word)
    return off


def red_pixels(png: Path) -> int:
    """Count the pinkish-red pixels of a page (the draft's "PROJET" watermark)."""
    from PIL import Image

    with Image.open(png) as picture:
        data = picture.convert("RGB").tobytes()
    return sum(
        1
        for r, g, b in zip(data[0::3], data[1::3], data[2::3], strict=True)
        if r > 200 and 150 < g < 235 and 150 < b < 235 and r - g > 15
    )
