"""Write a framework as a CASE 1.1 CFPackage (see ``referentiel.exports.case``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from referentiel.exports.yaml_file import to_document
from referentiel.identifiers import framework_id, item_id
from referentiel.iris import Kind, framework_iri, item_iri
from referentiel.model import Competency, Framework
from referentiel.schemas import FORMAT

# A fixed stamp for frameworks without an ``updated`` date, so that exports stay deterministic.
EPOCH = "2000-01-01T00:00:00Z"
ITEM_TYPES = {"bloc": "Bloc de compétences", "competency": "Compétence", "activity": "Activité"}
_IRI_KINDS = {"bloc": Kind.BLOC, "competency": Kind.COMPETENCY, "activity": Kind.ACTIVITY}
CRITERIA_RUBRIC_TITLE = "Critères d'évaluation"


def export_case(framework: Framework, base_url: str) -> dict[str, Any]:
    """Return the framework as a CASE 1.1 ``CFPackage``; ``base_url`` roots every ``uri``."""
    return _Writer(framework, base_url).package()


def dump_case(framework: Framework, base_url: str) -> str:
    """Return the CASE package as JSON text, the same bytes for the same framework."""
    return json.dumps(export_case(framework, base_url), ensure_ascii=False, indent=2) + "\n"


# One end of an association: the code that names it in the identifier, and its LinkGenURI.
_End = tuple[str, dict[str, str]]


def _stamp(updated: date | None) -> str:
    return f"{updated.isoformat()}T00:00:00Z" if updated else EPOCH


class _Writer:
    """Build the package of one framework under one base URL."""

    def __init__(self, framework: Framework, base_url: str) -> None:
        self.framework = framework
        self.base_url = base_url
        self.code = framework.code
        self.language = framework.identity.language
        self.stamp = _stamp(framework.identity.updated)

    def id(self, kind: str, code: str) -> str:
        return str(item_id(self.code, kind, code))

    def link(self, kind: str, code: str) -> dict[str, str]:
        """Return the LinkURI of a bloc, competency or activity."""
        iri = item_iri(self.base_url, self.code, _IRI_KINDS[kind], code)
        return {"title": code, "identifier": self.id(kind, code), "uri": iri}

    def package(self) -> dict[str, Any]:
        identity = self.framework.identity
        document = to_document(self.framework)
        cf_document: dict[str, Any] = {
            "identifier": str(framework_id(self.code)),
            "uri": framework_iri(self.base_url, self.code),
            "creator": identity.publisher,
            "publisher": identity.publisher,
            "title": identity.title,
        }
        if identity.description is not None:
            cf_document["description"] = identity.description
        cf_document |= {
            "language": identity.language,
            "version": identity.version,
            "caseVersion": "1.1",
            "lastChangeDateTime": self.stamp,
            "extensions": {
                "jalon": {
                    "format": FORMAT,
                    "code": self.code,
                    "level": identity.level,
                    "updated": document["framework"]["updated"],
                    "scale": document["scale"],
                    "rules": document["rules"],
                }
            },
        }
        if identity.rncp is not None:
            cf_document["extensions"]["jalon"]["rncp"] = identity.rncp
        return {
            "CFDocument": cf_document,
            "CFItems": list(self.items()),
            "CFAssociations": list(self.associations()),
            "CFRubrics": list(self.rubrics()),
        }

    def item(self, kind: str, code: str, statement: str, **jalon: Any) -> dict[str, Any]:
        link = self.link(kind, code)
        return {
            "identifier": link["identifier"],
            "fullStatement": statement,
            "CFItemType": ITEM_TYPES[kind],
            "uri": link["uri"],
            "humanCodingScheme": code,
            "language": self.language,
            "lastChangeDateTime": self.stamp,
            "extensions": {"jalon": {"kind": kind, **jalon}},
        }

    def items(self) -> Iterator[dict[str, Any]]:
        for bloc in self.framework.blocs:
            rncp = {} if bloc.rncp is None else {"rncp": bloc.rncp}
            yield self.item("bloc", bloc.code, bloc.title, **rncp)
            for competency in bloc.competencies:
                yield self.item("competency", competency.code, competency.statement)
        for activity in self.framework.activities:
            yield self.item("activity", activity.code, activity.title, tasks=list(activity.tasks))

    def association(
        self, origin: _End, kind: str, destination: _End, sequence: int
    ) -> dict[str, Any]:
        identifier = self.id("association", f"{origin[0]}|{kind}|{destination[0]}")
        return {
            "identifier": identifier,
            "associationType": kind,
            "sequenceNumber": sequence,
            "uri": item_iri(self.base_url, self.code, Kind.ASSOCIATION, identifier),
            "originNodeURI": dict(origin[1]),
            "destinationNodeURI": dict(destination[1]),
            "lastChangeDateTime": self.stamp,
        }

    def associations(self) -> Iterator[dict[str, Any]]:
        document = (
            self.code,
            {
                "title": self.framework.identity.title,
                "identifier": str(framework_id(self.code)),
                "uri": framework_iri(self.base_url, self.code),
            },
        )
        for b, bloc in enumerate(self.framework.blocs, 1):
            parent = (bloc.code, self.link("bloc", bloc.code))
            yield self.association(parent, "isChildOf", document, b)
            for c, competency in enumerate(bloc.competencies, 1):
                child = (competency.code, self.link("competency", competency.code))
                yield self.association(child, "isChildOf", parent, c)
        # An activity's sequence is its place among all activities, as in the file.
        for a, activity in enumerate(self.framework.activities, 1):
            origin = (activity.code, self.link("activity", activity.code))
            parent = (activity.bloc, self.link("bloc", activity.bloc))
            yield self.association(origin, "isChildOf", parent, a)
            for c, code in enumerate(activity.competencies, 1):
                destination = (code, self.link("competency", code))
                yield self.association(origin, "isRelatedTo", destination, c)

    def rubrics(self) -> Iterator[dict[str, Any]]:
        for epreuve in self.framework.epreuves:
            identifier = self.id("epreuve", epreuve.code)
            rubric: dict[str, Any] = {
                "identifier": identifier,
                "uri": item_iri(self.base_url, self.code, Kind.EPREUVE, epreuve.code),
                "title": epreuve.title,
                "description": epreuve.description,
                "lastChangeDateTime": self.stamp,
                "CFRubricCriteria": self.criteria(
                    epreuve.code,
                    identifier,
                    [self.framework.competency(code) for code in epreuve.competencies],
                ),
                "extensions": {
                    "jalon": {
                        "code": epreuve.code,
                        "modality": epreuve.modality.value,
                        "modality_label": epreuve.modality_label,
                        "deliverables": list(epreuve.deliverables),
                        "interview": list(epreuve.interview),
                        "preparation_time": epreuve.preparation_time,
                        "competencies": list(epreuve.competencies),
                    }
                },
            }
            yield rubric
        covered = {code for epreuve in self.framework.epreuves for code in epreuve.competencies}
        uncovered = [c for c in self.framework.competencies() if c.code not in covered]
        if uncovered:
            # "criteria" cannot clash with an épreuve: no épreuve covers these competencies.
            identifier = self.id("rubric", "criteria")
            yield {
                "identifier": identifier,
                "uri": item_iri(self.base_url, self.code, Kind.CRITERION, ""),
                "title": CRITERIA_RUBRIC_TITLE,
                "lastChangeDateTime": self.stamp,
                "CFRubricCriteria": self.criteria("criteria", identifier, uncovered),
                "extensions": {"jalon": {"kind": "criteria"}},
            }

    def criteria(
        self, key: str, rubric_id: str, competencies: Iterable[Competency]
    ) -> list[dict[str, Any]]:
        """Return the rubric criteria judging these competencies; ``key`` names the rubric."""
        out: list[dict[str, Any]] = []
        pairs = (
            (competency, criterion)
            for competency in competencies
            for criterion in competency.criteria
        )
        for position, (competency, criterion) in enumerate(pairs, 1):
            identifier = self.id("rubric-criterion", f"{key}/{criterion.code}")
            iri = item_iri(self.base_url, self.code, Kind.CRITERION, criterion.code)
            # Levels are qualified by the rubric too: a criterion judged by two épreuves
            # appears in both rubrics, and identifiers must stay unique in the package.
            levels = [
                {
                    "identifier": self.id("level", f"{key}/{criterion.code}/{level.code}"),
                    "uri": f"{iri}#{level.code}",
                    "quality": level.label,
                    "score": float(index),
                    "position": index + 1,
                    "rubricCriterionId": identifier,
                    "lastChangeDateTime": self.stamp,
                }
                for index, level in enumerate(self.framework.scale)
            ]
            out.append(
                {
                    "identifier": identifier,
                    "uri": iri,
                    "category": competency.code,
                    "description": criterion.text,
                    "CFItemURI": self.link("competency", competency.code),
                    "weight": 1.0,
                    "position": position,
                    "rubricId": rubric_id,
                    "lastChangeDateTime": self.stamp,
                    "CFRubricCriterionLevels": levels,
                    "extensions": {"jalon": {"code": criterion.code}},
                }
            )
        return out
