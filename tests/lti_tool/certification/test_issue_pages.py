"""The public verification pages, the issuer's documents, and a learner's own badges."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lti_tool import csrf
from lti_tool.certification import issuance, keys, links
from lti_tool.certification.issuer import badge_image
from lti_tool.certification.models import CertificationSession, IssuedCredential
from lti_tool.certification.ob3.baking import bake_png
from lti_tool.certification.ob3.status_list import decode_list
from lti_tool.config import Settings
from lti_tool.db import Database
from tests.conftest import BASE_URL
from tests.database_rows import every_row
from tests.lti_tool.certification.issue_support import (
    NOW,
    signed_session,
)


def issue_session(database: Database, settings: Settings, **kwargs: Any) -> list[str]:
    """Write a signed session, issue its credentials, return their public ids."""
    with database.session() as db:
        made = signed_session(db, **kwargs)
        session = db.get(CertificationSession, made.session_id)
        assert session is not None
        return [c.public_id for c in issuance.issue_for_session(db, session, settings, now=NOW)]


def stored(database: Database, public: str) -> IssuedCredential:
    with database.session() as db:
        found = db.scalar(sa.select(IssuedCredential).where(IssuedCredential.public_id == public))
        assert found is not None
        db.expunge(found)
        return found


def form_token(app: Flask, lt: str | None = None) -> str:
    with app.test_request_context("/verifier" + (f"?lt={lt}" if lt else "")):
        app.preprocess_request()
        return csrf.generate()


# The public page -----------------------------------------------------------------------


def test_the_public_page_says_who_what_by_whom_and_valid(
    client: FlaskClient, clean_database: Database, settings: Settings
) -> None:
    first = issue_session(clean_database, settings, learners=1)[0]
    response = client.get(f"/verifier/{first}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<strong>Valide</strong>" in html
    assert "Organisme certificateur" in html  # the certifier of the settings
    assert "Critères d’obtention" in html
    assert "Vérification réussie" in html
    assert links.verification_url(BASE_URL, first) in html
    assert re.search(r"<a href=\"https://jalon\.test/referentiels/[^\"]+\"", html)
    english = client.get(f"/verifier/{first}?lang=en").get_data(as_text=True)
    assert "<strong>Valid</strong>" in english
    assert "Verification passed" in english


def test_a_revoked_credential_says_so_with_its_reason(
    client: FlaskClient, clean_database: Database, settings: Settings
) -> None:
    first = issue_session(clean_database, settings, learners=1)[0]
    with clean_database.session() as db:
        credential = db.scalar(
            sa.select(IssuedCredential).where(IssuedCredential.public_id == first)
        )
        assert credential is not None
        issuance.revoke(db, credential, reason="Fraude constatée", now=NOW)
    html = client.get(f"/verifier/{first}").get_data(as_text=True)
    assert "<strong>Révoqué</strong>" in html
    assert "Fraude constatée" in html
    assert "Vérification échouée" in html


@pytest.mark.parametrize(
    "path",
    ["/verifier/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12, "/verifier/nope", "/verifier/%00"],
)
def test_an_unknown_public_id_is_a_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404


def test_issuer_key_and_status_list_documents(
    client: FlaskClient, clean_database: Database, settings: Settings
) -> None:
    ids = issue_session(clean_database, settings, learners=1)
    credential = stored(clean_database, ids[0])
    issuer = client.get("/certification/emetteur")
    assert issuer.status_code == 200
    profile = issuer.get_json(force=True)
    assert profile["id"] == links.issuer_url(BASE_URL)
    key_url = links.key_url(BASE_URL, credential.key_id)
    assert profile["assertionMethod"] == [key_url]
    key = client.get(key_url.removeprefix(BASE_URL)).get_json(force=True)
    assert key["id"] == key_url
    assert key["type"] == "Multikey"
    assert key["publicKeyMultibase"] == credential.key_id
    assert client.get("/certification/cles/z6MkNothing").status_code == 404

    path = links.status_list_url(BASE_URL, credential.status_list_id).removeprefix(BASE_URL)
    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type in {"application/vc+ld+json", "application/json"}
    assert "max-age" in response.headers["Cache-Control"]
    listed = response.get_json(force=True)
    assert "BitstringStatusListCredential" in listed["type"]
    bits = decode_list(listed["credentialSubject"]["encodedList"])
    assert not bits[credential.status_index // 8] & (0x80 >> credential.status_index % 8)
    etag = response.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    # A revocation changes the list: a new document, a new ETag, the bit set.
    with clean_database.session() as db:
        found = db.get(IssuedCredential, credential.id)
        assert found is not None
        issuance.revoke(db, found, reason="Erreur", now=NOW)
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    bits = decode_list(changed.get_json(force=True)["credentialSubject"]["encodedList"])
    assert bits[credential.status_index // 8] & (0x80 >> credential.status_index % 8)
    assert client.get("/certification/statuts/999").status_code == 404


# Verifying a file --------------------------------------------------------------------------


def multipart(fields: dict[str, Any]) -> tuple[bytes, str]:
    """Encode a form in memory (werkzeug's own builder spools a large one to a file)."""
    boundary = "jalon-test-boundary"
    parts = []
    for name, value in fields.items():
        if isinstance(value, tuple):
            content, filename = value
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'
            parts.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() + content + b"\r\n")
        else:
            head = f'Content-Disposition: form-data; name="{name}"'
            parts.append(f"--{boundary}\r\n{head}\r\n\r\n{value}\r\n".encode())
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_file(client: FlaskClient, app: Flask, **data: Any) -> tuple[int, str]:
    body, content_type = multipart({"csrf_token": form_token(app), **data})
    response = client.post("/verifier", data=body, content_type=content_type)
    return response.status_code, response.get_data(as_text=True)


def test_a_pasted_credential_verifies_and_a_tampered_one_fails_with_the_reason(
    client: FlaskClient, app: Flask, clean_database: Database, settings: Settings
) -> None:
    credential = stored(clean_database, issue_session(clean_database, settings, learners=1)[0])
    status, html = post_file(client, app, document=credential.document)
    assert status == 200
    assert "Vérification réussie" in html
    tampered = json.loads(credential.document)
    tampered["credentialSubject"]["achievement"]["name"] = "Master de physique"
    status, html = post_file(client, app, document=json.dumps(tampered))
    assert status == 200
    assert "Vérification échouée" in html
    assert "the signature does not match the document" in html


@pytest.mark.parametrize(
    ("list_suffix", "index"), [("²", "0"), ("1", "²"), ("9" * 40, "0"), ("1", "9" * 40)]
)
def test_a_status_entry_no_list_holds_is_unknown_not_an_error(
    client: FlaskClient,
    app: Flask,
    clean_database: Database,
    settings: Settings,
    list_suffix: str,
    index: str,
) -> None:
    credential = stored(clean_database, issue_session(clean_database, settings, learners=1)[0])
    forged = json.loads(credential.document)
    url = forged["credentialStatus"]["statusListCredential"]
    forged["credentialStatus"]["statusListCredential"] = url.rsplit("/", 1)[0] + "/" + list_suffix
    forged["credentialStatus"]["statusListIndex"] = index
    status, html = post_file(client, app, document=json.dumps(forged))
    assert status == 200
    assert "Vérification échouée" in html


def test_a_baked_png_verifies(
    client: FlaskClient, app: Flask, clean_database: Database, settings: Settings
) -> None:
    credential = stored(clean_database, issue_session(clean_database, settings, learners=1)[0])
    with clean_database.session() as db:
        png = bake_png(badge_image(db, credential, settings), credential.document)
    status, html = post_file(client, app, fichier=(png, "badge.png"))
    assert status == 200, html
    assert "Vérification réussie" in html


@pytest.mark.parametrize(
    ("data", "status", "field", "message"),
    [
        ({"document": "pas du json"}, 400, "JSON du badge", "ni le JSON d’un badge"),
        ({"document": ""}, 400, "JSON du badge", "collez le JSON"),
        ({"fichier": (b"GIF89a...", "x.gif")}, 400, "Fichier", "ni le JSON"),
        ({"fichier": (b"\x89PNG\r\n\x1a\nnope", "x.png")}, 400, "Fichier", "PNG"),
        ({"fichier": (b"{" * (1024 * 1024 + 10), "x.json")}, 413, "Fichier", "1 Mio"),
    ],
)
def test_bad_files_are_refused_with_the_field_named(
    client: FlaskClient,
    app: Flask,
    clean_database: Database,
    data: dict[str, Any],
    status: int,
    field: str,
    message: str,
) -> None:
    before = every_row(clean_database)
    code, html = post_file(client, app, **data)
    assert code == status
    assert re.search(rf"<li><a href=\"#champ-\w+\">{field} : [^<]*{message}", html), html
    after = every_row(clean_database)
    # Only the per-address verification counter (lti_cache) may have changed.
    assert {k: v for k, v in after.items() if k != "lti_cache"} == {
        k: v for k, v in before.items() if k != "lti_cache"
    }


def test_verifications_are_limited_per_address(client: FlaskClient, app: Flask) -> None:
    for _ in range(30):
        assert post_file(client, app, document="")[0] == 400
    status, html = post_file(client, app, document="")
    assert status == 429
    assert "Trop de vérifications depuis votre adresse" in html
    assert client.get("/verifier").status_code == 200  # the form itself stays open


def test_the_verify_form_needs_its_csrf_token(client: FlaskClient) -> None:
    response = client.post("/verifier", data={"document": "{}"})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)


def test_keys_rotate_and_both_keys_are_published(
    client: FlaskClient, clean_database: Database, settings: Settings
) -> None:
    issue_session(clean_database, settings, learners=1)
    with clean_database.session() as db:
        old = keys.current_key(db).key_id
        new = keys.rotate_key(db, NOW).key_id
    profile = client.get("/certification/emetteur").get_json(force=True)
    assert profile["assertionMethod"] == [
        links.key_url(BASE_URL, new),
        links.key_url(BASE_URL, old),
    ]
    for key_id in (old, new):
        assert client.get(f"/certification/cles/{key_id}").status_code == 200
