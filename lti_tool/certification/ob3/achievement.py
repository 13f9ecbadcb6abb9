"""What a credential certifies: a bloc de compétences, or the whole title.

Each is an OB 3.0 ``Achievement`` aligned to the CASE items Jalon publishes for its
référentiel.

Ids are the référentiel's IRIs (``referentiel.iris``) with a ``#certification`` fragment:
stable as long as the référentiel's code is, and they open the bloc's (or the title's) page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from referentiel.identifiers import item_id
from referentiel.iris import Kind, framework_iri, item_iri
from referentiel.model import Bloc, Framework

ALIGNMENT_TYPE = "CFItem"
VALIDATED = "Validé"
NOT_VALIDATED = "Non validé"


@dataclass(frozen=True, slots=True)
class Alignment:
    """A CASE item the achievement aligns to (OB 3.0 ``Alignment``)."""

    target_url: str
    target_name: str
    target_code: str
    target_framework: str
    target_description: str | None = None
    target_type: str = ALIGNMENT_TYPE

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 JSON of the alignment."""
        value = {
            "type": ["Alignment"],
            "targetUrl": self.target_url,
            "targetName": self.target_name,
            "targetCode": self.target_code,
            "targetFramework": self.target_framework,
            "targetType": self.target_type,
        }
        if self.target_description:
            value["targetDescription"] = self.target_description
        return value


@dataclass(frozen=True, slots=True)
class ResultDescription:
    """How the jury's decision is reported: a status, validated or not."""

    id: str
    name: str = "Décision du jury de certification"
    allowed_values: tuple[str, ...] = (NOT_VALIDATED, VALIDATED)
    required_value: str = VALIDATED
    result_type: str = "Status"

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 JSON of the result description."""
        return {
            "id": self.id,
            "type": ["ResultDescription"],
            "name": self.name,
            "allowedValue": list(self.allowed_values),
            "requiredValue": self.required_value,
            "resultType": self.result_type,
        }


@dataclass(frozen=True, slots=True)
class Achievement:
    """A bloc or a title as an OB 3.0 ``Achievement``; ``bloc_code`` is None for the title."""

    id: str
    name: str
    description: str
    criteria_narrative: str
    alignments: tuple[Alignment, ...]
    achievement_type: str
    result_description: ResultDescription
    human_code: str
    framework_code: str
    in_language: str
    version: str
    bloc_code: str | None = None
    rncp: str | None = None
    image: str | None = None
    tags: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 JSON of the achievement, as ``credentialSubject.achievement``."""
        value: dict[str, Any] = {
            "id": self.id,
            "type": ["Achievement"],
            "achievementType": self.achievement_type,
            "name": self.name,
            "description": self.description,
            "criteria": {"narrative": self.criteria_narrative},
            "alignment": [alignment.to_json() for alignment in self.alignments],
            "resultDescription": [self.result_description.to_json()],
            "humanCode": self.human_code,
            "inLanguage": self.in_language,
            "version": self.version,
        }
        if self.rncp:
            value["otherIdentifier"] = [
                {"type": "IdentifierEntry", "identifier": self.rncp, "identifierType": "ext:RNCP"}
            ]
        if self.tags:
            value["tag"] = list(self.tags)
        if self.image:
            value["image"] = {"id": self.image, "type": "Image", "caption": self.name}
        return value


def _rncp(framework: Framework) -> str | None:
    return framework.identity.rncp


def _item_alignment(
    framework: Framework, base_url: str, kind: str, iri_kind: Kind, code: str, text: str
) -> Alignment:
    """Align to a CFItem: its ``uri`` (an IRI Jalon serves) and its CASE identifier."""
    name = f"{code} — {_first_sentence(text)}"
    full = " ".join(text.split())
    return Alignment(
        target_url=item_iri(base_url, framework.code, iri_kind, code),
        target_name=name,
        target_code=str(item_id(framework.code, kind, code)),
        target_framework=framework.identity.title,
        target_description=full if not name.endswith(full) else None,
    )


def _first_sentence(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,;:") + "…"


def _epreuves_of(framework: Framework, bloc: Bloc) -> list[str]:
    codes = {competency.code for competency in bloc.competencies}
    return [
        f"- {e.code} — {e.title} ({e.modality_label})"
        for e in framework.epreuves
        if codes.intersection(e.competencies)
    ]


def _title_line(framework: Framework, rncp: str | None) -> str:
    return f"{framework.identity.title} ({rncp})" if rncp else framework.identity.title


def achievement_for_bloc(framework: Framework, bloc_code: str, base_url: str) -> Achievement:
    """Return the achievement of one bloc; raise ``KeyError`` if the bloc does not exist."""
    bloc = framework.bloc(bloc_code)
    rncp = _rncp(framework)
    iri = item_iri(base_url, framework.code, Kind.BLOC, bloc.code)
    competencies = [f"- {c.code} — {' '.join(c.statement.split())}" for c in bloc.competencies]
    epreuves = _epreuves_of(framework, bloc)
    narrative = "\n".join(
        [
            f"Bloc de compétences {bloc.code} du titre {_title_line(framework, rncp)}, "
            "validé par le jury de certification au vu des épreuves qui l’évaluent.",
            "",
            "Épreuves :",
            *(epreuves or ["- (aucune épreuve déclarée)"]),
            "",
            "Compétences certifiées :",
            *competencies,
        ]
    )
    alignments = (
        _item_alignment(framework, base_url, "bloc", Kind.BLOC, bloc.code, bloc.title),
        *(
            _item_alignment(framework, base_url, "competency", Kind.COMPETENCY, c.code, c.statement)
            for c in bloc.competencies
        ),
    )
    return Achievement(
        id=f"{iri}#certification",
        name=f"{bloc.code} — {bloc.title}",
        description=(
            f"Bloc de compétences {bloc.code} « {bloc.title} » du titre "
            f"{_title_line(framework, rncp)}, certifié par un jury."
        ),
        criteria_narrative=narrative,
        alignments=alignments,
        achievement_type="Certificate",
        result_description=ResultDescription(id=f"{iri}#decision-du-jury"),
        human_code=bloc.code,
        framework_code=framework.code,
        in_language=framework.identity.language,
        version=framework.identity.version,
        bloc_code=bloc.code,
        rncp=bloc.rncp,
    )


def achievement_for_title(framework: Framework, base_url: str) -> Achievement:
    """Return the achievement of the whole title (every bloc validated, per the rules)."""
    rncp = _rncp(framework)
    iri = framework_iri(base_url, framework.code)
    title = _title_line(framework, rncp)
    narrative = "\n".join(
        [
            f"Titre {title} délivré par le jury de certification au candidat "
            "qui a validé chacun de ses blocs de compétences :",
            *(f"- {bloc.code} — {bloc.title}" for bloc in framework.blocs),
        ]
    )
    alignments = tuple(
        _item_alignment(framework, base_url, "bloc", Kind.BLOC, bloc.code, bloc.title)
        for bloc in framework.blocs
    )
    level = framework.identity.level
    return Achievement(
        id=f"{iri}#certification",
        name=framework.identity.title,
        description=(
            f"Titre {title}{f' de niveau {level}' if level else ''}, délivré par un jury de "
            "certification au vu de ses blocs de compétences."
        ),
        criteria_narrative=narrative,
        alignments=alignments,
        achievement_type="Certification",
        result_description=ResultDescription(id=f"{iri}#decision-du-jury"),
        human_code=rncp or framework.code,
        framework_code=framework.code,
        in_language=framework.identity.language,
        version=framework.identity.version,
        rncp=rncp,
        tags=(f"Niveau {level}",) if level else (),
    )
