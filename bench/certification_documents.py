"""The certification PDFs: a procès-verbal of 500 candidates, and one certificate.

Fills a fresh SQLite database with a jury session (the rows of
``tests/lti_tool/certification/pdf_rows.py``) and times, median of ``--rounds``:

* ``minutes_pdf`` for N candidates (read the decisions, render the HTML, WeasyPrint's
  layout and PDF), against WeasyPrint alone on a bare table of the same N × 7 cells with no
  stylesheet (the floor: what any PDF of that table costs);
* ``certificate_pdf`` of one bloc, against WeasyPrint alone on a bare page of the same text.

Wall time and CPU time of this process (the machine is shared: CPU time is the steadier).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from lti_tool import migrations  # noqa: E402
from lti_tool.certification import documents  # noqa: E402
from lti_tool.certification.documents.render import write_pdf  # noqa: E402
from lti_tool.certification.models import CertificationSession, IssuedCredential  # noqa: E402
from lti_tool.config import Settings  # noqa: E402
from lti_tool.db import Database  # noqa: E402
from tests.lti_tool.certification.pdf_rows import demo_jury  # noqa: E402


def _timed(make: Callable[[], bytes], rounds: int) -> tuple[float, float, int]:
    walls, cpus, size = [], [], 0
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        size = len(make())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), size


def _bare_table(rows: int) -> str:
    cells = "".join(
        f"<tr><td>{n}</td><td>Candidat numéro {n:03d}</td>" + "<td>Validé</td>" * 5 + "</tr>"
        for n in range(rows)
    )
    return f"<table>{cells}</table>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrations.upgrade(url)
        database = Database(url)
        settings = Settings(secret_key="bench-" * 5, database_url=url)
        with database.session() as db:
            jury = demo_jury(db, extra=max(0, args.candidates - 3))
            session = db.get(CertificationSession, jury.session_id)
            assert session is not None
            public_id = jury.credentials[(jury.learner_ids[0], "B2")]
            credential = db.scalars(
                sa.select(IssuedCredential).where(IssuedCredential.public_id == public_id)
            ).one()
            write_pdf("<p>warm-up</p>")  # WeasyPrint's first use loads fonts
            figures = {
                f"minutes_pdf, {args.candidates} candidates": _timed(
                    lambda: documents.minutes_pdf(db, session, settings), args.rounds
                ),
                f"  floor: bare table {args.candidates} × 7": _timed(
                    lambda: write_pdf(_bare_table(args.candidates)), args.rounds
                ),
                "certificate_pdf, one bloc": _timed(
                    lambda: documents.certificate_pdf(db, credential, settings), args.rounds * 3
                ),
                "  floor: bare page of its text": _timed(
                    lambda: write_pdf(f"<h1>Certificat</h1><p>{'Compétence. ' * 300}</p>"),
                    args.rounds * 3,
                ),
            }
    print(f"{'':44} {'wall (s)':>9} {'CPU (s)':>8} {'bytes':>9}")
    for name, (wall, cpu, size) in figures.items():
        print(f"{name:44} {wall:9.3f} {cpu:8.3f} {size:9,}")


if __name__ == "__main__":
    main()
