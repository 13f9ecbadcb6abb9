"""Drafts of learners gone from their course: what counts as gone, and what goes with them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from sqlalchemy.orm import Session

from lti_tool import create_app
from lti_tool.cli import main
from lti_tool.cli.purge import run_purge
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation.files import uploads_folder
from lti_tool.evaluation.models import Submission, SubmissionFile, SubmissionVersion
from lti_tool.evaluation.storage import LocalFileStorage
from lti_tool.lti import keys as tool_keys
from lti_tool.lti.roles import parse
from lti_tool.models import LtiResourceLink
from lti_tool.services import LmsContext, LmsServiceError, Member, Roster
from lti_tool.services.memory import InMemoryRoster
from tests.lti_tool.evaluation import factories
from tests.lti_tool.privacy import rows
from tests.lti_tool.privacy.rows import DAY, NOW

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


@pytest.fixture
def storage(tmp_path: Path) -> LocalFileStorage:
    return LocalFileStorage(uploads_folder(tmp_path))


def _on_disk(storage: LocalFileStorage) -> set[str]:
    return {entry.name for entry in storage.entries()}


def _learner(
    session: sa.orm.Session, where: factories.Course, name: str, idle_since: object
) -> int:
    learner = factories.person(session, where, name)
    rows.membership_changed(session, where.context_id, learner, idle_since)  # type: ignore[arg-type]
    return learner


def test_drafts_of_learners_idle_past_the_retention_go_with_their_files(
    tmp_path: Path, database_url: str, clean_database: Database, storage: LocalFileStorage
) -> None:
    with clean_database.session() as session:
        where = factories.course(session)
        link = factories.placement(session, where, "E1")
        gone = _learner(session, where, "Ana", NOW - 100 * DAY)
        ana_file = rows.stored_file(storage, b"ana draft")
        ana = rows.draft(session, where, link, gone, [ana_file], changed=NOW - 100 * DAY)
        # Ben's roles changed ten days ago: he launched the course again.
        back = _learner(session, where, "Ben", NOW - 10 * DAY)
        ben = rows.draft(session, where, link, back, [], changed=NOW - 100 * DAY)
        # Chloé wrote eighty days ago: within the ninety days kept.
        recent = _learner(session, where, "Chloé", NOW - 80 * DAY)
        chloe = rows.draft(session, where, link, recent, [], changed=NOW - 80 * DAY)
        # Dan handed his work in, then started a new draft adding a file, and left.
        left = _learner(session, where, "Dan", NOW - 100 * DAY)
        kept_file = rows.stored_file(storage, b"handed in")
        added_file = rows.stored_file(storage, b"draft only")
        handed_in, dan_draft = rows.started_again(
            session, where, link, left, kept_file, added_file, changed=NOW - 100 * DAY
        )
        dan_revision = session.get(SubmissionVersion, handed_in).submission.revision  # type: ignore[union-attr]
    env = {
        "JALON_DATABASE_URL": database_url,
        "JALON_INSTANCE_PATH": str(tmp_path),
        "JALON_SECRET_KEY": "",
        "JALON_RETENTION_DRAFT_DAYS": "90",
    }
    dry = CliRunner(env=env).invoke(main, ["purge", "--dry-run"], obj={"now": NOW})
    assert "drafts\t2\ndraft_files\t3\n" in dry.output, dry.output
    assert len(_on_disk(storage)) == 3
    result = CliRunner(env=env).invoke(main, ["purge"], obj={"now": NOW})
    assert "drafts\t2\ndraft_files\t3\n" in result.output, result.output
    with clean_database.session() as session:
        left_submissions = set(session.scalars(sa.select(Submission.id)))
        versions = set(session.scalars(sa.select(SubmissionVersion.id)))
        files = list(session.scalars(sa.select(SubmissionFile.storage_key)))
        dan = session.scalars(sa.select(Submission).filter_by(learner_id=left)).one()
        assert dan.revision == dan_revision + 1  # a form drawn on the old draft is stale
    assert ana not in left_submissions
    assert {ben, chloe} <= left_submissions
    assert handed_in in versions
    assert dan_draft not in versions
    # The bytes of the version handed in stay; those only the drafts named are gone.
    assert files == [kept_file.storage_key]
    assert _on_disk(storage) == {kept_file.storage_key}


class _Roster(InMemoryRoster):
    """A roster per course: an LMS that fails for one of them."""

    failing: set[str] = set()  # noqa: RUF012 (set per test)

    def members(self, context: LmsContext, role: str | None = None) -> Roster:
        if context.memberships_url in self.failing:
            raise LmsServiceError("LMS_UNREACHABLE")
        return super().members(context, role)


@pytest.fixture
def roster() -> _Roster:
    return _Roster()


@pytest.fixture
def lms_app(settings: Settings, clean_database: Database, roster: _Roster) -> Flask:
    kept = dataclasses.replace(settings, retention_draft_days=90)
    return create_app(kept, database=clean_database, nrps=roster)


def _course_with_roster(session: Session, url: str) -> tuple[factories.Course, int]:
    where = factories.course(session)
    link = factories.placement(session, where, "E1")
    session.get(LtiResourceLink, link).memberships_url = url  # type: ignore[union-attr]
    tool_keys.current(session)
    return where, link


def test_the_roster_keeps_the_drafts_of_learners_still_enrolled(
    lms_app: Flask, clean_database: Database, roster: _Roster
) -> None:
    with clean_database.session() as session:
        where, link = _course_with_roster(session, "https://lms.example.edu/nrps/1")
        enrolled = _learner(session, where, "Ana", NOW - 200 * DAY)
        unlisted = _learner(session, where, "Ben", NOW - 200 * DAY)
        inactive = _learner(session, where, "Chloé", NOW - 200 * DAY)
        kept = rows.draft(session, where, link, enrolled, [], changed=NOW - 200 * DAY)
        for learner in (unlisted, inactive):
            rows.draft(session, where, link, learner, [], changed=NOW - 200 * DAY)
        roster.members_list = [
            Member(rows.learner_sub(session, enrolled), parse([LEARNER])),
            Member(rows.learner_sub(session, inactive), parse([LEARNER]), status="Inactive"),
        ]
    report = run_purge(lms_app, NOW)
    assert (report.counts["drafts"], report.courses_skipped) == (2, 0)
    with clean_database.session() as session:
        assert list(session.scalars(sa.select(Submission.id))) == [kept]


def test_a_course_whose_lms_fails_to_answer_keeps_its_drafts_until_a_later_purge(
    lms_app: Flask, clean_database: Database, roster: _Roster
) -> None:
    with clean_database.session() as session:
        where, link = _course_with_roster(session, "https://lms.example.edu/nrps/down")
        learner = _learner(session, where, "Ana", NOW - 200 * DAY)
        rows.draft(session, where, link, learner, [], changed=NOW - 200 * DAY)
    roster.failing = {"https://lms.example.edu/nrps/down"}
    report = run_purge(lms_app, NOW)
    assert (report.counts["drafts"], report.courses_skipped) == (0, 1)
    roster.failing = set()
    assert run_purge(lms_app, NOW).counts["drafts"] == 1


def test_an_evaluated_version_is_never_a_draft_to_purge(
    lms_app: Flask, clean_database: Database
) -> None:
    with clean_database.session() as session:
        where = factories.course(session)
        link = factories.placement(session, where, "E1")
        learner = _learner(session, where, "Ana", NOW - 200 * DAY)
        evaluator = factories.person(session, where, "Prof", is_staff=True)
        work = factories.submission(session, where, link, learner, ["C1.1"])
        version = factories.hand_in(session, work, NOW - 300 * DAY)
        factories.publish(session, version, evaluator, NOW - 250 * DAY, {"C1.1": 1.0})
        work.updated_at = NOW - 200 * DAY
    report = run_purge(lms_app, NOW)
    assert report.counts["drafts"] == 0
    with clean_database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SubmissionVersion)) == 1
