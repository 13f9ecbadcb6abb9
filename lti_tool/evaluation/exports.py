"""The class matrix as a spreadsheet: CSV for any tool, XLSX for Excel and LibreOffice.

Both exports carry the same table as the page: one row per learner, one column per
competency, per bloc and for the certification, plus the competencies acquired.

CSV: UTF-8 with a byte-order mark, so Excel opens accents correctly, and ``;`` as the
separator, because Excel in a French locale (where ``,`` is the decimal mark) splits on
``;`` by default; LibreOffice and pandas read it too when told the separator.

A cell an attacker controls (a name from the LMS) could read as a formula when the file is
opened (CSV injection). In CSV, such text cells get a leading apostrophe, which spreadsheets
take as "text" (:mod:`referentiel.exports.spreadsheet` says which leads count). In XLSX every
text cell is written with the string type, so nothing in it is ever a formula and no
apostrophe shows; characters XML 1.0 cannot hold (control characters) are dropped there.
Numbers Jalon writes itself (the count of competencies acquired) stay numbers in both.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font

from lti_tool.evaluation.matrix import Matrix
from referentiel.exports.spreadsheet import neutralise
from referentiel.rules import Status

CSV_SEPARATOR = ";"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportLabels:
    """The words of the export, in the reader's language."""

    learner: str
    acquired: str
    certification: str
    competency_status: Mapping[Status, str]
    bloc_status: Mapping[Status, str]


def _header(matrix: Matrix, labels: ExportLabels) -> list[str]:
    columns = [labels.learner]
    for bloc in matrix.blocs:
        columns.extend(competency.code for competency in bloc.competencies)
        columns.append(bloc.code)
    columns.extend([labels.certification, labels.acquired])
    return columns


def _rows(matrix: Matrix, labels: ExportLabels) -> Iterator[list[str | int]]:
    competency, bloc_status = labels.competency_status, labels.bloc_status
    for row in matrix.rows:
        name = row.learner.display_name
        cells: list[str | int] = [name]
        for bloc in row.blocs:
            cells.extend(competency[status] for status in bloc.competencies)
            cells.append(bloc_status[bloc.status])
        cells.extend([bloc_status[row.certification], row.acquired])
        yield cells


def matrix_csv(matrix: Matrix, labels: ExportLabels) -> bytes:
    """Return the matrix as UTF-8 CSV with a byte-order mark, separated by ``;``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    writer.writerow([neutralise(column) for column in _header(matrix, labels)])
    for cells in _rows(matrix, labels):
        writer.writerow([neutralise(cell) if isinstance(cell, str) else cell for cell in cells])
    return buffer.getvalue().encode("utf-8-sig")


def matrix_xlsx(matrix: Matrix, labels: ExportLabels, title: str) -> bytes:
    """Return the matrix as a one-sheet workbook: a bold header row, names and header frozen."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.freeze_panes = "B2"
    sheet.column_dimensions["A"].width = 32
    header = []
    for column in _header(matrix, labels):
        cell = _cell(sheet, column)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for cells in _rows(matrix, labels):
        sheet.append([_cell(sheet, value) for value in cells])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet: object, value: str | int) -> Cell:
    """Return a cell holding text as a string, whatever it starts with; numbers as numbers."""
    if not isinstance(value, str):
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    # openpyxl takes text starting with "=" for a formula; the string type writes it as text.
    cell.data_type = "s"
    return cell


def _sheet_title(title: str) -> str:
    r"""Return a valid sheet title: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title).strip()
    return cleaned[:31] or "Matrice"
