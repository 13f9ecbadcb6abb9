"""The restore drill of docs/deploy.md, performed: back up, lose the server, restore, serve.

The backup is what the guide says to take: ``pg_dump --format=custom`` of the database and
a tar of the instance folder's ``uploads``. The restore goes into a new database and a new
instance folder, with an empty Redis (it holds sessions and used nonces, nothing to keep),
and the same ``JALON_SECRET_KEY`` from ``/etc/jalon/jalon.env``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import redis
import sqlalchemy as sa

from tests.deploy.conftest import first_port, missing, new_database
from tests.deploy.lms import HttpsBrowser, TestLms, hidden_fields
from tests.deploy.stack import Stack

LEARNER = "2001"  # not the other tests' learner, whose work is evaluated there
REPORT = b"%PDF-1.4\n" + b"rapport de stage " * 4000


def _libpq(url: str) -> str:
    """Return the SQLAlchemy URL as the PostgreSQL tools take it."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(False)


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command[0]}: {done.stderr}"


def _hand_in(browser: HttpsBrowser, lms: TestLms) -> str:
    learner = browser.launch(lms, "learner", sub=LEARNER)
    page = browser.get(f"/epreuve?lt={learner.token}")
    handed = browser.post(
        f"/epreuve/remise?lt={learner.token}",
        data={**hidden_fields(page.text), "text": "Avant la panne", "links": ""},
        files={"files": ("stage.pdf", REPORT, "application/pdf")},
    )
    assert handed.status_code == 303, handed.text
    return browser.get(f"/epreuve?lt={learner.token}").text


def _what_a_learner_sees(browser: HttpsBrowser, lms: TestLms) -> tuple[str, bytes]:
    """Launch again; return the épreuve page's versions and the handed-in file's bytes."""
    learner = browser.launch(lms, "learner", sub=LEARNER)
    page = browser.get(f"/epreuve?lt={learner.token}").text
    link = re.search(r'href="(/epreuve/fichiers/\d+[^"]*)"', page)
    assert link, page
    versions = re.findall(r"Version \d+", page)
    return " ".join(versions), browser.get(link.group(1).replace("&amp;", "&")).content


def test_a_dump_and_the_uploads_restored_elsewhere_serve_the_same_work(
    tmp_path: Path, stack: Stack, redis_url: str, lms: TestLms
) -> None:
    for tool in ("pg_dump", "pg_restore", "tar"):
        if shutil.which(tool) is None:
            missing(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    restored = sa.engine.make_url(stack.database_url)
    restored = restored.set(database=f"{restored.database}_restored")
    new_database(restored.render_as_string(hide_password=False))
    try:
        _drill(tmp_path, stack, restored.render_as_string(hide_password=False), redis_url, lms)
    finally:
        _drop(restored)


def _drop(url: sa.URL) -> None:
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def _registrations(url: str) -> list[tuple[str, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT issuer, client_id, status, key_set_url FROM platforms ORDER BY id")
        )
        registrations = [tuple(row) for row in rows]
    engine.dispose()
    return registrations


def _drill(tmp_path: Path, before: Stack, restored: str, redis_url: str, lms: TestLms) -> None:
    browser = HttpsBrowser(before.base_url, before.ca_file)
    assert "Version" in _hand_in(browser, lms)
    seen_before = _what_a_learner_sees(browser, lms)
    jwks_before = browser.get("/lti/jwks").json()
    # The backup, as docs/deploy.md takes it, while the app serves.
    dump = tmp_path / "jalon.dump"
    _run("pg_dump", "--format=custom", f"--file={dump}", _libpq(before.database_url))
    uploads = tmp_path / "uploads.tar.gz"
    _run("tar", "-C", str(before.instance_path), "-czf", str(uploads), "uploads")

    # A new server: the dump into a new database, the uploads, an empty Redis, the same
    # secret key; `jalon db upgrade` (the stack's first step) finds nothing to do.
    _run("pg_restore", "--no-owner", f"--dbname={_libpq(restored)}", str(dump))
    folder = tmp_path / "after"
    (folder / "instance").mkdir(parents=True, mode=0o700)
    _run("tar", "-C", str(folder / "instance"), "-xzf", str(uploads))
    cache = redis.Redis.from_url(redis_url)
    for key in cache.scan_iter("jalon:*"):
        cache.delete(key)
    cache.close()
    ports = first_port(10)
    with Stack(
        folder,
        database_url=restored,
        redis_url=redis_url,
        instances=1,
        first_port=ports,
        secret_key=before.secret_key,
    ) as after:
        browser = HttpsBrowser(after.base_url, after.ca_file)
        seen_after = _what_a_learner_sees(browser, lms)
        assert seen_after == seen_before
        assert seen_after[1] == REPORT
        # The same tool keys (platforms keep verifying) and the same registrations.
        assert browser.get("/lti/jwks").json() == jwks_before
    assert _registrations(restored) == _registrations(before.database_url)
