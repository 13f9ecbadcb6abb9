"""A holder's civil identity never leaves in a statement, and never reaches a log.

Léa goes through the demo LMS for real: launch, hand-in, evaluation and publication; the
school imports her identity, she corrects it on her form, then hands in and is evaluated
again. No statement of the outbox, and no log line, holds any value of that identity.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask

from lti_tool.certification.models import HolderIdentity
from lti_tool.cli import main
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.demo.keys import KeyPair
from lti_tool.models import LtiUser
from tests.lti_tool.certification import identity_rows
from tests.lti_tool.demo import conftest as demo_fixtures
from tests.lti_tool.demo.conftest import demo_state, place
from tests.lti_tool.demo.harness import JALON, LEA, Browser, hidden
from tests.lti_tool.demo.test_evaluation_flow import (
    E1,
    E2,
    _evaluate_all_met,
    _hand_in,
    _launch,
    _token,
    demo_app,
)
from xapi.outbox import outbox

keys, platform_key = demo_fixtures.keys, demo_fixtures.platform_key
# What the school's file and Léa's form say; none of it may leave for the LRS or a log.
BIRTH_NAME, FIRST_NAME, CITY = "Moreau-Identitaire", "Ysolde", "Saint-Pompon"
INSEE, CORRECTED_INSEE = "24503", "24504"
IDENTITY = [BIRTH_NAME, FIRST_NAME, CITY, INSEE, CORRECTED_INSEE, "23/07/1994", "1994-07-23"]


@pytest.fixture
def demo(settings: Settings, clean_database: Database, platform_key: KeyPair) -> Iterator[Flask]:
    app, _transport = demo_app(settings, clean_database)
    yield app
    demo_state(app).database.engine.dispose()


def test_no_identity_value_in_any_statement_or_log(
    demo: Flask,
    settings: Settings,
    clean_database: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    e1 = place(demo, title="E1 — Étude de cas", custom=E1, score_maximum=16)
    e2 = place(demo, title="E2 — Étude de cas", custom=E2, score_maximum=16)
    learner, instructor = Browser({"jalon.test": demo}), Browser({"jalon.test": demo})
    _hand_in(learner, e1, "Première remise")
    assert "Acceptée par la plateforme" in _evaluate_all_met(instructor, e1, "Bien.")

    # The school presents Léa to a session and imports her identity from its file.
    with clean_database.session() as db:
        lea = db.scalar(sa.select(LtiUser.id).where(LtiUser.email == "lmoreau@demo.invalid"))
        assert lea is not None
        session_id = identity_rows.session_row(db)
        identity_rows.candidate(db, session_id, lea)
    csv = tmp_path / "candidats.csv"
    csv.write_text(
        "email;nom_naissance;prenom1;date_naissance;sexe;code_insee_naissance;commune_naissance\n"
        f"LMoreau@demo.invalid;{BIRTH_NAME};{FIRST_NAME};23/07/1994;F;{INSEE};{CITY}\n",
        encoding="utf-8",
    )
    env = {
        "JALON_DATABASE_URL": settings.database_url,
        "JALON_INSTANCE_PATH": str(settings.instance_path),
        "JALON_BASE_URL": settings.base_url,
        "JALON_SECRET_KEY": "",
    }
    imported = CliRunner(env=env).invoke(
        main, ["certification", "candidats", "import", str(csv), "--session", str(session_id)]
    )
    assert imported.exit_code == 0, imported.output

    # Léa finds her form from her progress page and corrects the INSEE code.
    page = _launch(learner, e1, LEA)
    progress = learner.open(f"{JALON}/progression?lt={_token(page)}").get_data(as_text=True)
    link = re.search(r'href="(/certification/mon-identite\?lt=[^"]+)"', progress)
    assert link, "the progress page has no link to the identity form"
    form = learner.open(f"{JALON}{link.group(1)}").get_data(as_text=True)
    assert f'value="{BIRTH_NAME}"' in form
    text_input = r'<input type="text" id="champ-[^"]+" name="([^"]+)" value="([^"]*)"'
    fields = dict(re.findall(text_input, form))
    saved = learner.open(
        f"{JALON}/certification/mon-identite",
        "POST",
        data={**hidden(form), **fields, "sex": "F", "birth_insee_code": CORRECTED_INSEE},
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    with clean_database.session() as db:
        identity = db.scalar(sa.select(HolderIdentity).where(HolderIdentity.learner_id == lea))
        assert identity is not None
        assert (identity.birth_insee_code, identity.source) == (CORRECTED_INSEE, "form")

    # Work goes on with the identity stored: more statements are queued.
    _hand_in(learner, e2, "Deuxième remise")
    assert "Acceptée par la plateforme" in _evaluate_all_met(instructor, e2, "Très bien.")

    with clean_database.session() as db:
        bodies = list(db.scalars(sa.select(outbox.c.body)))
    assert len(bodies) > 10
    leaked = [value for value in IDENTITY for body in bodies if value in body]
    assert leaked == []
    logged = "\n".join(
        [
            caplog.text,
            *(r.getMessage() for r in caplog.records),
            *(repr(r.args) for r in caplog.records),
        ]
    )
    assert [value for value in IDENTITY if value in logged] == []
    assert "Léa" not in logged
