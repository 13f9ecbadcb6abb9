"""Browsable IRIs of frameworks and their items, as HTML or CASE JSON.

These URLs are the IRIs that CASE exports and xAPI statements use: their shape comes from
``referentiel.iris`` and must not change.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template
from flask_babel import format_timedelta
from flask_babel import gettext as _

from lti_tool.db import db_session
from lti_tool.frameworks import case_package, current_records, find_record, framework_of
from lti_tool.views.errors import wants_json
from referentiel.iris import Kind, framework_iri, item_iri
from referentiel.model import Framework

blueprint = Blueprint("referentiels", __name__, url_prefix="/referentiels")

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


@blueprint.get("/")
def index() -> Response | str:
    """List the frameworks this Jalon holds."""
    records = current_records(db_session())
    if wants_json():
        base = _base_url()
        return jsonify(
            frameworks=[
                {
                    "code": r.code,
                    "version": r.version,
                    "title": r.title,
                    "uri": framework_iri(base, r.code),
                }
                for r in records
            ]
        )
    return render_template("referentiels/index.html", records=records)


@blueprint.get("/<framework_code>/")
def framework(framework_code: str) -> Response | str:
    """Show a framework: its blocs, competencies, activities and épreuves."""
    fw, checksum = _framework(framework_code)
    if wants_json():
        return _json(case_package(checksum, fw, _base_url()))
    return render_template("referentiels/framework.html", fw=fw)


@blueprint.get("/<framework_code>/blocs/<code>")
def bloc(framework_code: str, code: str) -> Response | str:
    """Show a bloc and its competencies."""
    fw, checksum = _framework(framework_code)
    item = _lookup(fw.bloc, code)
    if wants_json():
        return _json(_index(checksum, fw, _base_url())[(Kind.BLOC, code)])
    epreuves = [e for e in fw.epreuves if {c.code for c in item.competencies} & set(e.competencies)]
    activities = [a for a in fw.activities if a.bloc == item.code]
    return render_template(
        "referentiels/bloc.html", fw=fw, bloc=item, epreuves=epreuves, activities=activities
    )


@blueprint.get("/<framework_code>/competences/<code>")
def competency(framework_code: str, code: str) -> Response | str:
    """Show a competency with every criterion that judges it."""
    fw, checksum = _framework(framework_code)
    item = _lookup(fw.competency, code)
    if wants_json():
        return _json(_index(checksum, fw, _base_url())[(Kind.COMPETENCY, code)])
    return render_template(
        "referentiels/competency.html",
        fw=fw,
        competency=item,
        bloc=fw.bloc_of(code),
        epreuves=[e for e in fw.epreuves if code in e.competencies],
        activities=[a for a in fw.activities if code in a.competencies],
    )


@blueprint.get("/<framework_code>/criteres/<code>")
def criterion(framework_code: str, code: str) -> Response | str:
    """Show an evaluation criterion and the competency it judges."""
    fw, checksum = _framework(framework_code)
    item = _lookup(fw.criterion, code)
    if wants_json():
        return _json(_index(checksum, fw, _base_url())[(Kind.CRITERION, code)])
    owner = fw.competency_of_criterion(code)
    return render_template(
        "referentiels/criterion.html",
        fw=fw,
        criterion=item,
        competency=owner,
        bloc=fw.bloc_of(owner.code),
    )


@blueprint.get("/<framework_code>/activites/<code>")
def activity(framework_code: str, code: str) -> Response | str:
    """Show an activity, its tasks and the competencies it develops."""
    fw, checksum = _framework(framework_code)
    item = _lookup(fw.activity, code)
    if wants_json():
        return _json(_index(checksum, fw, _base_url())[(Kind.ACTIVITY, code)])
    return render_template(
        "referentiels/activity.html",
        fw=fw,
        activity=item,
        bloc=fw.bloc(item.bloc),
        competencies=[fw.competency(c) for c in item.competencies],
    )


@blueprint.get("/<framework_code>/epreuves/<code>")
def epreuve(framework_code: str, code: str) -> Response | str:
    """Show an épreuve: what it asks and the criteria it judges."""
    fw, checksum = _framework(framework_code)
    item = _lookup(fw.epreuve, code)
    if wants_json():
        return _json(_index(checksum, fw, _base_url())[(Kind.EPREUVE, code)])
    return render_template(
        "referentiels/epreuve.html",
        fw=fw,
        epreuve=item,
        preparation=_human_duration(item.preparation_time),
        competencies=[fw.competency(c) for c in item.competencies],
    )


def _framework(code: str) -> tuple[Framework, str]:
    record = find_record(db_session(), code)
    if record is None:
        abort(404, description=_("Aucun référentiel ne porte le code « %(code)s ».", code=code))
    return framework_of(record), record.checksum


def _lookup(getter: Any, code: str) -> Any:
    try:
        return getter(code)
    except KeyError:
        abort(404, description=_("Ce référentiel n’a pas d’élément « %(code)s ».", code=code))


def _base_url() -> str:
    return str(current_app.config["JALON"].base_url)


def _json(document: dict[str, Any]) -> Response:
    response = jsonify(document)
    response.headers["Vary"] = "Accept"
    return response


_INDEXES: dict[tuple[str, str], dict[tuple[Kind, str], dict[str, Any]]] = {}


def _index(checksum: str, fw: Framework, base_url: str) -> dict[tuple[Kind, str], dict[str, Any]]:
    """Map (kind, code) to the CASE object that describes it."""
    key = (checksum, base_url)
    if key not in _INDEXES:
        if len(_INDEXES) >= 16:
            _INDEXES.clear()
        _INDEXES[key] = _build_index(case_package(checksum, fw, base_url), fw, base_url)
    return _INDEXES[key]


def _build_index(
    package: dict[str, Any], fw: Framework, base_url: str
) -> dict[tuple[Kind, str], dict[str, Any]]:
    by_uri: dict[str, dict[str, Any]] = {}
    for item in package.get("CFItems", []):
        by_uri[item["uri"]] = item
    for rubric in package.get("CFRubrics", []):
        by_uri.setdefault(rubric["uri"], rubric)
        for criterion in rubric.get("CFRubricCriteria", []):
            by_uri.setdefault(criterion["uri"], criterion)
    index: dict[tuple[Kind, str], dict[str, Any]] = {}
    for kind, codes in (
        (Kind.BLOC, [b.code for b in fw.blocs]),
        (Kind.COMPETENCY, [c.code for c in fw.competencies()]),
        (Kind.CRITERION, [c.code for c in fw.criteria()]),
        (Kind.ACTIVITY, [a.code for a in fw.activities]),
        (Kind.EPREUVE, [e.code for e in fw.epreuves]),
    ):
        for code in codes:
            index[(kind, code)] = by_uri[item_iri(base_url, fw.code, kind, code)]
    return index


def _human_duration(iso: str | None) -> str | None:
    """Say an ISO 8601 duration in the reader's language (P4W → « 4 semaines »)."""
    if not iso:
        return None
    match = _DURATION.match(iso)
    if not match:
        return iso
    weeks, days, hours, minutes = (int(x or 0) for x in match.groups())
    if weeks and not (days or hours or minutes):
        return str(format_timedelta(dt.timedelta(weeks=weeks), granularity="week", threshold=10))
    delta = dt.timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    return str(format_timedelta(delta, threshold=10))
