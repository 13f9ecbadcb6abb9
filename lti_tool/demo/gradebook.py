"""What the demo LMS does with the grades a tool sends: line items, scores, the gradebook.

Functions take the demo session first and only flush. Input from the tool is checked here,
field by field, with the rules of LTI Deep Linking 2.0 and Assignment and Grade Services 2.0;
a refusal raises :class:`ToolDataError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lti_tool.demo.models import LEARNER, Course, Enrolment, LineItem, Placement, Score, User
from lti_tool.demo.protocol import DemoUrls

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")


class ToolDataError(ValueError):
    """Data from the tool breaks a rule of the specification."""


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def optional_text(document: Mapping[str, Any], name: str) -> str | None:
    """Return an optional string field of the tool's document, refusing another type."""
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ToolDataError(f"{name} must be a string")
    return value


# -- line items (AGS) --------------------------------------------------------------------


def create_line_item(
    session: Session,
    course: Course,
    document: Mapping[str, Any],
    *,
    placement: Placement | None = None,
) -> LineItem:
    """Create a gradebook column from a line item document."""
    line_item = LineItem(course_id=course.id)
    _apply_line_item(session, course, line_item, document, placement)
    session.add(line_item)
    session.flush()
    return line_item


def update_line_item(
    session: Session, course: Course, line_item: LineItem, document: Mapping[str, Any]
) -> LineItem:
    """Replace a column's fields (AGS PUT)."""
    _apply_line_item(session, course, line_item, document, line_item.placement)
    session.flush()
    return line_item


def _apply_line_item(
    session: Session,
    course: Course,
    line_item: LineItem,
    document: Mapping[str, Any],
    placement: Placement | None,
) -> None:
    label = document.get("label")
    if not isinstance(label, str) or not label.strip():
        raise ToolDataError("label is required")
    maximum = document.get("scoreMaximum")
    if not _number(maximum) or maximum <= 0:
        raise ToolDataError("scoreMaximum must be a number above 0")
    link_id = optional_text(document, "resourceLinkId")
    if link_id is not None:
        placement = session.get(Placement, int(link_id)) if link_id.isdigit() else None
        if placement is None or placement.course_id != course.id:
            raise ToolDataError("resourceLinkId is not a link of this course")
    line_item.label = label.strip()
    line_item.score_maximum = float(maximum)
    line_item.resource_id = optional_text(document, "resourceId")
    line_item.tag = optional_text(document, "tag")
    line_item.start_date_time = optional_text(document, "startDateTime")
    line_item.end_date_time = optional_text(document, "endDateTime")
    line_item.placement = placement


def line_item_document(urls: DemoUrls, line_item: LineItem) -> dict[str, Any]:
    """Return a line item as AGS serializes it."""
    document: dict[str, Any] = {
        "id": urls.lineitem(line_item.course_id, line_item.id),
        "label": line_item.label,
        "scoreMaximum": line_item.score_maximum,
        "resourceLinkId": line_item.placement.resource_link_id if line_item.placement else None,
        "resourceId": line_item.resource_id,
        "tag": line_item.tag,
        "startDateTime": line_item.start_date_time,
        "endDateTime": line_item.end_date_time,
    }
    return {key: value for key, value in document.items() if value is not None}


def find_line_items(
    session: Session,
    course: Course,
    *,
    resource_link_id: str | None = None,
    resource_id: str | None = None,
    tag: str | None = None,
) -> list[LineItem]:
    """Return a course's columns, filtered as AGS allows."""
    query = sa.select(LineItem).where(LineItem.course_id == course.id).order_by(LineItem.id)
    if resource_link_id is not None:
        query = query.where(
            LineItem.placement_id == (int(resource_link_id) if resource_link_id.isdigit() else -1)
        )
    if resource_id is not None:
        query = query.where(LineItem.resource_id == resource_id)
    if tag is not None:
        query = query.where(LineItem.tag == tag)
    return list(session.scalars(query))


# -- scores and results ------------------------------------------------------------------


class ScoreOutcome:
    """How a score was taken: a first result, an update, or refused as out of date."""

    CREATED = "created"
    UPDATED = "updated"
    OUTDATED = "outdated"


def record_score(
    session: Session, course: Course, line_item: LineItem, document: Any
) -> tuple[str, Score | None]:
    """Check and store a score (AGS §3.4); one not strictly newer than the last is refused."""
    if not isinstance(document, dict):
        raise ToolDataError("the score must be a JSON object")
    user = _learner(session, course, document.get("userId"))
    timestamp = _timestamp(document.get("timestamp"))
    activity = document.get("activityProgress")
    if activity not in ACTIVITY_PROGRESS:
        raise ToolDataError(f"activityProgress must be one of {', '.join(ACTIVITY_PROGRESS)}")
    grading = document.get("gradingProgress")
    if grading not in GRADING_PROGRESS:
        raise ToolDataError(f"gradingProgress must be one of {', '.join(GRADING_PROGRESS)}")
    given, maximum = document.get("scoreGiven"), document.get("scoreMaximum")
    if given is not None:
        if not _number(given) or given < 0:
            raise ToolDataError("scoreGiven must be a number of 0 or more")
        if not _number(maximum) or maximum <= 0:
            raise ToolDataError("scoreMaximum must be a number above 0 when scoreGiven is sent")
    elif maximum is not None and (not _number(maximum) or maximum <= 0):
        raise ToolDataError("scoreMaximum must be a number above 0")
    submission = document.get("submission")
    if submission is not None and not isinstance(submission, dict):
        raise ToolDataError("submission must be an object")
    last = latest_score(session, line_item, user)
    if last is not None and _seconds(last.timestamp) >= _seconds(timestamp):
        # As Moodle's scores.php: only a strictly newer score, in whole seconds, is taken.
        return ScoreOutcome.OUTDATED, None
    score = Score(
        line_item_id=line_item.id,
        user_id=user.id,
        score_given=None if given is None else float(given),
        score_maximum=None if maximum is None else float(maximum),
        comment=optional_text(document, "comment"),
        activity_progress=activity,
        grading_progress=grading,
        timestamp=timestamp,
        submission=submission,
    )
    session.add(score)
    session.flush()
    return (ScoreOutcome.CREATED if last is None else ScoreOutcome.UPDATED), score


def _learner(session: Session, course: Course, user_id: Any) -> User:
    if not isinstance(user_id, str) or not user_id.isdigit():
        raise ToolDataError("userId must be the LTI user id of a member of the course")
    enrolment = session.get(Enrolment, (course.id, int(user_id)))
    if enrolment is None:
        raise ToolDataError("userId is not a member of the course")
    return enrolment.user


def _timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ToolDataError("timestamp is required (ISO 8601 with a time zone)")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ToolDataError("timestamp is not ISO 8601") from exc
    if parsed.tzinfo is None:
        raise ToolDataError("timestamp must carry a time zone")
    return parsed


def _seconds(moment: dt.datetime) -> int:
    """Return a time as whole seconds since the epoch (naive times are UTC, as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def latest_score(session: Session, line_item: LineItem, user: User) -> Score | None:
    """Return the last score taken for a user in a column."""
    return session.scalar(
        sa.select(Score)
        .where(Score.line_item_id == line_item.id, Score.user_id == user.id)
        .order_by(Score.id.desc())
        .limit(1)
    )


def results(
    session: Session, urls: DemoUrls, line_item: LineItem, *, user_id: str | None = None
) -> list[dict[str, Any]]:
    """Return the current result of each learner with a score, as AGS serializes them."""
    line_item_url = urls.lineitem(line_item.course_id, line_item.id)
    documents = []
    for score in latest_scores(session, [line_item]).values():
        if user_id is not None and score.user_id != (int(user_id) if user_id.isdigit() else -1):
            continue
        document: dict[str, Any] = {
            "id": f"{line_item_url}/results/{score.user_id}",
            "scoreOf": line_item_url,
            "userId": str(score.user_id),
            "resultMaximum": line_item.score_maximum,
        }
        if score.score_given is not None and score.score_maximum:
            scaled = score.score_given * line_item.score_maximum / score.score_maximum
            document["resultScore"] = round(scaled, 6)
        if score.comment is not None:
            document["comment"] = score.comment
        documents.append(document)
    return documents


def latest_scores(session: Session, line_items: Iterable[LineItem]) -> dict[tuple[int, int], Score]:
    """Return the last score of each (line item, user) among these columns."""
    ids = [line_item.id for line_item in line_items]
    latest: dict[tuple[int, int], Score] = {}
    if not ids:
        return latest
    for score in session.scalars(
        sa.select(Score).where(Score.line_item_id.in_(ids)).order_by(Score.id)
    ):
        latest[(score.line_item_id, score.user_id)] = score
    return latest


# -- the gradebook page ------------------------------------------------------------------


@dataclass(frozen=True)
class Gradebook:
    """What the instructor's gradebook page shows, computed once."""

    learners: list[User]
    line_items: list[LineItem]
    latest: dict[tuple[int, int], Score]
    journal: list[Score]


def gradebook(session: Session, course: Course) -> Gradebook:
    """Gather the learners, the columns, each learner's last score and every score received."""
    learners = [e.user for e in course.enrolments if e.role == LEARNER]
    line_items = find_line_items(session, course)
    journal = list(
        session.scalars(
            sa.select(Score)
            .join(LineItem)
            .where(LineItem.course_id == course.id)
            .order_by(Score.id.desc())
        )
    )
    return Gradebook(learners, line_items, latest_scores(session, line_items), journal)
