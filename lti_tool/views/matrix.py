"""The class matrix for the teaching team, its CSV and XLSX exports, and each learner's livret.

Every page is for staff of the launch's course, about that course only: a learner id of
another course is a 404. Filters and sorting come from the query string (``bloc``,
``statut``, ``groupe``, ``tri``, ``ordre``, and ``replies``: the blocs shown folded, by
code, comma-separated); a bad value is a 400 naming the parameter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from markupsafe import Markup
from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow.validate import OneOf

from lti_tool.db import db_session
from lti_tool.evaluation import exports
from lti_tool.evaluation.livret import learner_livret
from lti_tool.evaluation.matrix import Matrix, MatrixFilters, MatrixLearner, Sort, class_matrix
from lti_tool.evaluation.placement import placement_of
from lti_tool.evaluation.status_words import bloc_labels, competency_labels, status_names
from lti_tool.lti import session
from lti_tool.lti.records import NRPS_CLAIM
from lti_tool.lti.session import lti_url, staff_required
from lti_tool.models import LtiContext, Platform
from lti_tool.people import sharing_notice
from lti_tool.services import LmsServiceError, lms_services
from lti_tool.services.context import context_for_launch
from lti_tool.views.livret_pages import paged_livret
from referentiel.model import Framework
from referentiel.rules import Status

log = logging.getLogger(__name__)
NO_PDF = lazy_gettext(
    "Le livret PDF ne peut pas être produit sur ce serveur : la bibliothèque Pango manque. "
    "Un administrateur doit l’installer (paquets libpango-1.0-0 et libpangoft2-1.0-0)."
)

blueprint = Blueprint("matrix", __name__, url_prefix="/classe")

SORTS = {"nom": Sort.NAME, "certification": Sort.CERTIFICATION, "acquises": Sort.ACQUIRED}
# Not filters: the LTI session token and the language travel in the same query string.
_CARRIED = frozenset({session.PARAM, "lang"})


def _course() -> tuple[int, Framework]:
    """Return the launch's course and the framework its placement evaluates."""
    launch = session.current()
    # The launch carries the placement's custom parameters: no need to read the link row.
    placement = placement_of(db_session(), launch.custom) if launch else None
    if launch is None or launch.context_pk is None or placement is None:
        abort(404, _("Aucun référentiel n’est placé dans cette activité."))
    if placement.framework is None:
        abort(404, _("Aucun référentiel n’est placé dans cette activité."))
    return launch.context_pk, placement.framework


def _filters(framework: Framework, groups: tuple[str, ...]) -> MatrixFilters:
    """Parse the query string; a bad value is a 400 naming the parameter and why."""
    blocs = [bloc.code for bloc in framework.blocs]
    wrong = _("« {input} » n’est pas une valeur possible (valeurs : {choices}).")
    schema = type(
        "MatrixQuery",
        (Schema,),
        {
            "bloc": fields.String(validate=OneOf(blocs, error=wrong)),
            "statut": fields.String(validate=OneOf([s.value for s in Status], error=wrong)),
            "groupe": fields.String(validate=OneOf(groups, error=wrong)),
            "tri": fields.String(validate=OneOf([*SORTS, *blocs], error=wrong)),
            "ordre": fields.String(validate=OneOf(["asc", "desc"], error=wrong)),
            "replies": fields.String(validate=_bloc_list(blocs, wrong)),
            "error_messages": {"unknown": _("Paramètre inconnu.")},
        },
    )
    given = {k: v for k, v in request.args.items() if k not in _CARRIED and v != ""}
    try:
        query = schema(unknown=RAISE).load(given)
    except ValidationError as error:
        errors = error.normalized_messages()  # type: ignore[no-untyped-call]
        abort(
            400,
            " ".join(
                f"{_('Paramètre')} « {name} » : {' '.join(messages)}"
                for name, messages in sorted(errors.items())
            ),
        )
    sort = query.get("tri", "nom")
    return MatrixFilters(
        bloc=query.get("bloc"),
        status=Status(query["statut"]) if "statut" in query else None,
        group=query.get("groupe"),
        sort=SORTS.get(sort, Sort.BLOC),
        sort_bloc=None if sort in SORTS else sort,
        descending=query.get("ordre") == "desc",
        folded=frozenset(filter(None, query.get("replies", "").split(","))),
    )


def _bloc_list(blocs: list[str], wrong: str) -> Callable[[str], None]:
    """Return a validator of a comma-separated list of the framework's bloc codes."""

    def validate(text: str) -> None:
        unknown = [code for code in text.split(",") if code and code not in blocs]
        if unknown:
            raise ValidationError(wrong.format(input=unknown[0], choices=", ".join(blocs)))

    return validate


@dataclass(frozen=True)
class ClassRoster:
    """The LMS roster's learners for the matrix, or why the LMS gave none."""

    learners: tuple[MatrixLearner, ...] = ()
    error: str | None = None  # the LMS_* code when the roster was not available


def _roster() -> ClassRoster:
    """Read the course's roster (NRPS) with the launch's service claims.

    Without it the matrix lists who launched or handed in, and the page says why.
    """
    launch = session.current()
    if launch is None or not launch.claims.get(NRPS_CLAIM):
        return ClassRoster(error="LMS_SERVICE_NOT_OFFERED")  # and no database read
    db = db_session()
    platform = db.get(Platform, launch.platform_id)
    if platform is None:  # pragma: no cover (a launch's platform is not deleted under it)
        return ClassRoster(error="LMS_SERVICE_NOT_OFFERED")
    try:
        roster = lms_services().nrps.members(context_for_launch(db, platform, launch.claims))
    except LmsServiceError as exc:
        log.info("class matrix without the roster: %s", exc.code)
        return ClassRoster(error=exc.code)
    return ClassRoster(
        tuple(
            MatrixLearner(None, m.name, m.given_name, m.family_name, sub=m.user_id)
            for m in roster.learners
        )
    )


def _matrix() -> tuple[Matrix, MatrixFilters, ClassRoster]:
    """Return the filtered matrix of the launch's course, with its roster."""
    context_id, framework = _course()
    # No table records LMS groups yet (see the module docstring of evaluation.matrix).
    groups: dict[int, tuple[str, ...]] = {}
    filters = _filters(framework, ())
    roster = _roster()
    table = class_matrix(db_session(), context_id, framework, filters, groups, roster.learners)
    return table, filters, roster


def _url_of(endpoint: str) -> Callable[[int], str]:
    """Return a builder of ``lti_url(endpoint, learner_id=…)``: one ``url_for`` per page.

    Building 2,000 URLs one by one costs more than the rest of the matrix page.
    """
    sentinel = 987654321
    before, after = lti_url(endpoint, learner_id=sentinel).split(str(sentinel), 1)
    return lambda learner_id: f"{before}{learner_id}{after}"


def _cells() -> tuple[dict[Status, Markup], dict[Status, Markup]]:
    """Return each status's table cell, for a competency and for a bloc, as safe HTML.

    A class of 1,000 learners has ~49,000 cells: each row's cells are joined from these
    few fragments (escaped once here) instead of being rendered one by one. Cells hold the
    legend's short labels, so 44 competencies and their blocs fit a 1280 px screen.
    """
    words = status_names(bloc=True)
    cell = Markup('<td class="{}">{}</td>')
    titled = Markup('<td class="{}"><abbr title="{}">{}</abbr></td>')
    competency = {status: cell.format(*labels) for status, labels in competency_labels().items()}
    bloc = {
        status: titled.format(class_, words[status], short)
        for status, (class_, short) in bloc_labels().items()
    }
    return competency, bloc


def _rows(matrix: Matrix, folded: frozenset[str]) -> list[dict[str, Any]]:
    """Precompute each row's links, name and cells, so the template only loops."""
    competency_cell, bloc_cell = _cells()
    record_url, livret_url = _url_of("progress.learner"), _url_of("matrix.livret")
    rows = []
    for row in matrix.rows:
        cells: list[Markup] = []
        for bloc in row.blocs:
            if bloc.code not in folded:
                cells.extend(map(competency_cell.__getitem__, bloc.competencies))
            cells.append(bloc_cell[bloc.status])
        learner = row.learner
        known = learner.id is not None
        rows.append(
            {
                # A roster learner who never launched has no record nor livret yet.
                "url": record_url(learner.id) if known else None,
                "livret": livret_url(learner.id) if known else None,
                "name": learner.display_name,
                "cells": Markup("".join(cells)),  # noqa: S704 (joined from escaped fragments)
                "certification": bloc_cell[row.certification],
                "acquired": row.acquired,
            }
        )
    return rows


@blueprint.get("/")
@staff_required
def matrix() -> str:
    """Show the class matrix: learners × competencies, grouped by bloc."""
    table, filters, roster = _matrix()
    context = db_session().get(LtiContext, session.current().context_pk)  # type: ignore[union-attr]
    args = {k: v for k, v in request.args.items() if k != session.PARAM}
    return render_template(
        "matrix/matrix.html",
        matrix=table,
        filters=filters,
        rows=_rows(table, filters.folded),
        fold_urls=_fold_urls(table, filters, args),
        labels=competency_labels(),
        bloc_labels=bloc_labels(),
        names=status_names(bloc=False),
        bloc_names=status_names(bloc=True),
        course=context,
        naming_notice=sharing_notice(row.learner.shown.source for row in table.rows),
        query={k: v for k, v in args.items() if k != "lang"},
        language_args=args,
        roster=roster,
    )


def _fold_urls(
    matrix: Matrix, filters: MatrixFilters, args: dict[str, str]
) -> dict[str, str]:
    """Return, for each bloc shown, the page with that bloc folded or unfolded."""
    urls = {}
    for bloc in matrix.blocs:
        folded = filters.folded ^ {bloc.code}
        order = [b.code for b in matrix.framework.blocs if b.code in folded]
        values = {k: v for k, v in args.items() if k != "replies"}
        if order:
            values["replies"] = ",".join(order)
        urls[bloc.code] = lti_url("matrix.matrix", **values)
    return urls


def export_labels() -> exports.ExportLabels:
    """Return the export's words in the reader's language."""
    return exports.ExportLabels(
        learner=_("Apprenant"),
        acquired=_("Compétences acquises"),
        certification=_("Certification"),
        competency_status=status_names(bloc=False),
        bloc_status=status_names(bloc=True),
    )


@blueprint.get("/matrice.csv")
@staff_required
def matrix_csv() -> Response:
    """Download the filtered matrix as CSV (UTF-8 with BOM, ``;``-separated)."""
    table, _filters_used, _roster_used = _matrix()
    body = exports.matrix_csv(table, export_labels())
    return _download(body, exports.CSV_CONTENT_TYPE, "matrice.csv")


@blueprint.get("/matrice.xlsx")
@staff_required
def matrix_xlsx() -> Response:
    """Download the filtered matrix as an XLSX workbook."""
    table, _filters_used, _roster_used = _matrix()
    body = exports.matrix_xlsx(table, export_labels(), _("Matrice"))
    return _download(body, exports.XLSX_CONTENT_TYPE, "matrice.xlsx")


def _download(body: bytes, content_type: str, name: str) -> Response:
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"  # learners' results: never in a shared cache
    return response


def livret_html(context_id: int, learner_id: int, framework: Framework) -> str:
    """Render a learner's livret as the HTML WeasyPrint prints; 404 if not in the course."""
    livret = learner_livret(db_session(), context_id, learner_id, framework)
    if livret is None:
        abort(404)
    return render_template(
        "matrix/livret.html",
        livret=livret,
        names=status_names(bloc=False),
        bloc_names=status_names(bloc=True),
        scale={level.code: level for level in framework.scale},
    )


@blueprint.get("/apprenants/<int:learner_id>/livret.pdf")
@staff_required
def livret(learner_id: int) -> Response:
    """Download a learner's livret de compétences as PDF, for the certification jury."""
    try:
        import weasyprint  # noqa: F401 (heavy: loaded only when a livret is asked for)
    except (ImportError, OSError):
        # WeasyPrint needs the system's Pango library (Debian: libpango-1.0-0, libpangoft2-1.0-0).
        log.warning("livret: WeasyPrint cannot load (is Pango installed?)")
        abort(503, str(NO_PDF))
    context_id, framework = _course()
    html = livret_html(context_id, learner_id, framework)
    body = paged_livret(html).write_pdf()
    return _download(body, "application/pdf", f"livret-{learner_id}.pdf")
