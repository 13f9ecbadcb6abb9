"""The words of a status: the one place that names where a learner stands.

A competency is *acquise*, *non acquise* (evaluated, not acquired: by the course's method
for its standing, by the rule or the evaluator for one decision) or *non évaluée*; a bloc
and the certification are *validé*, *en cours* or *non évalué*. The learner's épreuve
page, "Ma progression", the class matrix, its exports and the livret all take their words
from here, so one competency in one state reads the same everywhere.
"""

from __future__ import annotations

from flask_babel import gettext as _

from referentiel.rules import Status


def status_names(*, bloc: bool = False) -> dict[Status, str]:
    """Return each status's words, for a competency or for a bloc and the certification."""
    if bloc:
        return {
            Status.ACQUIRED: _("Validé"),
            Status.IN_PROGRESS: _("En cours"),
            Status.NOT_EVALUATED: _("Non évalué"),
        }
    return {
        Status.ACQUIRED: _("Acquise"),
        Status.IN_PROGRESS: _("Non acquise"),
        Status.NOT_EVALUATED: _("Non évaluée"),
    }


def status_label(status: Status | str, *, bloc: bool = False) -> str:
    """Return a status in words: a competency is *acquise*, a bloc *validé*."""
    return status_names(bloc=bloc)[Status(status)]


def decision_status(is_acquired: bool) -> Status:
    """Return the status one published decision gives its competency."""
    return Status.ACQUIRED if is_acquired else Status.IN_PROGRESS


def decision_label(is_acquired: bool) -> str:
    """Return a decision in the words of the status it gives: *acquise*, *non acquise*."""
    return status_label(decision_status(is_acquired))


def competency_labels() -> dict[Status, tuple[str, str]]:
    """Return each competency status's CSS class and short cell text (the matrix's legend)."""
    return {
        Status.ACQUIRED: ("s-acquis", _("A")),
        Status.IN_PROGRESS: ("s-en-cours", _("NA")),
        Status.NOT_EVALUATED: ("s-non-evalue", _("NE")),
    }


def bloc_labels() -> dict[Status, tuple[str, str]]:
    """Return each bloc (and certification) status's CSS class and short cell text."""
    return {
        Status.ACQUIRED: ("bloc s-acquis", _("V")),
        Status.IN_PROGRESS: ("bloc s-en-cours", _("EC")),
        Status.NOT_EVALUATED: ("bloc s-non-evalue", _("NE")),
    }
