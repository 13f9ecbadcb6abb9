"""Issuing and verifying Open Badges 3.0 credentials: a 500-candidate session, one check.

Fills a fresh database with a signed jury session of N candidates, each validated on the
référentiel's 4 blocs and its title, then times:

* ``issue_for_session`` (build, sign with ``eddsa-rdfc-2022``, store, status indexes; commit
  included) for the whole session, median of R rounds (the credentials and status lists
  are deleted between rounds), against two baselines measured in the same run: a bare
  Ed25519 signature of the same stored bytes (the floor), and ob3's ``sign`` alone on the
  same unsigned documents (what the database and the building add);
* ``verify_document`` of one stored credential (schema, key, proof, dates, status bit read
  from the database), median of V, against a bare Ed25519 verification of its bytes.

Prints figures; asserts nothing. SQLite by default; ``--database-url`` (or
``JALON_BENCH_DATABASE_URL``) for PostgreSQL: its certification tables are emptied, use a
scratch database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_tool import migrations
from lti_tool.certification import issuance, keys
from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    IssuedCredential,
    JuryDecision,
    SessionStatus,
    StatusList,
)
from lti_tool.certification.ob3 import sign
from lti_tool.certification.verification import verify_document
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.frameworks import install_bundled
from lti_tool.models import LtiUser

FRAMEWORK = "community-manager-n6"
CODES = ("B1", "B2", "B3", "B4", FRAMEWORK)
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
BASE_URL = "https://jalon.example.edu"
BENCH_ISSUER = "https://lms.bench"  # the bench's learners, deleted with its rows


def _empty(database: Database) -> None:
    with database.engine.begin() as connection:
        for model in (IssuedCredential, StatusList, JuryDecision, Candidate, CertificationSession):
            connection.execute(sa.delete(model))
        connection.execute(sa.delete(LtiUser).where(LtiUser.issuer == BENCH_ISSUER))


def _fill(database: Database, candidates: int) -> int:
    """Write a signed session: ``candidates`` learners, 5 validated decisions each."""
    _empty(database)
    with database.session() as db:
        install_bundled(db)
        session = CertificationSession(
            framework_code=FRAMEWORK,
            framework_version="1.0",
            title="Bench",
            jury_date=NOW.date(),
            status=SessionStatus.SIGNED,
            signed_at=NOW,
            signed_by="Bench",
        )
        db.add(session)
        db.flush()
        run = NOW.strftime("%H%M%S") + str(time.time_ns())
        users = [
            LtiUser(issuer=BENCH_ISSUER, sub=f"{run}-{n}", email=f"l{n}@bench.example")
            for n in range(candidates)
        ]
        db.add_all(users)
        db.flush()
        rows = [
            Candidate(session_id=session.id, learner_id=user.id, number=n + 1)
            for n, user in enumerate(users)
        ]
        db.add_all(rows)
        db.flush()
        db.add_all(
            JuryDecision(
                candidate_id=candidate.id,
                scope=DecisionScope.TITLE if code == FRAMEWORK else DecisionScope.BLOC,
                code=code,
                is_validated=True,
                decided_by="Bench",
                decided_at=NOW,
                is_final=True,
            )
            for candidate in rows
            for code in CODES
        )
        keys.current_key(db)
        return session.id


def _clear_issued(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(sa.delete(IssuedCredential))
        connection.execute(sa.delete(StatusList))


def _issue(database: Database, settings: Settings, session_id: int) -> tuple[float, float, int]:
    """Return the wall and CPU seconds of issuing a session's credentials, and their number."""
    started, cpu = time.perf_counter(), time.process_time()
    with database.session() as db:
        session = db.get(CertificationSession, session_id)
        assert session is not None
        issued = issuance.issue_for_session(db, session, settings, now=NOW)
    return time.perf_counter() - started, time.process_time() - cpu, len(issued)


def _stored(database: Database) -> list[str]:
    with database.session() as db:
        return list(db.scalars(sa.select(IssuedCredential.document)))


def _bare_sign(documents: list[str]) -> float:
    key = Ed25519PrivateKey.generate()
    data = [d.encode() for d in documents]
    started = time.perf_counter()
    for item in data:
        key.sign(item)
    return time.perf_counter() - started


def _ob3_sign(documents: list[str]) -> tuple[float, float]:
    key = Ed25519PrivateKey.generate()
    unsigned = []
    for text in documents:
        document = json.loads(text)
        document.pop("proof")
        unsigned.append(document)
    started, cpu = time.perf_counter(), time.process_time()
    for document in unsigned:
        sign(document, key, verification_method=f"{BASE_URL}/k", created=NOW)
    return time.perf_counter() - started, time.process_time() - cpu


def _verify(database: Database, document: str, count: int) -> tuple[float, float, float, bool]:
    parsed = json.loads(document)
    times, cpu_times, valid = [], [], True
    with database.session() as db:
        for _ in range(count):
            started, cpu = time.perf_counter(), time.process_time()
            valid &= verify_document(db, json.loads(document), BASE_URL, NOW).is_valid
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu)
    key = Ed25519PrivateKey.generate()
    data = json.dumps(parsed).encode()
    signature = key.sign(data)
    public, bare = key.public_key(), []
    for _ in range(count):
        started = time.perf_counter()
        public.verify(signature, data)
        bare.append(time.perf_counter() - started)
    return statistics.median(times), statistics.median(cpu_times), statistics.median(bare), valid


def run(url: str, candidates: int, rounds: int, verifications: int) -> None:
    """Fill, issue ``rounds`` times, verify; print the figures of one database."""
    migrations.upgrade(url)
    database = Database(url)
    settings = Settings(
        secret_key="bench-secret-key-0123456789",
        database_url=url,
        base_url=BASE_URL,
        instance_path=Path(tempfile.gettempdir()),
    )
    session_id = _fill(database, candidates)
    issue_times, cpu_times, count = [], [], 0
    for _ in range(rounds):
        _clear_issued(database)
        elapsed, cpu, count = _issue(database, settings, session_id)
        issue_times.append(elapsed)
        cpu_times.append(cpu)
    documents = _stored(database)
    bare = _bare_sign(documents)
    sample = max(1, len(documents) // 5)
    ob3, ob3_cpu = (t * len(documents) / sample for t in _ob3_sign(documents[:sample]))
    verified, verified_cpu, bare_verify, valid = _verify(database, documents[0], verifications)
    _empty(database)
    database.engine.dispose()
    issue, issue_cpu = statistics.median(issue_times), statistics.median(cpu_times)
    backend = sa.engine.make_url(url).get_backend_name()
    print(f"{backend}: {candidates} candidates × {len(CODES)} = {count} credentials")
    print(
        f"  issue_for_session, commit included: median {issue:.2f} s of {rounds} "
        f"({', '.join(f'{t:.2f}' for t in issue_times)}), {issue / count * 1000:.2f} ms each"
        f"  (target ≤ 10 s: {'met' if issue <= 10 else 'missed'})"
    )
    print(f"  of which CPU: median {issue_cpu:.2f} s, {issue_cpu / count * 1000:.2f} ms each")
    print(
        f"  ob3 sign() alone, same documents (1/5 timed, scaled): {ob3:.2f} s (CPU {ob3_cpu:.2f} s)"
    )
    print(f"  bare Ed25519 sign of the same bytes: {bare * 1000:.1f} ms")
    print(
        f"  ratio to ob3 sign: {issue / ob3:.2f} (CPU {issue_cpu / ob3_cpu:.2f}); "
        f"ratio to bare Ed25519: {issue / bare:,.0f}"
    )
    print(
        f"  verify one credential: median {verified * 1000:.1f} ms of {verifications} "
        f"(CPU {verified_cpu * 1000:.1f} ms; valid: {valid}; "
        f"target ≤ 50 ms: {'met' if verified <= 0.05 else 'missed'}); "
        f"bare Ed25519 verify {bare_verify * 1e6:.0f} µs, ratio {verified / bare_verify:,.0f}"
    )


def main() -> None:
    """Run the bench on SQLite, and on PostgreSQL when a URL is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--verifications", type=int, default=100)
    parser.add_argument(
        "--database-url", default=os.environ.get("JALON_BENCH_DATABASE_URL") or None
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        run(url, arguments.candidates, arguments.rounds, arguments.verifications)
    if arguments.database_url:
        run(arguments.database_url, arguments.candidates, arguments.rounds, arguments.verifications)


if __name__ == "__main__":
    main()
