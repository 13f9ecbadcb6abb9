"""Write a framework as a CASE 1.1 package (CFPackage JSON), and read one back.

The mapping, both ways:

- the framework is the ``CFDocument``; what CASE has no field for (code, level, scale, rules,
  the ``updated`` date) sits in its ``extensions.jalon``;
- blocs, competencies and activities are ``CFItems`` (``extensions.jalon.kind`` says which);
- the tree is ``isChildOf`` associations (bloc → document, competency → bloc, activity → bloc)
  and an activity ``isRelatedTo`` the competencies it develops; ``sequenceNumber`` keeps the
  order of the file;
- each épreuve is a ``CFRubric`` whose ``CFRubricCriteria`` are the criteria of the
  competencies it covers, each pointing at its competency through ``CFItemURI`` and carrying
  the framework's scale as ``CFRubricCriterionLevels``. Criteria of a competency that no
  épreuve covers (a framework without épreuves) go into one more rubric,
  ``extensions.jalon.kind = "criteria"``, so that nothing is lost.

Identifiers come from ``referentiel.identifiers`` and URIs from ``referentiel.iris``, and every
``lastChangeDateTime`` is the framework's ``updated`` date at midnight UTC, or
``2000-01-01T00:00:00Z`` when the file gives none: exporting twice gives the same bytes.
"""

from referentiel.exports.case.reader import case_schema, load_case, load_case_text
from referentiel.exports.case.writer import EPOCH, dump_case, export_case

__all__ = ["EPOCH", "case_schema", "dump_case", "export_case", "load_case", "load_case_text"]
