"""Write a framework as the CSV file Moodle's competency framework importer reads.

The importer is ``admin/tool/lpimportcsv`` (Site administration > Competencies > Import
competency framework). What this module relies on, from Moodle's source:

- ``classes/framework_importer.php`` reads the columns *by position* (``read_mapping_data``
  without a mapping: 0 parent ID number … 13 taxonomy); the header row is what
  ``list_required_headers()`` prints, i.e. the strings of ``lang/en/tool_lpimportcsv.php``
  (``parentidnumber`` = "Parent ID number", ``exportid`` = "Exported ID (optional)",
  ``relatedidnumbers`` = "Cross-referenced competency ID numbers"…);
- the row whose ``Is framework`` is true is the framework; every other row is a competency
  hung under the row whose ID number equals its ``Parent ID number`` (empty: top level);
- ``shorten_text(…, 100)`` cuts ID numbers and short names at 100 characters, so short names
  are shortened here, on a word boundary, before Moodle would cut them silently;
- ``Scale values`` are matched against global scales by their comma-joined items (so a label
  cannot hold a comma), and the first entry of ``Scale configuration`` gets the scale's id;
- a rule is created only when ``Rule type`` names an existing class; the config ``null`` means
  none; ``Rule outcome`` 2 is ``OUTCOME_COMPLETE`` of ``core_competency``'s ``competency``;
- ``classes/framework_exporter.php`` writes rule-less competencies with outcome 0 and config
  ``null``, and nothing in the scale columns of rows that inherit the framework's scale.

Cells are written as Moodle reads them, except text that a spreadsheet would run as a formula
(a title starting with ``=``…), which gets a leading apostrophe
(:mod:`referentiel.exports.spreadsheet`): the file is often opened in Excel before it is
imported. Codes and descriptions never need it (a code starts with a letter or a digit, a
description with ``<p>``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from html import escape

from referentiel.exports.spreadsheet import neutralise
from referentiel.identifiers import item_id
from referentiel.iris import Kind, framework_iri, item_iri
from referentiel.model import Bloc, Competency, Framework

HEADER = (
    "Parent ID number",
    "ID number",
    "Short name",
    "Description",
    "Description format",
    "Scale values",
    "Scale configuration",
    "Rule type (optional)",
    "Rule outcome (optional)",
    "Rule config (optional)",
    "Cross-referenced competency ID numbers",
    "Exported ID (optional)",
    "Is framework",
    "Taxonomy",
)
SHORT_NAME_LIMIT = 100
HTML_FORMAT = "1"
RULE_ALL = "core_competency\\competency_rule_all"
OUTCOME_NONE = "0"
OUTCOME_COMPLETE = "2"
TAXONOMY = "domain,competency"
# The heading of the criteria list in a competency's description, in the framework's language.
CRITERIA_HEADING = {"fr": "Critères d'évaluation :", "en": "Assessment criteria:"}


def dump_moodle_csv(framework: Framework, base_url: str | None = None) -> str:
    """Return the framework as a Moodle competency framework CSV file.

    The framework row carries the scale; then each bloc, completed when all its competencies
    are, is followed by its competencies, whose description lists their criteria. With a
    ``base_url``, each description ends with a link to the item's page in Jalon.
    Raise ``ValueError`` when a scale label holds a comma, which Moodle's scale cannot hold.
    """
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows([neutralise(cell) for cell in row] for row in _rows(framework, base_url))
    return out.getvalue()


def shorten(text: str, limit: int = SHORT_NAME_LIMIT) -> str:
    """Return ``text`` in at most ``limit`` characters, cut between words and ended by "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-\u2013\u2014") + "…"


def scale_values(framework: Framework) -> str:
    """Return the scale labels as Moodle stores a scale: comma-joined, lowest first."""
    for level in framework.scale:
        if "," in level.label:
            raise ValueError(
                f"scale level {level.code!r}: Moodle cannot hold a comma in a scale item "
                f"({level.label!r})"
            )
    return ",".join(level.label for level in framework.scale)


def scale_configuration(framework: Framework) -> str:
    """Return Moodle's scale configuration: the first level by default, passing ones proficient."""
    config: list[dict[str, object]] = [{"scaleid": "0"}]
    config += [
        {"id": i, "scaledefault": int(i == 1), "proficient": int(level.is_passing)}
        for i, level in enumerate(framework.scale, 1)
    ]
    return json.dumps(config, separators=(",", ":"))


def _rows(framework: Framework, base_url: str | None) -> Iterator[list[str]]:
    identity = framework.identity
    description = f"<p>{_text(identity.description)}</p>" if identity.description else ""
    if base_url:
        description += _link(framework_iri(base_url, framework.code))
    yield [
        "",
        framework.code,
        shorten(identity.title),
        description,
        HTML_FORMAT,
        scale_values(framework),
        scale_configuration(framework),
        "",
        "",
        "",
        "",
        "",
        "1",
        TAXONOMY,
    ]
    heading = CRITERIA_HEADING.get(identity.language.split("-")[0], CRITERIA_HEADING["fr"])
    for bloc in framework.blocs:
        yield _bloc_row(framework, bloc, base_url)
        for competency in bloc.competencies:
            yield _competency_row(framework, bloc, competency, heading, base_url)


def _bloc_row(framework: Framework, bloc: Bloc, base_url: str | None) -> list[str]:
    description = f"<p>{_text(bloc.title)}</p>"
    if base_url:
        description += _link(item_iri(base_url, framework.code, Kind.BLOC, bloc.code))
    return [
        "",
        bloc.code,
        shorten(f"{bloc.code} — {bloc.title}"),
        description,
        HTML_FORMAT,
        "",
        "",
        RULE_ALL,
        OUTCOME_COMPLETE,
        "null",
        "",
        str(item_id(framework.code, "bloc", bloc.code)),
        "",
        "",
    ]


def _competency_row(
    framework: Framework, bloc: Bloc, competency: Competency, heading: str, base_url: str | None
) -> list[str]:
    items = "".join(f"<li>{_text(criterion.text)}</li>" for criterion in competency.criteria)
    description = f"<p>{_text(competency.statement)}</p><p>{heading}</p><ul>{items}</ul>"
    if base_url:
        iri = item_iri(base_url, framework.code, Kind.COMPETENCY, competency.code)
        description += _link(iri)
    return [
        bloc.code,
        competency.code,
        shorten(f"{competency.code} — {competency.statement}"),
        description,
        HTML_FORMAT,
        "",
        "",
        "",
        OUTCOME_NONE,
        "null",
        "",
        str(item_id(framework.code, "competency", competency.code)),
        "",
        "",
    ]


def _text(text: str) -> str:
    """Escape text for an HTML element's content (quotes need no escaping there)."""
    return escape(text, quote=False)


def _link(iri: str) -> str:
    return f'<p><a href="{escape(iri)}">{escape(iri)}</a></p>'
