"""The browsable IRIs: HTML for people, CASE JSON for programs, stable addresses."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import BASE_URL

FW = "/referentiels/community-manager-n6"
JSON = {"Accept": "application/json"}


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_framework_page_lists_every_bloc_and_epreuve(client: FlaskClient) -> None:
    page = client.get(f"{FW}/").get_data(as_text=True)
    assert '<html lang="fr">' in page
    for code in ("B1", "B2", "B3", "B4", "E1", "E5", "C4.11", "A4.5"):
        assert f">{code}</span>" in page
    assert "Blocs de compétences" in page


def test_english_on_request(client: FlaskClient) -> None:
    page = client.get(f"{FW}/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Competency blocs" in page
    # The choice is remembered for the next page.
    assert '<html lang="en">' in client.get(f"{FW}/blocs/B1").get_data(as_text=True)


def test_browser_language_is_followed(client: FlaskClient) -> None:
    page = client.get(f"{FW}/", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in page


def test_competency_page_shows_its_criteria(client: FlaskClient) -> None:
    page = client.get(f"{FW}/competences/C1.1").get_data(as_text=True)
    assert "Définir une stratégie de veille" in page
    assert page.count('href="/referentiels/community-manager-n6/criteres/C1.1-') == 4
    assert "/epreuves/E1" in page


def test_epreuve_page_says_preparation_time(client: FlaskClient) -> None:
    page = client.get(f"{FW}/epreuves/E3").get_data(as_text=True)
    assert "<dd>4\xa0semaines</dd>" in page  # French puts a no-break space before the unit
    assert "Points abordés avec le jury" in page
    assert "<dd>4 weeks</dd>" in client.get(f"{FW}/epreuves/E3?lang=en").get_data(as_text=True)


def test_competency_as_case_item(client: FlaskClient) -> None:
    response = client.get(f"{FW}/competences/C2.3", headers=JSON)
    assert response.status_code == 200
    assert response.headers["Vary"] == "Accept"
    item = response.json
    assert item["humanCodingScheme"] == "C2.3"
    assert item["uri"] == f"{BASE_URL}{FW}/competences/C2.3"
    assert item["fullStatement"].startswith("Concevoir un planning éditorial")


def test_item_kinds_as_json(client: FlaskClient) -> None:
    assert client.get(f"{FW}/blocs/B2?format=json").json["humanCodingScheme"] == "B2"
    assert client.get(f"{FW}/activites/A3.3?format=json").json["humanCodingScheme"] == "A3.3"
    rubric = client.get(f"{FW}/epreuves/E5?format=json").json
    assert len(rubric["CFRubricCriteria"]) == 33
    criterion = client.get(f"{FW}/criteres/C4.7-2?format=json").json
    assert criterion["CFItemURI"]["uri"] == f"{BASE_URL}{FW}/competences/C4.7"
    package = client.get(f"{FW}/", headers=JSON).json
    assert package["CFDocument"]["title"] == "Community Manager — Niveau 6"


def test_iris_do_not_depend_on_the_host_used(client: FlaskClient) -> None:
    item = client.get(f"{FW}/competences/C1.1?format=json", base_url="http://other.host").json
    assert item["uri"].startswith(BASE_URL)


def test_unknown_items_are_accessible_404s(client: FlaskClient) -> None:
    response = client.get(f"{FW}/competences/C9.9")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "<h1>Page introuvable" in page
    assert "C9.9" in page
    assert client.get("/referentiels/nope/").status_code == 404
    missing = client.get("/referentiels/nope/", headers=JSON)
    assert missing.status_code == 404
    assert missing.json["error"]["status"] == 404


def test_markup_in_codes_is_escaped(client: FlaskClient) -> None:
    page = client.get(f"{FW}/competences/%3Cscript%3E").get_data(as_text=True)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get(f"{FW}/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_framework_list(client: FlaskClient) -> None:
    listing = client.get("/referentiels/", headers=JSON).json
    assert listing["frameworks"] == [
        {
            "code": "community-manager-n6",
            "version": "1.0",
            "title": "Community Manager — Niveau 6",
            "uri": f"{BASE_URL}/referentiels/community-manager-n6/",
        }
    ]
