"""A learner's submission: drafts, hand-ins, versions kept, stale forms, files refused."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from lti_tool import create_app
from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.evaluation import files, submissions
from lti_tool.evaluation.files import Upload, UploadRefused, UploadRules
from lti_tool.evaluation.models import (
    EvaluationStatus,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)
from lti_tool.evaluation.placement import Placement, placement_of
from lti_tool.evaluation.storage import LocalFileStorage, MemoryFileStorage
from lti_tool.evaluation.submissions import (
    DraftChange,
    Seat,
    StaleSubmission,
    SubmissionClosed,
    SubmissionRefused,
)
from lti_tool.models import LtiResourceLink
from tests.lti_tool.evaluation import factories
from xapi.outbox import outbox

RULES = UploadRules(max_bytes=1000, types=frozenset({"pdf", "txt"}))
BASE = "https://jalon.test"


@pytest.fixture
def session(app: Flask, clean_database: Database) -> Iterator[Session]:
    # A request context gives the refusals their (French) messages.
    with app.test_request_context(), clean_database.sessions() as session:
        yield session


@pytest.fixture
def storage() -> MemoryFileStorage:
    return MemoryFileStorage()


def _seat(session: Session) -> tuple[Seat, Placement]:
    seat, placement, _course = _seat_in(session)
    return seat, placement


def _seat_in(session: Session) -> tuple[Seat, Placement, factories.Course]:
    course = factories.course(session)
    learner = factories.person(session, course, "Léa Martin")
    link_id = factories.placement(session, course, "E1", competencies="C1.1,C1.2")
    link = session.get(LtiResourceLink, link_id)
    assert link is not None
    placement = placement_of(session, link.custom)
    assert placement is not None
    assert placement.is_evaluable
    return Seat(course.context_id, learner, link_id, "1"), placement, course


def _pdf(name: str = "rapport.pdf", data: bytes = b"%PDF-1.7 du travail") -> Upload:
    return Upload(name, io.BytesIO(data))


def _save(
    session: Session,
    storage: MemoryFileStorage,
    seat: Seat,
    placement: Placement,
    change: DraftChange,
    revision: int | None = None,
) -> Submission:
    work = submissions.get_or_create(session, seat, placement)
    given = submissions.revision_of(work) if revision is None else revision
    submissions.save_draft(session, work, given, change, storage, RULES, factories.at(1))
    return work


def _hand_in(session: Session, seat: Seat, placement: Placement) -> SubmissionVersion:
    work = submissions.find(session, seat)
    assert work is not None
    return submissions.hand_in(session, work, work.revision, placement, BASE, factories.at(2), "fr")


def _statements(session: Session) -> list[dict[str, object]]:
    return [json.loads(body) for body in session.scalars(sa.select(outbox.c.body))]


def test_the_first_save_creates_the_submission_and_its_draft(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement = _seat(session)
    assert submissions.find(session, seat) is None

    work = _save(session, storage, seat, placement, DraftChange("Mon plan", ("https://a.example",)))

    assert work.status == SubmissionStatus.DRAFT
    assert work.revision == 1
    assert work.competency_codes == ["C1.1", "C1.2"]
    assert work.epreuve_code == "E1"
    [draft] = work.versions
    assert (draft.number, draft.is_draft, draft.text, draft.links) == (
        1,
        True,
        "Mon plan",
        ["https://a.example"],
    )
    assert _statements(session) == []


def test_saving_again_rewrites_the_same_draft(session: Session, storage: MemoryFileStorage) -> None:
    seat, placement = _seat(session)
    work = _save(session, storage, seat, placement, DraftChange("Premier jet"))
    _save(session, storage, seat, placement, DraftChange("Second jet", (), frozenset(), (_pdf(),)))

    [draft] = work.versions
    assert draft.text == "Second jet"
    assert [f.name for f in draft.files] == ["rapport.pdf"]
    assert work.revision == 2


def test_handing_in_freezes_the_version_and_queues_one_submitted_statement(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement = _seat(session)
    work = _save(
        session, storage, seat, placement, DraftChange("Ma note", (), frozenset(), (_pdf(),))
    )

    version = _hand_in(session, seat, placement)

    assert (version.is_draft, version.submitted_at) == (False, factories.at(2))
    assert work.status == SubmissionStatus.SUBMITTED
    assert work.submitted_at == factories.at(2)
    assert work.revision == 2
    assert submissions.draft_of(work) is None
    [statement] = _statements(session)
    assert statement["verb"]["id"] == "http://activitystrea.ms/schema/1.0/submit"  # type: ignore[index]
    assert "/resource-links/" in statement["object"]["id"]  # type: ignore[index]


def test_resubmitting_starts_a_new_version_and_keeps_the_old_one(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement = _seat(session)
    work = _save(
        session,
        storage,
        seat,
        placement,
        DraftChange("V1", ("https://a.example",), frozenset(), (_pdf(),)),
    )
    first = _hand_in(session, seat, placement)

    _save(session, storage, seat, placement, DraftChange("V2", ("https://a.example",)))
    second = _hand_in(session, seat, placement)

    assert [v.number for v in work.versions] == [1, 2]
    assert (first.text, second.text) == ("V1", "V2")
    # The copy points to the same stored bytes; nothing was stored twice.
    assert [f.storage_key for f in second.files] == [f.storage_key for f in first.files]
    assert len(storage.files) == 1
    assert [v.number for v in submissions.handed_in(work)] == [2, 1]
    assert len(_statements(session)) == 2


def test_a_file_of_the_last_version_can_be_left_out_of_the_next(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement = _seat(session)
    work = _save(
        session, storage, seat, placement,
        DraftChange("V1", (), frozenset(), (_pdf("a.pdf"), _pdf("b.pdf"))),
    )  # fmt: skip
    first = _hand_in(session, seat, placement)
    dropped = next(f.id for f in first.files if f.name == "a.pdf")

    _save(session, storage, seat, placement, DraftChange("V2", (), frozenset({dropped})))

    draft = submissions.draft_of(work)
    assert draft is not None
    assert [f.name for f in draft.files] == ["b.pdf"]
    assert sorted(f.name for f in first.files) == ["a.pdf", "b.pdf"]


def test_a_stale_revision_is_refused_and_changes_nothing(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement = _seat(session)
    work = _save(session, storage, seat, placement, DraftChange("Depuis l’onglet A"))

    with pytest.raises(StaleSubmission) as refused:
        _save(
            session,
            storage,
            seat,
            placement,
            DraftChange("Depuis l’onglet B", (), frozenset(), (_pdf(),)),
            revision=0,
        )

    assert refused.value.status == 409
    assert "modifié entre-temps" in refused.value.message
    assert work.versions[0].text == "Depuis l’onglet A"
    assert work.revision == 1
    assert storage.files == {}


def test_a_form_from_before_the_submission_existed_is_stale_once_it_exists(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement = _seat(session)
    _save(session, storage, seat, placement, DraftChange("Premier onglet"), revision=0)
    with pytest.raises(StaleSubmission):
        _save(session, storage, seat, placement, DraftChange("Second onglet"), revision=0)


def test_an_evaluated_submission_is_closed(session: Session, storage: MemoryFileStorage) -> None:
    seat, placement = _seat(session)
    work = _save(session, storage, seat, placement, DraftChange("Fini"))
    _hand_in(session, seat, placement)
    work.status = SubmissionStatus.EVALUATED

    with pytest.raises(SubmissionClosed):
        _save(session, storage, seat, placement, DraftChange("Encore"))
    assert [v.text for v in work.versions] == ["Fini"]


def test_an_empty_draft_cannot_be_handed_in(session: Session, storage: MemoryFileStorage) -> None:
    seat, placement = _seat(session)
    _save(session, storage, seat, placement, DraftChange("   \n "))
    with pytest.raises(SubmissionRefused) as refused:
        _hand_in(session, seat, placement)
    assert refused.value.field == "text"


def test_too_many_files_are_refused_before_anything_is_stored(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement = _seat(session)
    many = tuple(_pdf(f"f{i}.pdf") for i in range(submissions.MAX_FILES + 1))
    with pytest.raises(SubmissionRefused) as refused:
        _save(session, storage, seat, placement, DraftChange("", (), frozenset(), many))
    assert refused.value.field == "files"
    assert storage.files == {}


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        (Upload("page.html", io.BytesIO(b"<script>alert(1)</script>")), "« page.html » : ce type"),
        (Upload("gros.pdf", io.BytesIO(b"x" * 1001)), "« gros.pdf » dépasse la taille maximale"),
    ],
)
def test_a_refused_file_is_named_and_no_file_of_the_form_is_kept(
    session: Session, storage: MemoryFileStorage, upload: Upload, says: str
) -> None:
    seat, placement = _seat(session)
    with pytest.raises(UploadRefused, match=says):
        _save(session, storage, seat, placement, DraftChange("", (), frozenset(), (_pdf(), upload)))
    assert storage.files == {}


def test_the_uploaded_name_never_reaches_the_stored_path(tmp_path: Path, app: Flask) -> None:
    root = tmp_path / "uploads"
    storage = LocalFileStorage(root)
    with app.test_request_context():
        [stored] = files.store_all(
            storage, [Upload("../../etc/passwd.txt", io.BytesIO(b"root:x:0:0"))], RULES
        )
    assert stored.name == "passwd.txt"
    kept = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert kept == [root / stored.stored.key[:2] / stored.stored.key]
    assert storage.read(stored.stored.key) == b"root:x:0:0"
    assert stored.stored.size == 10
    assert len(stored.stored.sha256) == 64


def test_a_file_too_large_leaves_no_partial_file_behind(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    with pytest.raises(files.TooLarge):
        storage.save(io.BytesIO(b"x" * 5000), 1000)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_key_that_is_not_one_of_ours_reads_nothing(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    with pytest.raises(KeyError):
        storage.read("../../etc/passwd")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("C:\\Users\\léa\\rapport final.pdf", "rapport final.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..", "fichier"),
        (".htaccess", "htaccess"),
        ("bad\x00name\u202e.txt", "badname.txt"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_names_are_cleaned_for_display(raw: str, clean: str) -> None:
    assert files.clean_name(raw) == clean


def test_downloads_are_typed_from_the_name_never_as_active_content() -> None:
    assert files.content_type_of("rapport.pdf") == "application/pdf"
    assert files.content_type_of("page.html") == "application/octet-stream"
    assert files.content_type_of("image.svg") == "application/octet-stream"


def test_files_are_found_only_for_their_learner_or_their_course_staff(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement, course = _seat_in(session)
    work = _save(session, storage, seat, placement, DraftChange("", (), frozenset(), (_pdf(),)))
    [file] = work.versions[0].files
    other = factories.person(session, factories.course(session), "Sam Leroy")
    elsewhere = factories.course(session)

    assert submissions.file_for_learner(session, file.id, seat.context_id, seat.learner_id) is file
    assert submissions.file_for_learner(session, file.id, seat.context_id, other) is None
    assert (
        submissions.file_for_learner(session, file.id, elsewhere.context_id, seat.learner_id)
        is None
    )
    assert submissions.file_for_staff(session, file.id, course.context_id) is file
    assert submissions.file_for_staff(session, file.id, elsewhere.context_id) is None


def test_only_published_evaluations_are_shown(session: Session, storage: MemoryFileStorage) -> None:
    seat, placement, course = _seat_in(session)
    work = _save(session, storage, seat, placement, DraftChange("Travail"))
    version = _hand_in(session, seat, placement)
    evaluator = factories.person(session, course, "Paul Durand", is_staff=True)
    jury = factories.person(session, course, "Ana Costa", is_staff=True)
    published = factories.publish(session, version, evaluator, factories.at(3), {"C1.1": 1.0})
    draft = factories.publish(session, version, jury, factories.at(4), {"C1.1": 0.0})
    draft.status = EvaluationStatus.DRAFT
    session.flush()

    assert submissions.published_evaluations(session, work) == [published]


def test_create_app_takes_the_file_storage_it_is_given(
    settings: Settings, clean_database: Database
) -> None:
    memory = MemoryFileStorage()
    given = create_app(settings, database=clean_database, file_storage=memory)
    default = create_app(settings, database=clean_database)
    with given.app_context():
        assert files.file_storage() is memory
    with default.app_context():
        local = files.file_storage()
        assert isinstance(local, LocalFileStorage)
        assert local.root == settings.instance_path / "uploads"


def test_item6_new_bytes_are_deleted_when_the_change_rolls_back(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement = _seat(session)
    _save(session, storage, seat, placement, DraftChange("x", uploads=(_pdf(),)))
    assert len(storage.files) == 1

    session.rollback()

    assert storage.files == {}


def test_item6_bytes_of_a_removed_file_go_only_when_the_change_commits(
    session: Session, storage: MemoryFileStorage
) -> None:
    seat, placement = _seat(session)
    work = _save(session, storage, seat, placement, DraftChange("x", uploads=(_pdf(),)))
    session.commit()
    [kept] = storage.files
    file_id = work.versions[-1].files[0].id

    _save(
        session, storage, seat, placement, DraftChange("x", removed_file_ids=frozenset({file_id}))
    )
    assert list(storage.files) == [kept]  # flushed, not committed: the row may come back
    session.commit()

    assert storage.files == {}
