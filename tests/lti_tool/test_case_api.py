"""The CASE 1.1 provider API: the binding's endpoints, answers and errors over the installed
référentiels, with the identifiers and URIs of the CASE export."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft201909Validator

from lti_tool.frameworks import bundled_frameworks
from referentiel.exports.case import case_schema, export_case
from referentiel.identifiers import framework_id, item_id
from referentiel.iris import framework_iri
from referentiel.model import Framework
from tests.conftest import BASE_URL, SHARED

CASE = "/ims/case/v1p1"
CODE = "community-manager-n6"
DOCUMENT = str(framework_id(CODE))
B1 = str(item_id(CODE, "bloc", "B1"))
C23 = str(item_id(CODE, "competency", "C2.3"))
C23_IN_B2 = str(item_id(CODE, "association", "C2.3|isChildOf|B2"))
E1 = str(item_id(CODE, "epreuve", "E1"))
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _schema(definition: str, extra: dict[str, Any] | None = None) -> Draft201909Validator:
    """Validate one ``$defs`` entry of the official CFPackage schema, maybe with a property more.

    The standalone answers (CFItemDType, CFDocumentDType, CFAssociationDType) are the package
    forms plus the link to their document or package, as the binding defines them.
    """
    schema = copy.deepcopy(case_schema())
    target = schema["$defs"][definition]
    for name, (spec, required) in (extra or {}).items():
        target["properties"][name] = spec
        if required:
            target["required"] = [*target["required"], name]
    schema.pop("required")
    schema.pop("properties")
    schema.pop("additionalProperties")
    schema["$ref"] = f"#/$defs/{definition}"
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


LINK = {"$ref": "#/$defs/LinkURI"}
ITEM = _schema("CFPckgItem", {"CFDocumentURI": (LINK, True)})
DOCUMENT_SCHEMA = _schema("CFPckgDocument", {"CFPackageURI": (LINK, True)})
ASSOCIATION = _schema("CFPckgAssociation", {"CFDocumentURI": (LINK, False)})
RUBRIC = _schema("CFRubric")
PACKAGE = Draft201909Validator(
    json.loads((SHARED / "specs" / "case-v1p1-cfpackage.schema.json").read_text("utf-8")),
    format_checker=Draft201909Validator.FORMAT_CHECKER,
)


def _shipped() -> Framework:
    return bundled_frameworks()[0]


def _status_info(response: Any, status: int, minor: str, name: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.json
    assert body["imsx_codeMajor"] == "failure"
    assert body["imsx_severity"] == "error"
    assert body["imsx_description"]
    assert body["imsx_codeMinor"] == {
        "imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": name, "imsx_codeMinorFieldValue": minor}
        ]
    }
    return body


# -- the shipped référentiel ---------------------------------------------------------------


def test_package_is_the_case_export_and_valid(client: FlaskClient) -> None:
    response = client.get(f"{CASE}/CFPackages/{DOCUMENT}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    package = response.json
    assert not list(PACKAGE.iter_errors(package))
    # One framework for a consumer: the very package `jalon referentiel export` writes.
    assert package == export_case(_shipped(), BASE_URL)
    kinds = [item["extensions"]["jalon"]["kind"] for item in package["CFItems"]]
    assert kinds.count("bloc") == 4
    assert kinds.count("competency") == 44
    assert len(package["CFRubrics"]) == 5


def test_document_list_and_document(client: FlaskClient) -> None:
    documents = client.get(f"{CASE}/CFDocuments").json["CFDocuments"]
    assert [d["identifier"] for d in documents] == [DOCUMENT]
    document = client.get(f"{CASE}/CFDocuments/{DOCUMENT}").json
    assert document == documents[0]
    assert not list(DOCUMENT_SCHEMA.iter_errors(document))
    assert document["uri"] == framework_iri(BASE_URL, CODE)
    assert document["CFPackageURI"] == {
        "title": "Community Manager — Niveau 6",
        "identifier": DOCUMENT,
        "uri": f"{BASE_URL}{CASE}/CFPackages/{DOCUMENT}",
    }
    # The package's address is served: a consumer follows it.
    assert client.get(document["CFPackageURI"]["uri"].removeprefix(BASE_URL)).status_code == 200


@pytest.mark.parametrize(
    ("identifier", "code", "kind"), [(B1, "B1", "blocs"), (C23, "C2.3", "competences")]
)
def test_item_bloc_and_competency(
    client: FlaskClient, identifier: str, code: str, kind: str
) -> None:
    item = client.get(f"{CASE}/CFItems/{identifier}").json
    assert not list(ITEM.iter_errors(item))
    assert item["humanCodingScheme"] == code
    assert item["uri"] == f"{BASE_URL}/referentiels/{CODE}/{kind}/{code}"
    assert item["CFDocumentURI"]["identifier"] == DOCUMENT
    # The same object the browsable IRI serves as JSON, plus the link to its document.
    iri = client.get(item["uri"].removeprefix(BASE_URL), headers={"Accept": "application/json"})
    assert {**iri.json, "CFDocumentURI": item["CFDocumentURI"]} == item


def test_association(client: FlaskClient) -> None:
    association = client.get(f"{CASE}/CFAssociations/{C23_IN_B2}").json
    assert not list(ASSOCIATION.iter_errors(association))
    assert association["associationType"] == "isChildOf"
    assert association["originNodeURI"]["identifier"] == C23
    assert association["destinationNodeURI"]["identifier"] == str(item_id(CODE, "bloc", "B2"))
    assert association["CFDocumentURI"]["identifier"] == DOCUMENT


def test_item_associations_are_every_end_of_the_item(client: FlaskClient) -> None:
    answer = client.get(f"{CASE}/CFItemAssociations/{C23}").json
    assert set(answer) == {"CFItem", "CFAssociations"}
    assert not list(ITEM.iter_errors(answer["CFItem"]))
    package = export_case(_shipped(), BASE_URL)
    expected = [
        a
        for a in package["CFAssociations"]
        if C23 in (a["originNodeURI"]["identifier"], a["destinationNodeURI"]["identifier"])
    ]
    assert answer["CFAssociations"] == expected
    # Its bloc, and the activities that develop it.
    types = sorted(a["associationType"] for a in expected)
    assert types[0] == "isChildOf"
    assert "isRelatedTo" in types
    for association in answer["CFAssociations"]:
        assert not list(
            PACKAGE.iter_errors(
                {"CFDocument": package["CFDocument"], "CFAssociations": [association]}
            )
        )
    bloc = client.get(f"{CASE}/CFItemAssociations/{B1}").json["CFAssociations"]
    # B1 is a child of the document, the parent of C1.1–C1.11 and of activities A1.x.
    assert sum(a["destinationNodeURI"]["identifier"] == B1 for a in bloc) == len(bloc) - 1


def test_rubric_is_an_epreuve(client: FlaskClient) -> None:
    rubric = client.get(f"{CASE}/CFRubrics/{E1}").json
    assert not list(RUBRIC.iter_errors(rubric))
    assert rubric["extensions"]["jalon"]["code"] == "E1"
    criteria_of = {c["CFItemURI"]["title"] for c in rubric["CFRubricCriteria"]}
    assert criteria_of == {"C1.1", "C1.2", "C1.3", "C1.4", "C1.5"}


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "CFPackages",
        "CFDocuments",
        "CFItems",
        "CFItemAssociations",
        "CFAssociations",
        "CFRubrics",
        "CFConcepts",
        "CFSubjects",
        "CFLicenses",
        "CFItemTypes",
        "CFAssociationGroupings",
    ],
)
def test_unknown_identifier_is_404_unknownobject(client: FlaskClient, path: str) -> None:
    _status_info(client.get(f"{CASE}/{path}/{UNKNOWN}"), 404, "unknownobject", "sourcedId")


def test_an_identifier_of_another_kind_is_unknown(client: FlaskClient) -> None:
    # A competency is no document, an association no item: each endpoint reads its own kind.
    _status_info(client.get(f"{CASE}/CFPackages/{C23}"), 404, "unknownobject", "sourcedId")
    _status_info(client.get(f"{CASE}/CFItems/{C23_IN_B2}"), 404, "unknownobject", "sourcedId")
    _status_info(client.get(f"{CASE}/CFItems/{DOCUMENT}"), 404, "unknownobject", "sourcedId")


@pytest.mark.parametrize("sourced_id", ["B1", "not-a-uuid", "406055d0-3e4d-552a-87d1"])
def test_malformed_identifier_is_404_invalid_uuid(client: FlaskClient, sourced_id: str) -> None:
    body = _status_info(
        client.get(f"{CASE}/CFItems/{sourced_id}"), 404, "invalid_uuid", "sourcedId"
    )
    assert "UUID" in body["imsx_description"]


def test_identifiers_are_read_whatever_their_case(client: FlaskClient) -> None:
    assert client.get(f"{CASE}/CFItems/{C23.upper()}").json["identifier"] == C23


def test_a_method_other_than_get_is_refused_in_case_shape(client: FlaskClient) -> None:
    response = client.post(f"{CASE}/CFItems/{C23}")
    _status_info(response, 405, "unsupported", "TargetEndSystem")
    assert response.headers["Allow"]
