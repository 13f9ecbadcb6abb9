from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator

import referentiel
from referentiel.exports.case import (
    EPOCH,
    case_schema,
    dump_case,
    export_case,
    load_case,
    load_case_text,
)
from referentiel.exports.yaml_file import to_document
from referentiel.identifiers import item_id
from referentiel.loader import FrameworkError, load_file, load_yaml_text
from referentiel.model import Framework

BASE = "https://jalon.example.org"
OTHER_BASE = "https://other.example.net/jalon/"
PACKAGED = Path(referentiel.__file__).parent / "data"
SPEC = Path(__file__).parents[3] / "shared" / "specs" / "case-v1p1-cfpackage.schema.json"
SHIPPED = PACKAGED / "community-manager-n6.yaml"

NO_EPREUVES = """\
format: jalon-referentiel/1
framework:
  code: sans-epreuve
  title: Référentiel sans épreuve
  version: '0.1'
  language: fr
  publisher: Jalon
scale:
  - {code: non_atteint, label: Non atteint, label_en: Not met, is_passing: false}
  - {code: atteint, label: Atteint, label_en: Met, is_passing: true}
blocs:
  - code: B1
    title: Premier bloc
    competencies:
      - code: C1.1
        statement: Faire une chose
        criteria:
          - {code: C1.1-1, text: La chose est faite.}
          - {code: C1.1-2, text: "La chose est bien faite & vite (< 1 h)."}
      - code: C1.2
        statement: Faire une autre chose
        criteria:
          - {code: C1.2-1, text: L'autre chose est faite.}
  - code: B2
    title: Second bloc
    competencies:
      - code: C2.1
        statement: Conclure
        criteria:
          - {code: C2.1-1, text: La conclusion tient.}
"""

MIN_CRITERIA = """\
format: jalon-referentiel/1
framework:
  code: au-moins
  title: Référentiel à seuil
  level: 5
  version: '3'
  language: fr
  publisher: Jalon
  description: ''
  updated: 2025-01-31
scale:
  - {code: non_atteint, label: Non atteint, label_en: Not met, is_passing: false}
  - {code: atteint, label: Atteint, label_en: Met, is_passing: true}
rules:
  competency: min_criteria
  min_criteria: 2
blocs:
  - code: B1
    title: Seul bloc
    competencies:
      - code: C1
        statement: Écrire
        criteria:
          - {code: K1, text: Le texte est clair.}
          - {code: K2, text: Le texte est juste.}
          - {code: K3, text: Le texte est court.}
      - code: C2
        statement: Relire
        criteria:
          - {code: K4, text: Les fautes sont relevées.}
          - {code: K5, text: Les corrections sont proposées.}
activities:
  - code: A1
    bloc: B1
    title: Rédaction
    tasks: [Rédiger un article, Le faire relire]
    competencies: [C2, C1]
  - code: A0
    bloc: B1
    title: Relecture
    competencies: [C2]
epreuves:
  - code: E-ecrit
    title: Épreuve écrite
    modality: etude_de_cas
    modality_label: Étude de cas
    description: Un texte à écrire puis à relire.
    competencies: [C2, C1]
  - code: E-oral
    title: Soutenance
    modality: projet_entretien
    modality_label: Projet et entretien
    description: Le candidat présente son texte.
    deliverables: [Le texte]
    interview: ["Pourquoi ce texte ?"]
    preparation_time: PT3H
    competencies: [C1]
"""

MULTI_LEVEL = """\
format: jalon-referentiel/1
framework:
  code: quatre-niveaux
  title: Référentiel à quatre niveaux
  version: '1'
  language: en-GB
  publisher: Jalon
  description: A scale with four levels.
scale:
  - {code: insuffisant, label: Insuffisant, label_en: Insufficient, is_passing: false}
  - {code: partiel, label: Partiel, label_en: Partial, is_passing: false}
  - {code: atteint, label: Atteint, label_en: Met, is_passing: true}
  - {code: depasse, label: Dépassé, label_en: Exceeded, is_passing: true}
blocs:
  - code: B1
    title: Seul bloc
    competencies:
      - code: C1
        statement: Mesurer
        criteria:
          - {code: C1-a, text: La mesure est faite.}
epreuves:
  - code: E1
    title: Mise en situation
    modality: mise_en_situation
    modality_label: Mise en situation professionnelle
    description: Mesurer devant le jury.
    competencies: [C1]
"""


@pytest.fixture(scope="module")
def shipped() -> Framework:
    return load_file(SHIPPED)


@pytest.fixture(scope="module")
def package(shipped: Framework) -> dict[str, Any]:
    return export_case(shipped, BASE)


@pytest.fixture(scope="module")
def validator() -> Draft201909Validator:
    """The official CASE 1.1 schema, with its formats really checked."""
    packaged = PACKAGED / "case-v1p1-cfpackage.schema.json"
    if SPEC.exists():
        assert SPEC.read_bytes() == packaged.read_bytes(), "the packaged schema is not the spec's"
    schema = json.loads((SPEC if SPEC.exists() else packaged).read_text(encoding="utf-8"))
    checker = Draft201909Validator.FORMAT_CHECKER
    # Without rfc3339-validator installed, jsonschema skips date-time silently.
    assert {"uuid", "date-time", "date"} <= set(checker.checkers), "install rfc3339-validator"
    return Draft201909Validator(schema, format_checker=checker)


def by_kind(package: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [i for i in package["CFItems"] if i["extensions"]["jalon"]["kind"] == kind]


def all_criteria(package: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for rubric in package["CFRubrics"] for c in rubric["CFRubricCriteria"]]


def walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (key, value) for every leaf of a JSON tree, key being the last mapping key."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)
    else:
        yield key, node


def problems_of(exc: pytest.ExceptionInfo[FrameworkError]) -> dict[tuple[Any, ...], str]:
    return {p.path: p.message for p in exc.value.problems}


# --- Export --------------------------------------------------------------------------------


def test_shipped_export_validates_against_the_case_schema(
    package: dict[str, Any], validator: Draft201909Validator
) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(package)]
    assert errors == []


def test_validator_rejects_what_the_formats_forbid(
    package: dict[str, Any], validator: Draft201909Validator
) -> None:
    broken = copy.deepcopy(package)
    broken["CFItems"][0]["lastChangeDateTime"] = "2026-11-29"
    broken["CFRubrics"][0]["identifier"] = "E1"
    paths = {tuple(e.absolute_path) for e in validator.iter_errors(broken)}
    assert paths == {("CFItems", 0, "lastChangeDateTime"), ("CFRubrics", 0, "identifier")}


def test_the_packaged_schema_is_the_one_load_case_uses() -> None:
    assert case_schema() == json.loads(
        (PACKAGED / "case-v1p1-cfpackage.schema.json").read_text(encoding="utf-8")
    )


def test_shipped_export_counts(package: dict[str, Any]) -> None:
    assert len(by_kind(package, "bloc")) == 4
    assert len(by_kind(package, "competency")) == 44
    assert len(by_kind(package, "activity")) == 20
    assert len(package["CFItems"]) == 68
    assert [r["extensions"]["jalon"]["code"] for r in package["CFRubrics"]] == [
        "E1", "E2", "E3", "E4", "E5"
    ]
    assert len(all_criteria(package)) == 135
    assert {c["extensions"]["jalon"]["code"] for c in all_criteria(package)} == {
        c.code for c in load_file(SHIPPED).criteria()
    }


def test_every_rubric_criterion_points_at_a_competency_of_the_package(
    package: dict[str, Any],
) -> None:
    competencies = {i["identifier"]: i for i in by_kind(package, "competency")}
    for criterion in all_criteria(package):
        link = criterion["CFItemURI"]
        assert link["identifier"] in competencies
        item = competencies[link["identifier"]]
        assert (link["uri"], link["title"]) == (item["uri"], item["humanCodingScheme"])
        assert criterion["category"] == item["humanCodingScheme"]
        assert [level["quality"] for level in criterion["CFRubricCriterionLevels"]] == [
            "Non atteint", "Atteint"
        ]


def test_the_document_carries_what_case_has_no_field_for(package: dict[str, Any]) -> None:
    document = package["CFDocument"]
    assert document["title"] == "Community Manager — Niveau 6"
    assert document["creator"] == document["publisher"] == "France Compétences"
    assert document["caseVersion"] == "1.1"
    assert document["lastChangeDateTime"] == "2026-11-29T00:00:00Z"
    jalon = document["extensions"]["jalon"]
    assert (jalon["format"], jalon["code"], jalon["level"]) == (
        "jalon-referentiel/1", "community-manager-n6", 6
    )
    assert [level["code"] for level in jalon["scale"]] == ["non_atteint", "atteint"]
    assert jalon["rules"]["competency"] == "all_criteria"


def test_associations_build_the_tree_in_file_order(
    package: dict[str, Any], shipped: Framework
) -> None:
    document_id = package["CFDocument"]["identifier"]
    ids = {i["identifier"]: i["humanCodingScheme"] for i in package["CFItems"]}
    children: dict[str, list[tuple[int, str]]] = {}
    related: dict[str, list[tuple[int, str]]] = {}
    for a in package["CFAssociations"]:
        origin = ids[a["originNodeURI"]["identifier"]]
        destination = a["destinationNodeURI"]["identifier"]
        target = children if a["associationType"] == "isChildOf" else related
        target.setdefault(ids.get(destination, destination), []).append(
            (a["sequenceNumber"], origin)
        )
    assert [code for _, code in sorted(children[document_id])] == ["B1", "B2", "B3", "B4"]
    b2 = [code for _, code in sorted(children["B2"]) if code.startswith("C")]
    assert b2 == [c.code for c in shipped.bloc("B2").competencies]
    assert sorted(code for _, code in related["C1.1"]) == ["A1.1"]
    association_ids = [a["identifier"] for a in package["CFAssociations"]]
    assert association_ids[0] == str(
        item_id("community-manager-n6", "association", "B1|isChildOf|community-manager-n6")
    )


def test_every_identifier_in_the_package_is_unique(package: dict[str, Any]) -> None:
    objects = [
        package["CFDocument"]["identifier"],
        *(i["identifier"] for i in package["CFItems"]),
        *(a["identifier"] for a in package["CFAssociations"]),
        *(r["identifier"] for r in package["CFRubrics"]),
        *(c["identifier"] for c in all_criteria(package)),
        *(lv["identifier"] for c in all_criteria(package) for lv in c["CFRubricCriterionLevels"]),
    ]
    assert len(objects) == 1 + 68 + len(package["CFAssociations"]) + 5 + 135 + 270
    assert len(set(objects)) == len(objects)


def test_identifiers_stay_unique_when_two_epreuves_judge_one_competency() -> None:
    package = export_case(load_yaml_text(MIN_CRITERIA), BASE)
    k1 = [c for c in all_criteria(package) if c["extensions"]["jalon"]["code"] == "K1"]
    assert len(k1) == 2
    assert k1[0]["uri"] == k1[1]["uri"]
    assert k1[0]["identifier"] != k1[1]["identifier"]
    levels = [lv["identifier"] for c in k1 for lv in c["CFRubricCriterionLevels"]]
    assert len(set(levels)) == 4


def test_export_is_byte_identical_across_runs(shipped: Framework) -> None:
    first = dump_case(shipped, BASE)
    assert dump_case(load_file(SHIPPED), BASE) == first
    assert json.loads(first) == export_case(shipped, BASE)
    assert "Compétence" in first  # ensure_ascii=False: French stays readable


def test_another_base_url_changes_only_the_uris(shipped: Framework) -> None:
    here = list(walk(export_case(shipped, BASE)))
    there = list(walk(export_case(shipped, OTHER_BASE)))
    assert len(here) == len(there)
    changed = {k for (k, a), (_, b) in zip(here, there, strict=True) if a != b}
    assert changed == {"uri"}
    for key, value in there:
        if key == "uri":
            assert value.startswith("https://other.example.net/jalon/referentiels/")


def test_uris_are_jalon_iris(package: dict[str, Any]) -> None:
    document = package["CFDocument"]
    assert document["uri"] == f"{BASE}/referentiels/community-manager-n6/"
    c11 = next(i for i in package["CFItems"] if i["humanCodingScheme"] == "C1.1")
    assert c11["uri"] == f"{BASE}/referentiels/community-manager-n6/competences/C1.1"
    first = package["CFRubrics"][0]["CFRubricCriteria"][0]
    assert first["uri"] == f"{BASE}/referentiels/community-manager-n6/criteres/C1.1-1"
    assert first["CFRubricCriterionLevels"][1]["uri"] == f"{first['uri']}#atteint"
    assert package["CFRubrics"][2]["uri"] == f"{BASE}/referentiels/community-manager-n6/epreuves/E3"


def test_a_framework_without_epreuves_keeps_its_criteria_in_one_rubric(
    validator: Draft201909Validator,
) -> None:
    framework = load_yaml_text(NO_EPREUVES)
    package = export_case(framework, BASE)
    assert validator.is_valid(package)
    [rubric] = package["CFRubrics"]
    assert rubric["extensions"]["jalon"] == {"kind": "criteria"}
    assert rubric["title"] == "Critères d'évaluation"
    assert [c["extensions"]["jalon"]["code"] for c in rubric["CFRubricCriteria"]] == [
        "C1.1-1", "C1.1-2", "C1.2-1", "C2.1-1"
    ]
    assert [c["position"] for c in rubric["CFRubricCriteria"]] == [1, 2, 3, 4]
    assert package["CFDocument"]["lastChangeDateTime"] == EPOCH
    assert "description" not in package["CFDocument"]


def test_small_frameworks_validate(validator: Draft201909Validator) -> None:
    for text in (NO_EPREUVES, MIN_CRITERIA, MULTI_LEVEL):
        assert validator.is_valid(export_case(load_yaml_text(text), BASE))


def test_levels_follow_the_scale() -> None:
    package = export_case(load_yaml_text(MULTI_LEVEL), BASE)
    [criterion] = all_criteria(package)
    levels = criterion["CFRubricCriterionLevels"]
    assert [(lv["quality"], lv["score"], lv["position"]) for lv in levels] == [
        ("Insuffisant", 0.0, 1), ("Partiel", 1.0, 2), ("Atteint", 2.0, 3), ("Dépassé", 3.0, 4)
    ]
    assert {lv["rubricCriterionId"] for lv in levels} == {criterion["identifier"]}


# --- Round trips ---------------------------------------------------------------------------


def test_shipped_round_trip_is_lossless(package: dict[str, Any], shipped: Framework) -> None:
    assert to_document(load_case(package, "cm.json")) == to_document(shipped)


@pytest.mark.parametrize("text", [NO_EPREUVES, MIN_CRITERIA, MULTI_LEVEL],
                         ids=["no-epreuves", "min-criteria", "multi-level"])
def test_small_round_trips_are_lossless(text: str) -> None:
    framework = load_yaml_text(text)
    back = load_case_text(dump_case(framework, BASE))
    assert to_document(back) == to_document(framework)
    assert back == framework


def test_load_file_reads_case_json(tmp_path: Path) -> None:
    framework = load_yaml_text(MIN_CRITERIA)
    path = tmp_path / "au-moins.json"
    path.write_text(dump_case(framework, BASE), encoding="utf-8")
    assert to_document(load_file(path)) == to_document(framework)


def test_round_trip_does_not_depend_on_the_order_of_the_package(
    package: dict[str, Any], shipped: Framework
) -> None:
    shuffled = copy.deepcopy(package)
    for key in ("CFItems", "CFAssociations"):
        shuffled[key].reverse()
    for rubric in shuffled["CFRubrics"]:
        rubric["CFRubricCriteria"].reverse()
    assert to_document(load_case(shuffled, "shuffled.json")) == to_document(shipped)


# --- Bad packages --------------------------------------------------------------------------


def test_invalid_json_names_its_line() -> None:
    text = '{\n  "CFDocument": {\n    "identifier": ,\n  }\n}\n'
    with pytest.raises(FrameworkError) as exc:
        load_case_text(text, source="bad.json")
    [problem] = exc.value.problems
    assert problem.line == 3
    assert "not valid JSON" in problem.message
    assert "bad.json:3" in str(exc.value)


def test_schema_violations_name_their_json_path(package: dict[str, Any]) -> None:
    broken = copy.deepcopy(package)
    broken["CFItems"][3]["identifier"] = "C1.3"
    del broken["CFAssociations"][5]["originNodeURI"]
    with pytest.raises(FrameworkError) as exc:
        load_case(broken, "broken.json")
    problems = problems_of(exc)
    assert set(problems) == {("CFItems", 3, "identifier"), ("CFAssociations", 5, "originNodeURI")}
    assert problems[("CFAssociations", 5, "originNodeURI")] == "is required"
    assert "CFItems[3].identifier" in str(exc.value)


def test_a_package_needs_a_document(package: dict[str, Any]) -> None:
    broken = {k: v for k, v in package.items() if k != "CFDocument"}
    with pytest.raises(FrameworkError) as exc:
        load_case(broken, "broken.json")
    assert problems_of(exc) == {("CFDocument",): "is required"}


def test_a_rubric_criterion_needs_its_competency(package: dict[str, Any]) -> None:
    broken = copy.deepcopy(package)
    del broken["CFRubrics"][1]["CFRubricCriteria"][2]["CFItemURI"]
    with pytest.raises(FrameworkError) as exc:
        load_case(broken, "broken.json")
    problems = problems_of(exc)
    assert list(problems) == [("CFRubrics", 1, "CFRubricCriteria", 2)]
    assert "criterion without competency" in problems[("CFRubrics", 1, "CFRubricCriteria", 2)]


def test_cfitemuri_must_point_at_a_competency_of_the_package(package: dict[str, Any]) -> None:
    broken = copy.deepcopy(package)
    unknown = str(uuid.uuid4())
    broken["CFRubrics"][0]["CFRubricCriteria"][0]["CFItemURI"]["identifier"] = unknown
    bloc_id = by_kind(broken, "bloc")[0]["identifier"]
    broken["CFRubrics"][4]["CFRubricCriteria"][1]["CFItemURI"]["identifier"] = bloc_id
    with pytest.raises(FrameworkError) as exc:
        load_case(broken, "broken.json")
    problems = problems_of(exc)
    assert set(problems) == {
        ("CFRubrics", 0, "CFRubricCriteria", 0, "CFItemURI"),
        ("CFRubrics", 4, "CFRubricCriteria", 1, "CFItemURI"),
    }
    assert unknown in problems[("CFRubrics", 0, "CFRubricCriteria", 0, "CFItemURI")]
    assert "bloc B1, which is not a competency" in problems[
        ("CFRubrics", 4, "CFRubricCriteria", 1, "CFItemURI")
    ]


def test_ischildof_must_point_at_a_node_of_the_package(package: dict[str, Any]) -> None:
    broken = copy.deepcopy(package)
    index, association = next(
        (i, a) for i, a in enumerate(broken["CFAssociations"])
        if a["originNodeURI"]["title"] == "C1.3" and a["associationType"] == "isChildOf"
    )
    association["destinationNodeURI"]["identifier"] = str(uuid.uuid4())
    with pytest.raises(FrameworkError) as exc:
        load_case(broken, "broken.json")
    problems = problems_of(exc)
    assert list(problems) == [("CFAssociations", index, "destinationNodeURI")]
    assert "isChildOf points at an unknown node" in problems[
        ("CFAssociations", index, "destinationNodeURI")
    ]


def test_a_competency_under_a_competency_is_refused(package: dict[str, Any]) -> None:
    broken = copy.deepcopy(package)
    c11 = next(i for i in broken["CFItems"] if i["humanCodingScheme"] == "C1.1")
    index, association = next(
        (i, a) for i, a in enumerate(broken["CFAssociations"])
        if a["originNodeURI"]["title"] == "C1.2" and a["associationType"] == "isChildOf"
    )
    association["destinationNodeURI"]["identifier"] = c11["identifier"]
    with pytest.raises(FrameworkError) as exc:
        load_case(broken, "broken.json")
    assert "must be the child of a bloc" in problems_of(exc)[("CFAssociations", index)]


def test_file_format_checks_are_located_in_the_package(package: dict[str, Any]) -> None:
    broken = copy.deepcopy(package)
    broken["CFRubrics"][0]["CFRubricCriteria"][0]["description"] = ""
    broken["CFRubrics"][2]["extensions"]["jalon"]["modality"] = "oral"
    broken["CFDocument"]["extensions"]["jalon"]["scale"][1]["is_passing"] = "yes"
    with pytest.raises(FrameworkError) as exc:
        load_case(broken, "broken.json")
    assert set(problems_of(exc)) == {
        ("CFRubrics", 0, "CFRubricCriteria", 0, "description"),
        ("CFRubrics", 2, "extensions", "jalon", "modality"),
        ("CFDocument", "extensions", "jalon", "scale", 1, "is_passing"),
    }


def test_reference_checks_are_located_in_the_package(package: dict[str, Any]) -> None:
    broken = copy.deepcopy(package)
    index = next(i for i, item in enumerate(broken["CFItems"])
                 if item["humanCodingScheme"] == "A2.1")
    broken["CFItems"][index]["humanCodingScheme"] = "C1.1"
    with pytest.raises(FrameworkError) as exc:
        load_case(broken, "broken.json")
    assert problems_of(exc) == {
        ("CFItems", index, "humanCodingScheme"): "duplicate code 'C1.1' (already used by a "
                                                  "competency)",
    }


# --- Packages written by other tools -------------------------------------------------------

NS = uuid.UUID("0b7f6a2e-2d3c-4a55-9a43-1d6e2c7b9f10")


def uid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


def link(name: str, title: str | None = None) -> dict[str, str]:
    return {"title": title or name, "identifier": uid(name), "uri": f"https://case.example/{name}"}


def foreign_package() -> dict[str, Any]:
    """A package another CASE tool could write: no Jalon extension anywhere."""
    stamp = "2024-05-06T07:08:09+00:00"

    def item(name: str, statement: str, code: str | None = None) -> dict[str, Any]:
        out = {"identifier": uid(name), "uri": f"https://case.example/{name}",
               "fullStatement": statement, "lastChangeDateTime": stamp}
        return out | ({"humanCodingScheme": code} if code else {})

    def child(origin: str, destination: str, sequence: int) -> dict[str, Any]:
        return {"identifier": uid(f"{origin}>{destination}"), "associationType": "isChildOf",
                "uri": f"https://case.example/a/{origin}", "sequenceNumber": sequence,
                "originNodeURI": link(origin), "destinationNodeURI": link(destination),
                "lastChangeDateTime": stamp}

    def criterion(name: str, competency: str, text: str, position: int) -> dict[str, Any]:
        return {"identifier": uid(name), "uri": f"https://case.example/{name}",
                "description": text, "CFItemURI": link(competency), "position": position,
                "lastChangeDateTime": stamp}

    return {
        "CFDocument": {"identifier": uid("doc"), "uri": "https://case.example/doc",
                       "creator": "Ministère", "title": "Gestion de Projet — Niveau 5",
                       "lastChangeDateTime": stamp},
        "CFItems": [
            item("plan", "Planifier un projet", "P"),
            item("plan-1", "Découper le projet en lots"),
            item("plan-2", "Estimer les charges", "P.EST"),
            item("lead", "Animer une équipe"),
            item("lead-1", "Conduire une réunion"),
            item("lead-1-a", "L'ordre du jour est envoyé la veille."),
            item("lead-1-b", "Un compte rendu suit la réunion."),
        ],
        "CFAssociations": [
            child("lead", "doc", 2), child("plan", "doc", 1),
            child("plan-2", "plan", 2), child("plan-1", "plan", 1),
            child("lead-1", "lead", 1),
            child("lead-1-a", "lead-1", 1), child("lead-1-b", "lead-1", 2),
            {"identifier": uid("x"), "associationType": "exactMatchOf",
             "uri": "https://case.example/x", "originNodeURI": link("plan-1"),
             "destinationNodeURI": link("elsewhere"), "lastChangeDateTime": stamp},
        ],
        "CFRubrics": [{
            "identifier": uid("rubric"), "uri": "https://case.example/rubric",
            "title": "Dossier de planification", "lastChangeDateTime": stamp,
            "CFRubricCriteria": [
                criterion("k3", "plan-2", "Les charges sont chiffrées.", 3),
                criterion("k1", "plan-1", "Les lots sont indépendants.", 1),
                criterion("k2", "plan-1", "Chaque lot a un livrable.", 2),
                criterion("k4", "lead-1", "La réunion tient dans son horaire.", 4),
            ],
        }],
    }


def test_a_foreign_package_imports_with_defaults(validator: Draft201909Validator) -> None:
    package = foreign_package()
    assert validator.is_valid(package)
    framework = load_case(package, "foreign.json")
    document = to_document(framework)
    assert document["framework"] == {
        "code": "gestion-de-projet-niveau-5", "title": "Gestion de Projet — Niveau 5",
        "level": None, "version": "1.0", "language": "fr", "publisher": "Ministère",
        "description": None, "updated": "2024-05-06",
    }
    assert [level["code"] for level in document["scale"]] == ["non_atteint", "atteint"]
    assert framework.passing_levels() == {"atteint"}
    assert [(b.code, [c.code for c in b.competencies]) for b in framework.blocs] == [
        ("P", ["C1.1", "P.EST"]), ("B2", ["C2.1"])
    ]
    assert [(k.code, k.text) for k in framework.competency("C1.1").criteria] == [
        ("C1.1-1", "Les lots sont indépendants."), ("C1.1-2", "Chaque lot a un livrable.")
    ]
    # Items below a competency are criteria too, after those of the rubrics.
    assert [(k.code, k.text[:12]) for k in framework.competency("C2.1").criteria] == [
        ("C2.1-1", "La réunion t"), ("C2.1-2", "L'ordre du j"), ("C2.1-3", "Un compte re")
    ]
    [epreuve] = framework.epreuves
    assert (epreuve.code, epreuve.title, epreuve.modality.value) == (
        "E1", "Dossier de planification", "etude_de_cas"
    )
    assert epreuve.description == epreuve.title
    assert epreuve.competencies == ("C1.1", "P.EST", "C2.1")


def test_a_foreign_competency_without_criteria_is_reported_where_it_is() -> None:
    package = foreign_package()
    package["CFRubrics"][0]["CFRubricCriteria"].pop(0)  # the only criterion of plan-2
    with pytest.raises(FrameworkError) as exc:
        load_case(package, "foreign.json")
    problems = problems_of(exc)
    assert problems[("CFItems", 2, "criteria")] == "a competency needs at least one criterion"


def test_a_foreign_item_outside_the_tree_is_reported() -> None:
    package = foreign_package()
    package["CFAssociations"] = [
        a for a in package["CFAssociations"] if a["originNodeURI"]["title"] != "lead"
    ]
    with pytest.raises(FrameworkError) as exc:
        load_case(package, "foreign.json")
    assert problems_of(exc) == {
        ("CFItems", 3): "is attached to nothing: it has no isChildOf",
        ("CFItems", 4): "does not reach the document through isChildOf",
        ("CFItems", 5): "does not reach the document through isChildOf",
        ("CFItems", 6): "does not reach the document through isChildOf",
    }


def test_an_updated_date_equal_to_the_fixed_stamp_survives() -> None:
    # 2000-01-01 is also the stamp of an undated framework: the extension tells them apart.
    dated = load_yaml_text(NO_EPREUVES.replace("publisher: Jalon\n",
                                               "publisher: Jalon\n  updated: 2000-01-01\n"))
    for framework in (dated, load_yaml_text(NO_EPREUVES)):
        package = export_case(framework, BASE)
        assert package["CFDocument"]["lastChangeDateTime"] == EPOCH
        assert load_case(package).identity.updated == framework.identity.updated
