"""Item 6 (and the upload parts of items 5 and 12): uploads cannot fill the disk or break a page.

A learner launched from Moodle posts the real form (CSRF token, revision) with files; the
bytes go to the local storage of the test's instance folder, as in production.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.http import parse_options_header
from werkzeug.test import TestResponse, encode_multipart

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation.models import Submission, SubmissionFile, SubmissionVersion
from tests.fake_dns import loopback_key_sets
from tests.lti_tool.lti.conftest import browser, canvas, key_server, moodle, registered
from tests.lti_tool.lti.platforms import Browser, TestPlatform, landing_token

__all__ = ["browser", "canvas", "key_server", "moodle", "registered"]
MAX_BYTES = 4096
QUOTA = 10_000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, upload_max_bytes=MAX_BYTES, upload_quota_bytes=QUOTA)


def _launch(browser: Browser, platform: TestPlatform) -> str:
    return landing_token(browser.launch(platform, "learner"))


def _form(browser: Browser, token: str) -> dict[str, str]:
    html = browser.get("/epreuve", query_string={"lt": token}).get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|revision)" value="([^"]*)"', html))
    assert set(fields) == {"csrf_token", "revision"}, html
    return fields


def _post(
    browser: Browser,
    token: str,
    action: str = "brouillon",
    files: list[tuple[bytes, str]] | None = None,
    **data: Any,
) -> TestResponse:
    fields: dict[str, Any] = {**_form(browser, token), "text": "Mon travail", **data}
    fields["files"] = [FileStorage(io.BytesIO(content), name) for content, name in files or []]
    # Encoded in memory: the test client would spool a large body to a temporary file
    # that it never closes.
    boundary, body = encode_multipart(MultiDict(fields))
    return browser.post(
        f"/epreuve/{action}",
        query_string={"lt": token},
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _post_raw(browser: Browser, token: str, disposition: str, content: bytes) -> TestResponse:
    """Post the form with one file part whose Content-Disposition is written as given.

    Browsers and tools escape names in different ways (``\\"``, ``%22``, ``filename*``);
    the test client would write the header its own way.
    """
    boundary = uuid.uuid4().hex
    parts = [
        *(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in {**_form(browser, token), "text": "x"}.items()
        ),
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; {disposition}\r\n'
        "Content-Type: application/octet-stream\r\n\r\n",
    ]
    body = "".join(parts).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return browser.post(
        "/epreuve/brouillon",
        query_string={"lt": token},
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _stored(instance: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (instance / "uploads").rglob("*") if p.is_file()}


def _files(database: Database) -> list[SubmissionFile]:
    with database.session() as session:
        return list(session.scalars(sa.select(SubmissionFile).order_by(SubmissionFile.id)))


def _count(database: Database, model: Any) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _draft_file_ids(database: Database) -> list[int]:
    with database.session() as session:
        return list(
            session.scalars(
                sa.select(SubmissionFile.id)
                .join(SubmissionVersion)
                .where(SubmissionVersion.is_draft)
                .order_by(SubmissionFile.id)
            )
        )


# -- bytes of removed files ------------------------------------------------------------------


def test_item6_bytes_of_a_file_removed_from_a_draft_are_deleted(
    browser: Browser, moodle: TestPlatform, settings: Settings, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    _post(browser, token, files=[(b"a" * 3000, "a.pdf"), (b"b" * 2000, "b.pdf")])
    [a, b] = _files(clean_database)
    assert sum(map(len, _stored(settings.instance_path).values())) == 5000

    saved = _post(browser, token, remove=[str(a.id)])

    assert saved.status_code == 303
    assert _stored(settings.instance_path) == {b.storage_key: b"b" * 2000}
    assert [file.storage_key for file in _files(clean_database)] == [b.storage_key]


def test_item6_bytes_a_handed_in_version_refers_to_are_never_deleted(
    browser: Browser, moodle: TestPlatform, settings: Settings, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    assert _post(browser, token, "remise", files=[(b"v1", "v1.pdf")]).status_code == 303
    [handed_in] = _files(clean_database)
    # The next draft copies the row of version 1; removing it there keeps version 1's bytes.
    assert _post(browser, token, remove=[str(handed_in.id)]).status_code == 303
    _post(browser, token, files=[(b"v2", "v2.pdf")])
    [v2] = _draft_file_ids(clean_database)
    assert _post(browser, token, remove=[str(v2)]).status_code == 303

    assert _stored(settings.instance_path) == {handed_in.storage_key: b"v1"}
    download = browser.get(f"/epreuve/fichiers/{handed_in.id}", query_string={"lt": token})
    assert download.data == b"v1"


def test_item6_a_change_rolled_back_keeps_the_bytes_it_had_removed(
    browser: Browser, moodle: TestPlatform, settings: Settings, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    _post(browser, token, text="", files=[(b"seul", "seul.pdf")])
    [only] = _files(clean_database)

    # Removing the only content then handing in is refused after the draft was saved:
    # the request rolls back, so the file's row is back and so must be its bytes.
    refused = _post(browser, token, "remise", text="", remove=[str(only.id)])

    assert refused.status_code == 400
    assert "Il n’y a rien à remettre" in _text(refused)
    assert [file.id for file in _files(clean_database)] == [only.id]
    assert _stored(settings.instance_path) == {only.storage_key: b"seul"}


# -- sizes and quota -------------------------------------------------------------------------


@pytest.mark.parametrize("max_mb", [1, 20])
def test_item6_a_file_of_exactly_the_maximum_size_is_accepted(
    registered: Flask,
    moodle: TestPlatform,
    settings: Settings,
    clean_database: Database,
    max_mb: int,
) -> None:
    largest = max_mb * 1024 * 1024
    app = create_app(
        dataclasses.replace(settings, upload_max_bytes=largest, upload_quota_bytes=2 * largest),
        database=clean_database,
        jwks_fetcher=loopback_key_sets(),
    )
    browser = Browser(app.test_client())
    token = _launch(browser, moodle)
    # The longest text the form accepts, in 4-byte characters, travels with the file.
    text = "\U0001f600" * 100_000

    accepted = _post(browser, token, files=[(b"x" * largest, "max.pdf")], text=text)
    refused = _post(browser, token, files=[(b"x" * (largest + 1), "trop.pdf")], text=text)

    assert accepted.status_code == 303, _text(accepted)[:500]
    assert [file.size for file in _files(clean_database)] == [largest]
    assert refused.status_code == 400
    assert "« trop.pdf » dépasse la taille maximale d’un fichier" in _text(refused)


def test_item6_a_file_past_the_learners_quota_is_refused_and_nothing_is_written(
    browser: Browser, moodle: TestPlatform, settings: Settings, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    assert _post(browser, token, "remise", files=[(b"1" * 4000, "un.pdf")]).status_code == 303
    # A new draft shares version 1's file: its bytes count once.
    assert _post(browser, token, files=[(b"2" * 4000, "deux.pdf")]).status_code == 303
    before = _stored(settings.instance_path)
    revision = _form(browser, token)["revision"]
    page = _text(browser.get("/epreuve", query_string={"lt": token}))
    assert "toutes versions comprises, occupent 7,8 ko sur 9,8 ko." in page

    refused = _post(browser, token, files=[(b"3" * 2001, "trois.pdf")], text="changé")

    assert refused.status_code == 400
    assert "« trois.pdf » dépasse l’espace qui vous reste pour cette épreuve" in _text(refused)
    assert 'id="fichiers-erreur"' in _text(refused)
    assert _stored(settings.instance_path) == before
    assert _form(browser, token)["revision"] == revision
    assert len(_files(clean_database)) == 3  # version 1's row, and the draft's two rows
    # A file that fits exactly in what is left is accepted.
    assert _post(browser, token, files=[(b"3" * 2000, "trois.pdf")]).status_code == 303


def test_item6_removing_files_frees_the_quota(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = _launch(browser, moodle)
    _post(browser, token, files=[(b"1" * 4000, "un.pdf"), (b"2" * 4000, "deux.pdf")])
    [first, _second] = _files(clean_database)
    assert _post(browser, token, files=[(b"3" * 4000, "trois.pdf")]).status_code == 400

    replaced = _post(browser, token, remove=[str(first.id)], files=[(b"3" * 4000, "trois.pdf")])

    assert replaced.status_code == 303
    assert sorted(file.name for file in _files(clean_database)) == ["deux.pdf", "trois.pdf"]


def test_item6_the_quota_refusal_is_in_english_for_an_english_launch(
    browser: Browser, canvas: TestPlatform
) -> None:
    token = _launch(browser, canvas)
    _post(browser, token, files=[(b"1" * 4000, "one.pdf"), (b"2" * 4000, "two.pdf")])

    refused = _post(browser, token, files=[(b"3" * 4000, "three.pdf")])

    assert refused.status_code == 400
    assert "“three.pdf” is larger than the space you have left" in _text(refused)


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["README", "rapport.", ".pdf", "..."])
def test_item6_a_file_without_an_extension_is_refused_naming_it(
    browser: Browser,
    moodle: TestPlatform,
    settings: Settings,
    clean_database: Database,
    name: str,
) -> None:
    token = _launch(browser, moodle)

    refused = _post(browser, token, files=[(b"data", name)])

    shown = name.lstrip(".") or "fichier"
    assert refused.status_code == 400
    assert f"« {shown} » n’a pas d’extension" in _text(refused)
    assert _stored(settings.instance_path) == {}
    assert _count(clean_database, Submission) == 0


def _download_name(browser: Browser, token: str, file_id: int) -> tuple[str, str]:
    """Return the Content-Disposition of a download, and the name a browser saves it as."""
    download = browser.get(f"/epreuve/fichiers/{file_id}", query_string={"lt": token})
    assert download.status_code == 200
    header = download.headers["Content-Disposition"]
    kind, options = parse_options_header(header)  # filename* (RFC 5987) wins, as in browsers
    assert kind == "attachment"
    return header, options["filename"]


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        ('filename="devis \\"final\\".pdf"', 'devis "final".pdf'),
        # Browsers send a quote as %22 (HTML's form encoding), which Werkzeug decodes.
        ('filename="a;b=c, d%22e%25.pdf"', 'a;b=c, d"e%25.pdf'),
        ("filename*=UTF-8''%C3%A9t%C3%A9%20%22%E2%82%AC%22%3B.pdf", 'été "€";.pdf'),
        ("filename*=UTF-8''%F0%9F%98%80%20%5C%27x%27.pdf", "😀 \\'x'.pdf"),
    ],
)
def test_item6_any_name_gives_a_well_formed_content_disposition(
    browser: Browser, moodle: TestPlatform, clean_database: Database, disposition: str, name: str
) -> None:
    token = _launch(browser, moodle)
    assert _post_raw(browser, token, disposition, b"%PDF").status_code == 303
    [file] = _files(clean_database)
    shown = name.rsplit("\\", 1)[-1]  # a backslash is a Windows path separator: the last part
    assert file.name == shown

    header, saved_as = _download_name(browser, token, file.id)

    assert saved_as == shown
    fallback = re.fullmatch(r'attachment; filename="([^"\\]*)"; filename\*=.*', header)
    assert fallback is not None, header
    assert fallback[1].isascii()
    assert "%" not in fallback[1]


@pytest.mark.parametrize(
    ("disposition", "stored"),
    [
        ('filename="rap\x00port\x1b[31m.pdf"', "rapport[31m.pdf"),
        ("filename*=UTF-8''a%00b%0Ac%0Dd%09e.pdf", "abcde.pdf"),
        ("filename*=UTF-8''%E2%80%AEfdp.exe%EF%BF%BE.pdf", "fdp.exe.pdf"),
        ("filename*=UTF-8''%ED%A0%80x.pdf", None),
    ],
)
def test_item5_control_and_unstorable_characters_leave_file_names(
    browser: Browser,
    moodle: TestPlatform,
    clean_database: Database,
    disposition: str,
    stored: str | None,
) -> None:
    token = _launch(browser, moodle)

    saved = _post_raw(browser, token, disposition, b"%PDF")

    assert saved.status_code == 303, _text(saved)
    [file] = _files(clean_database)
    if stored is not None:
        assert file.name == stored
    assert all(ord(c) >= 0x20 and c.isprintable() for c in file.name)
    assert "\ufffe" not in file.name
    assert not re.search("[\ud800-\udfff]", file.name)
    _header, saved_as = _download_name(browser, token, file.id)
    assert saved_as == file.name
    assert file.name in _text(browser.get("/epreuve", query_string={"lt": token}))


def test_item5_a_name_of_control_characters_only_is_refused_not_a_500(
    browser: Browser, moodle: TestPlatform, clean_database: Database
) -> None:
    token = _launch(browser, moodle)

    refused = _post_raw(browser, token, "filename*=UTF-8''%00%01%7F", b"x")

    assert refused.status_code == 400
    assert "« fichier » n’a pas d’extension" in _text(refused)
    assert _count(clean_database, SubmissionFile) == 0


# -- permissions -----------------------------------------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_item12_uploads_are_readable_by_jalons_user_only(
    browser: Browser, moodle: TestPlatform, settings: Settings, umask_022: None
) -> None:
    uploads = settings.instance_path / "uploads"
    uploads.mkdir(mode=0o755)  # made by an older version, or by hand
    token = _launch(browser, moodle)

    _post(browser, token, files=[(b"%PDF", "a.pdf")])

    [path] = [p for p in uploads.rglob("*") if p.is_file()]
    assert stat.S_IMODE(uploads.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
