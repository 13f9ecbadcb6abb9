"""CASE API benchmark: a CFPackage request against serving the exported file, in one run.

Installs the shipped référentiel in a fresh database, writes its CASE export to a file (what
``jalon referentiel export --format case`` gives) and mounts a route that sends that file,
through the same app and middleware. Then, through the Flask test client, it prints the
median time of:

- ``GET /ims/case/v1p1/CFPackages/{id}`` (index look-up: one narrow query; the package is
  built once per process and version, then serialised per request);
- the exported file, sent as is (the floor: no query, no serialisation);
- ``GET /healthz`` (one database round trip), for scale;
- a CFItem, the document list, and a conditional request answered 304 by ETag;

and the ratio of the CFPackage request to the file and to ``/healthz``. ``--database-url``
(or ``JALON_BENCH_DATABASE_URL``) picks the database; the default is a temporary SQLite
file. The database is emptied (downgraded and migrated) first: never point it at a database
you care about. Prints figures; asserts nothing but status codes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flask import send_file  # noqa: E402

from lti_tool import create_app, migrations  # noqa: E402
from lti_tool.config import Settings  # noqa: E402
from lti_tool.db import Database  # noqa: E402
from lti_tool.frameworks import bundled_frameworks, install_bundled  # noqa: E402
from referentiel.exports.case import dump_case  # noqa: E402
from referentiel.identifiers import framework_id, item_id  # noqa: E402

BASE_URL = "https://jalon.bench"
CASE = "/ims/case/v1p1"


def median_ms(call: Callable[[], Any], runs: int) -> float:
    """Return the median wall time of ``call`` in ms, after two warm-ups."""
    call()
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("JALON_BENCH_DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="jalon-bench-case-"))
    url = args.database_url or f"sqlite:///{workdir / 'jalon.db'}"
    migrations.downgrade(url, "base")
    migrations.upgrade(url)
    database = Database(url)
    settings = Settings(
        secret_key="bench-secret-key-0123456789",
        database_url=url,
        base_url=BASE_URL,
        instance_path=workdir,
    )
    app = create_app(settings, database=database)
    with database.session() as session:
        install_bundled(session)
    framework = bundled_frameworks()[0]
    exported = workdir / "case.json"
    exported.write_text(dump_case(framework, BASE_URL), encoding="utf-8")
    app.add_url_rule("/bench/case.json", "bench_case_file", lambda: send_file(exported, max_age=0))
    client = app.test_client()
    document = framework_id(framework.code)
    competency = item_id(framework.code, "competency", "C2.3")

    def get(path: str, status: int = 200, **headers: str) -> Callable[[], Any]:
        def call() -> None:
            response = client.get(path, headers=headers)
            assert response.status_code == status, (path, response.status_code)
            response.get_data()

        return call

    package_path = f"{CASE}/CFPackages/{document}"
    size = len(client.get(package_path).get_data())
    etag = client.get(package_path).headers["ETag"]
    print(f"database: {database.engine.dialect.name}; runs: {args.runs}")
    print(f"CFPackage: {size:,} bytes (exported file: {exported.stat().st_size:,} bytes)")
    # Interleaved rounds, so drift on a shared machine hits every measure alike.
    rounds: dict[str, list[float]] = {}
    measures = {
        "CFPackage": get(package_path),
        "exported file": get("/bench/case.json"),
        "/healthz": get("/healthz"),
        "CFItem": get(f"{CASE}/CFItems/{competency}"),
        "CFDocuments": get(f"{CASE}/CFDocuments"),
        "CFPackage, If-None-Match → 304": get(package_path, 304, **{"If-None-Match": etag}),
    }
    for _ in range(5):
        for name, call in measures.items():
            rounds.setdefault(name, []).append(median_ms(call, max(1, args.runs // 5)))
    medians = {name: statistics.median(values) for name, values in rounds.items()}
    for name, value in medians.items():
        print(f"{name:34} median {value:7.3f} ms")
    package, floor, health = medians["CFPackage"], medians["exported file"], medians["/healthz"]
    print(f"ratio CFPackage / exported file: {package / floor:.2f}")
    print(f"ratio CFPackage / /healthz:      {package / health:.2f}")


if __name__ == "__main__":
    main()
