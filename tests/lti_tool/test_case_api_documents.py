"""getAllCFDocuments' query parameters, several référentiels and versions, caching headers."""

from __future__ import annotations

import dataclasses

import pytest
from flask.testing import FlaskClient

from lti_tool.db import Database
from lti_tool.frameworks import bundled_frameworks, import_framework
from referentiel.identifiers import framework_id, item_id
from referentiel.model import Framework
from tests.lti_tool.test_case_api import CASE, CODE, DOCUMENT, _status_info

OTHER = "assistant-communication"
THIRD = "zz-redaction"


def _renamed(code: str, title: str, version: str = "1.0") -> Framework:
    framework = bundled_frameworks()[0]
    identity = dataclasses.replace(framework.identity, code=code, title=title, version=version)
    return dataclasses.replace(framework, identity=identity)


@pytest.fixture
def three(client: FlaskClient, clean_database: Database) -> FlaskClient:
    """Three référentiels: codes in the order OTHER, CODE, THIRD; titles A…, C…, R…."""
    with clean_database.session() as session:
        import_framework(session, _renamed(OTHER, "Assistant de communication"))
        import_framework(session, _renamed(THIRD, "Rédacteur web"))
    return client


def _ids(client: FlaskClient, query: str = "") -> list[str]:
    response = client.get(f"{CASE}/CFDocuments{query}")
    assert response.status_code == 200, response.json
    return [d.get("identifier", d.get("title")) for d in response.json["CFDocuments"]]


def test_every_current_document_in_code_order(three: FlaskClient) -> None:
    ids = [str(framework_id(code)) for code in (OTHER, CODE, THIRD)]
    response = three.get(f"{CASE}/CFDocuments")
    assert [d["identifier"] for d in response.json["CFDocuments"]] == ids
    assert response.headers["X-Total-Count"] == "3"


def test_limit_and_offset(three: FlaskClient) -> None:
    everything = _ids(three)
    assert _ids(three, "?limit=2") == everything[:2]
    assert _ids(three, "?limit=2&offset=2") == everything[2:]
    assert _ids(three, "?offset=3") == []
    # The total counts what matched, not the page.
    assert three.get(f"{CASE}/CFDocuments?limit=1").headers["X-Total-Count"] == "3"


def test_sort_order_filter_fields(three: FlaskClient) -> None:
    titles = "?fields=title&sort=title"
    assert _ids(three, titles) == [
        "Assistant de communication",
        "Community Manager — Niveau 6",
        "Rédacteur web",
    ]
    assert _ids(three, f"{titles}&orderBy=desc")[0] == "Rédacteur web"
    assert _ids(three, "?filter=title~'COMMUN'") == [str(framework_id(OTHER)), DOCUMENT]
    assert _ids(three, "?filter=title='Rédacteur web' OR title='Assistant de communication'") == [
        str(framework_id(OTHER)),
        str(framework_id(THIRD)),
    ]
    assert _ids(three, "?filter=title~'commun' AND language='en'") == []
    only = three.get(f"{CASE}/CFDocuments?fields=identifier,CFPackageURI&limit=1").json
    assert set(only["CFDocuments"][0]) == {"identifier", "CFPackageURI"}


@pytest.mark.parametrize(
    ("query", "name", "minor"),
    [
        ("limit=0", "limit", "invalid_selection_field"),
        ("limit=abc", "limit", "invalid_selection_field"),
        ("offset=-1", "offset", "invalid_selection_field"),
        ("sort=extensions", "sort", "invalid_sort_field"),
        ("sort=colour", "sort", "invalid_sort_field"),
        ("orderBy=up", "orderBy", "invalid_sort_field"),
        ("filter=title", "filter", "invalid_filter_field"),
        ("filter=colour='red'", "filter", "invalid_filter_field"),
        ("filter=title='a' AND title='b' OR title='c'", "filter", "invalid_filter_field"),
        ("fields=title,colour", "fields", "invalid_selection_field"),
        ("page=2", "page", "invalid_selection_field"),
    ],
)
def test_bad_parameter_is_400_naming_it(
    client: FlaskClient, query: str, name: str, minor: str
) -> None:
    body = _status_info(client.get(f"{CASE}/CFDocuments?{query}"), 400, minor, name)
    assert body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldName"] == name


def test_the_latest_version_answers_for_the_same_identifiers(
    client: FlaskClient, clean_database: Database
) -> None:
    first = client.get(f"{CASE}/CFPackages/{DOCUMENT}")
    framework = _renamed(CODE, "Community Manager — Niveau 6", version="2.0")
    corrected = dataclasses.replace(framework.blocs[0], title="Bloc 1 corrigé")
    with clean_database.session() as session:
        import_framework(
            session, dataclasses.replace(framework, blocs=(corrected, *framework.blocs[1:]))
        )
    # One document still: the old version is not a second framework for consumers.
    documents = client.get(f"{CASE}/CFDocuments").json["CFDocuments"]
    assert [(d["identifier"], d["version"]) for d in documents] == [(DOCUMENT, "2.0")]
    package = client.get(f"{CASE}/CFPackages/{DOCUMENT}").json
    assert package["CFDocument"]["version"] == "2.0"
    b1 = str(item_id(CODE, "bloc", "B1"))
    assert client.get(f"{CASE}/CFItems/{b1}").json["fullStatement"] == "Bloc 1 corrigé"
    assert client.get(f"{CASE}/CFDocuments/{DOCUMENT}").json["version"] == "2.0"
    # Every identifier of the old version answers from the new one.
    old = {item["identifier"] for item in first.json["CFItems"]}
    assert old == {item["identifier"] for item in package["CFItems"]}
    # A cache holding the old answer must ask again.
    assert client.get(f"{CASE}/CFPackages/{DOCUMENT}").headers["ETag"] != first.headers["ETag"]


def test_caching_and_cross_origin_headers(client: FlaskClient) -> None:
    response = client.get(f"{CASE}/CFPackages/{DOCUMENT}")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    again = client.get(f"{CASE}/CFPackages/{DOCUMENT}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    assert again.get_data() == b""
    # An error is not kept.
    missing = client.get(f"{CASE}/CFItems/00000000-0000-4000-8000-000000000000")
    assert missing.headers["Cache-Control"] == "no-store"


def test_no_referentiel_installed(client: FlaskClient, clean_database: Database) -> None:
    with clean_database.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM frameworks")
    assert client.get(f"{CASE}/CFDocuments").json == {"CFDocuments": []}
    _status_info(client.get(f"{CASE}/CFPackages/{DOCUMENT}"), 404, "unknownobject", "sourcedId")


def test_an_unknown_endpoint_answers_in_case_shape(client: FlaskClient) -> None:
    _status_info(client.get(f"{CASE}/CFThings/{DOCUMENT}"), 404, "unknownobject", "TargetEndSystem")


def test_the_reason_is_in_french_then_english(client: FlaskClient) -> None:
    french = client.get(f"{CASE}/CFDocuments?limit=0").json["imsx_description"]
    assert french == "limit doit être un entier ≥ 1."
    english = client.get(f"{CASE}/CFDocuments?limit=0&lang=en").json["imsx_description"]
    assert english == "limit must be a whole number ≥ 1."
