"""Progress charts drawn on the server as SVG, each with the table that says the same.

No script and no inline style (the pages' CSP allows neither): shapes use SVG
presentation attributes and the classes of ``static/progress.css``. Every status is told
by a pattern and by words, never by colour alone, and each chart carries the rows of its
table equivalent, which the page renders right after it. All text is escaped here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import format_date, format_percent
from flask_babel import gettext as _
from markupsafe import Markup

from lti_tool.evaluation.record import BlocRecord, LearnerRecord
from lti_tool.evaluation.status_words import status_label
from referentiel.rules import Status

WIDTH = 720
LABEL = 70  # the column of codes
BAR = 300  # the length of a full bar
ROW = 34
TOP = 44  # room for the legend
INK = "#1b1b1f"


@dataclass(frozen=True)
class Chart:
    """An SVG chart and the rows of its equivalent table."""

    id: str
    title: str
    description: str
    svg: Markup
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def percent(score: float | None) -> str:
    """Return a score as a percentage in the page's language, or a dash."""
    return "—" if score is None else str(format_percent(score))


def blocs_chart(record: LearnerRecord, chart_id: str = "graphique-blocs") -> Chart:
    """Draw one stacked bar per bloc: competencies acquired, in progress, not evaluated."""
    chart_id = _safe_id(chart_id)
    title = _("Compétences acquises par bloc")
    description = _(
        "Pour chaque bloc, une barre partagée en compétences acquises (plein), non acquises "
        "(hachures) et non évaluées (points) ; le nombre de chaque sorte est écrit à droite."
    )
    parts = [_defs(chart_id), _legend(chart_id)]
    rows = []
    for index, bloc in enumerate(record.blocs):
        y = TOP + index * ROW
        x: float = LABEL
        for count, status in (
            (bloc.acquired, Status.ACQUIRED),
            (bloc.in_progress, Status.IN_PROGRESS),
            (bloc.not_evaluated, Status.NOT_EVALUATED),
        ):
            if count:
                width = BAR * count / bloc.total
                parts.append(_rect(chart_id, status, x, y, width))
                x += width
        summary = _bloc_summary(bloc)
        parts.append(_text(0, y + 17, bloc.code, "chart-code"))
        parts.append(_text(LABEL + BAR + 10, y + 17, summary))
        rows.append(
            (
                f"{bloc.code} {bloc.title}",
                status_label(bloc.status, bloc=True),
                str(bloc.acquired),
                str(bloc.in_progress),
                str(bloc.not_evaluated),
                str(bloc.total),
            )
        )
    height = TOP + len(record.blocs) * ROW
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        svg=_svg(chart_id, title, description, height, parts),
        columns=(
            _("Bloc"),
            _("Statut"),
            _("Acquises"),
            _("Non acquises"),
            _("Non évaluées"),
            _("Total"),
        ),
        rows=tuple(rows),
    )


def scores_chart(bloc: BlocRecord, chart_id: str | None = None) -> Chart:
    """Draw one bar per competency of a bloc: its combined score, and its status in words."""
    chart_id = _safe_id(chart_id or f"graphique-{bloc.code}")
    title = _("Score de chaque compétence du bloc %(code)s", code=bloc.code)
    description = _(
        "Une barre par compétence, de 0 à 100 % : le score combiné de ses évaluations ; "
        "le motif et le texte à droite donnent son statut."
    )
    parts = [_defs(chart_id), _legend(chart_id)]
    rows = []
    for index, competency in enumerate(bloc.competencies):
        y = TOP + index * ROW
        parts.append(_frame(LABEL, y))
        if competency.score:
            parts.append(_rect(chart_id, competency.status, LABEL, y, BAR * competency.score))
        words = status_label(competency.status)
        if competency.score is not None:
            words = f"{percent(competency.score)} — {words}"
        parts.append(_text(0, y + 17, competency.code, "chart-code"))
        parts.append(_text(LABEL + BAR + 10, y + 17, words))
        rows.append(
            (
                f"{competency.code} {competency.statement}",
                status_label(competency.status),
                percent(competency.score),
                str(competency.attempts),
                format_date(competency.acquired_at) if competency.acquired_at else "—",
            )
        )
    height = TOP + len(bloc.competencies) * ROW
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        svg=_svg(chart_id, title, description, height, parts),
        columns=(_("Compétence"), _("Statut"), _("Score"), _("Évaluations"), _("Acquise le")),
        rows=tuple(rows),
    )


def _bloc_summary(bloc: BlocRecord) -> str:
    return str(
        _(
            "%(status)s : %(acquired)d/%(total)d acquises, %(progress)d non acquise(s)",
            status=status_label(bloc.status, bloc=True),
            acquired=bloc.acquired,
            total=bloc.total,
            progress=bloc.in_progress,
        )
    )


def _safe_id(value: str) -> str:
    """Keep an id usable in ``url(#…)`` and in HTML, whatever a code contains."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", value)


def _svg(chart_id: str, title: str, description: str, height: int, parts: list[Markup]) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'aria-labelledby="{id}-titre {id}-desc">'
        '<title id="{id}-titre">{title}</title><desc id="{id}-desc">{description}</desc>'
        "{parts}</svg>"
    ).format(
        width=WIDTH,
        height=height,
        id=chart_id,
        title=title,
        description=description,
        parts=Markup("").join(parts),
    )


def _defs(chart_id: str) -> Markup:
    """Patterns: solid for acquired, hatches for in progress, dots for not evaluated."""
    return Markup(
        "<defs>"
        '<pattern id="{id}-en_cours" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#fff"/>'
        '<rect width="4" height="8" fill="#8a4b00"/></pattern>'
        '<pattern id="{id}-non_evalue" width="8" height="8" patternUnits="userSpaceOnUse">'
        '<rect width="8" height="8" fill="#fff"/>'
        '<circle cx="4" cy="4" r="1.5" fill="#595966"/></pattern>'
        "</defs>"
    ).format(id=chart_id)


def _fill(chart_id: str, status: Status) -> str:
    if status is Status.ACQUIRED:
        return "#1d6b3a"
    return f"url(#{chart_id}-{status.value})"


def _rect(
    chart_id: str, status: Status, x: float, y: int, width: float, height: int = 24
) -> Markup:
    return Markup(
        '<rect class="chart-{status}" x="{x:.1f}" y="{y}" width="{width:.1f}" height="{height}" '
        'fill="{fill}" stroke="{ink}" stroke-width="1"/>'
    ).format(
        status=status.value,
        x=x,
        y=y,
        width=width,
        height=height,
        fill=_fill(chart_id, status),
        ink=INK,
    )


def _frame(x: int, y: int) -> Markup:
    return Markup(
        '<rect class="chart-frame" x="{x}" y="{y}" width="{width}" height="24" fill="none" '
        'stroke="#595966" stroke-width="1"/>'
    ).format(x=x, y=y, width=BAR)


def _text(x: float, y: float, words: str, css: str = "chart-label") -> Markup:
    return Markup('<text class="{css}" x="{x:.0f}" y="{y:.0f}" fill="{ink}">{words}</text>').format(
        css=css, x=x, y=y, ink=INK, words=words
    )


def _legend(chart_id: str) -> Markup:
    items = []
    x = 0
    for status in (Status.ACQUIRED, Status.IN_PROGRESS, Status.NOT_EVALUATED):
        items.append(_rect(chart_id, status, x, 8, 18, height=18))
        label = status_label(status)
        items.append(_text(x + 24, 22, label))
        x += 24 + 9 * len(label) + 24
    return Markup('<g class="chart-legend">{items}</g>').format(items=Markup("").join(items))
