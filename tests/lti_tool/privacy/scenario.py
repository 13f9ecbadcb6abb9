"""A person Jalon knows well, and their neighbours: every kind of row and file about them.

Camille Martin launched from a Moodle course, handed in two pieces of work with files
(one published by Paul, one still a draft with Paul's draft evaluation), has progress,
a grade for the LMS, statements in the outbox (delivered, waiting, refused) and launch
data in the cache. Dominique, another learner of the course, must come out untouched.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.db import Base, Database
from lti_tool.evaluation import progress
from lti_tool.evaluation.files import uploads_folder
from lti_tool.evaluation.models import (
    Evaluation,
    EvaluationStatus,
    GradePassback,
    SubmissionFile,
)
from lti_tool.evaluation.storage import LocalFileStorage
from lti_tool.frameworks import bundled_frameworks
from lti_tool.models import CacheEntry, LtiContext, LtiMembership, LtiUser, Platform
from tests.lti_tool.evaluation import factories
from tests.lti_tool.evaluation.factories import Course, at
from tests.xapi.samples import HOME_PAGE, statement
from xapi import outbox
from xapi.outbox import SerializedStatement, Status

ISSUER = HOME_PAGE  # https://moodle.example.edu: the samples' statements name it
SUB = "moodle-user-48213"
NAME = "Camille Martin"
EMAIL = "camille.martin@example.edu"
LOGIN = "cmartin48"
# What must be nowhere once Camille is erased.
PERSONAL = (SUB, NAME, EMAIL, LOGIN, "Camille", "Martin")
OTHER_SUB = "moodle-user-50000"


@dataclass(frozen=True)
class People:
    """Ids and statements of the scenario."""

    camille: int
    dominique: int
    paul: int
    course: Course
    statements: dict[str, SerializedStatement]  # delivered, pending, dead, other
    storage_keys: tuple[str, ...]


def storage(instance_path: Path) -> LocalFileStorage:
    """Return the storage the CLI and the app use for this instance folder."""
    return LocalFileStorage(uploads_folder(instance_path))


def _file(
    session: Session, store: LocalFileStorage, version_id: int, name: str, data: bytes
) -> str:
    stored = store.save(io.BytesIO(data), 1_000_000)
    session.add(
        SubmissionFile(
            version_id=version_id,
            name=name,
            storage_key=stored.key,
            content_type="application/pdf",
            size=stored.size,
            sha256=stored.sha256,
        )
    )
    return stored.key


def build(database: Database, instance_path: Path) -> People:
    """Insert the scenario; return who is who."""
    framework = next(f for f in bundled_frameworks() if f.code == factories.FRAMEWORK)
    store = storage(instance_path)
    with database.session() as session:
        platform = Platform(
            issuer=ISSUER,
            client_id="moodle-client",
            name="Moodle de l’IUT",
            auth_login_url=f"{ISSUER}/mod/lti/auth.php",
            auth_token_url=f"{ISSUER}/mod/lti/token.php",
            key_set_url=f"{ISSUER}/mod/lti/certs.php",
            status="active",
        )
        session.add(platform)
        session.flush()
        context = LtiContext(issuer=ISSUER, deployment_id="1", context_id="cm-2026", title="CM")
        session.add(context)
        session.flush()
        where = Course(platform.id, context.id)
        camille = LtiUser(
            issuer=ISSUER,
            sub=SUB,
            name=NAME,
            given_name="Camille",
            family_name="Martin",
            email=EMAIL,
            preferred_username=LOGIN,
        )
        session.add(camille)
        session.flush()
        session.add(LtiMembership(context_id=context.id, user_id=camille.id, roles=["Learner"]))
        dominique = factories.person(session, where, "Dominique Durand")
        session.get(LtiUser, dominique).sub = OTHER_SUB  # type: ignore[union-attr]
        paul = factories.person(session, where, "Paul Évaluateur", is_staff=True)
        e3 = factories.placement(session, where, "E3")
        e1 = factories.placement(session, where, "E1")
        keys = []
        # Published work: kept as decisions (pseudonymised) or deleted, as settings say.
        work = factories.submission(
            session, where, e3, camille.id, framework.epreuve("E3").competencies, epreuve="E3"
        )
        version = factories.hand_in(session, work, at(0), text=f"Rapport de {NAME}")
        keys.append(_file(session, store, version.id, "rapport-camille.pdf", NAME.encode()))
        evaluation = factories.publish(
            session,
            version,
            paul,
            at(10),
            {"C2.1": 1.0, "C2.2": 0.5},
            overrides={"C2.2": True},
            criteria={"C2.1-1": ("atteint", True)},
            comment=f"Bravo {NAME}",
        )
        session.add(
            GradePassback(
                evaluation_id=evaluation.id,
                resource_link_id=e3,
                learner_id=camille.id,
                score_given=1.5,
                score_maximum=2.0,
                comment=f"Bravo {NAME}",
                scored_at=at(10),
                status="sent",
                sent_at=at(11),
            )
        )
        progress.update(session, framework, context.id, camille.id, at(20))
        # Work in progress, with Paul's draft evaluation of it.
        draft = factories.submission(
            session, where, e1, camille.id, framework.epreuve("E1").competencies
        )
        draft_version = factories.hand_in(session, draft, at(30), text=f"Brouillon — {EMAIL}")
        keys.append(_file(session, store, draft_version.id, "brouillon.pdf", EMAIL.encode()))
        session.add(
            Evaluation(
                submission_id=draft.id,
                version_id=draft_version.id,
                evaluator_id=paul,
                status=EvaluationStatus.DRAFT,
                comment=f"À revoir, {NAME}",
            )
        )
        # Dominique's work, judged by Paul: none of it may change.
        theirs = factories.submission(
            session, where, e3, dominique, framework.epreuve("E3").competencies, epreuve="E3"
        )
        their_version = factories.hand_in(session, theirs, at(5), text="Travail de Dominique")
        keys.append(_file(session, store, their_version.id, "dominique.pdf", b"Dominique"))
        factories.publish(session, their_version, paul, at(12), {"C2.1": 1.0, "C2.2": 1.0})
        progress.update(session, framework, context.id, dominique, at(20))
        session.add(
            CacheEntry(
                key="launch-data-camille",
                value=json.dumps({"iss": ISSUER, "sub": SUB, "name": NAME, "email": EMAIL}),
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
            )
        )
        ids = (camille.id, dominique, paul)
    records = {
        "delivered": statement(learner=SUB),
        "pending": statement(learner=SUB),
        "dead": statement(learner=SUB),
        "other": statement(learner=OTHER_SUB),
    }
    with database.session() as session:
        outbox.enqueue(session, records.values())
        for which, status in (("delivered", Status.DELIVERED), ("dead", Status.DEAD)):
            session.execute(
                sa.update(outbox.outbox)
                .where(outbox.outbox.c.statement_id == records[which].id)
                .values(status=status.value)
            )
    return People(*ids, where, records, tuple(keys))


def dump(database: Database) -> str:
    """Return every row of every table as text (what a ``pg_dump`` would show)."""
    with database.engine.connect() as connection:
        return "\n".join(
            repr(row)
            for table in [*Base.metadata.sorted_tables, outbox.outbox]
            for row in connection.execute(sa.select(table))
        )


def stored_text(instance_path: Path) -> str:
    """Return the bytes of every stored file, as text."""
    folder = uploads_folder(instance_path)
    return "\n".join(
        p.read_bytes().decode(errors="replace") for p in folder.rglob("*") if p.is_file()
    )
